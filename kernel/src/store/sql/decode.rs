//! Rows as Lua tables keyed by column name, with typed values: integers, floats, booleans,
//! strings, byte strings, nil for NULL (the key is absent). DECIMAL/NUMERIC come back as an
//! integer when they are whole and fit, otherwise as their exact decimal text; dates and times
//! as ISO-style text. Anything else raises, naming the column and its type.

use super::SqlError;
use crate::lua::seri::Writer;
use sqlx::mysql::types::MySqlTime;
use sqlx::mysql::MySqlRow;
use sqlx::postgres::{PgRow, PgValueFormat};
use sqlx::sqlite::SqliteRow;
use sqlx::types::time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use sqlx::{Column, Row, TypeInfo, ValueRef};
use std::borrow::Cow;

/// One column value on its way to Lua.
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Cow<'a, [u8]>),
}

impl Cell<'_> {
    fn text(s: String) -> Cell<'static> {
        Cell::Text(Cow::Owned(s.into_bytes()))
    }

    /// Exact decimal text: an integer when it has no fraction and fits in 64 bits.
    fn decimal(s: String) -> Cell<'static> {
        match s.parse::<i64>() {
            Ok(i) => Cell::Int(i),
            Err(_) => Cell::text(s),
        }
    }
}

fn fail(row: &impl Row, i: usize, why: impl std::fmt::Display) -> SqlError {
    let col = &row.columns()[i];
    SqlError::Decode {
        column: col.name().to_string(),
        ty: col.type_info().name().to_string(),
        why: why.to_string(),
    }
}

fn date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

fn time(t: Time) -> String {
    let base = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
    match t.microsecond() {
        0 => base,
        us => format!("{base}.{us:06}"),
    }
}

fn datetime(dt: PrimitiveDateTime) -> String {
    format!("{} {}", date(dt.date()), time(dt.time()))
}

fn datetime_utc(dt: OffsetDateTime) -> String {
    let u = dt.to_offset(UtcOffset::UTC);
    format!("{} {}+00:00", date(u.date()), time(u.time()))
}

pub fn sqlite_cell(row: &SqliteRow, i: usize) -> Result<Cell<'_>, SqlError> {
    let raw = row.try_get_raw(i).map_err(|e| fail(row, i, e))?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    // SQLite types values, not columns: read what is stored; a declared BOOLEAN reads as one.
    let stored = raw.type_info().name().to_string();
    let declared = row.columns()[i].type_info().name().to_ascii_uppercase();
    let get_err = |e| fail(row, i, e);
    Ok(match stored.as_str() {
        "INTEGER" | "BOOLEAN" => {
            let v: i64 = row.try_get_unchecked(i).map_err(get_err)?;
            if declared == "BOOLEAN" || declared == "BOOL" {
                Cell::Bool(v != 0)
            } else {
                Cell::Int(v)
            }
        }
        "REAL" => Cell::Float(row.try_get_unchecked(i).map_err(get_err)?),
        _ => Cell::Text(Cow::Borrowed(
            row.try_get_unchecked::<&[u8], _>(i).map_err(get_err)?,
        )),
    })
}

pub fn mysql_cell(row: &MySqlRow, i: usize) -> Result<Cell<'_>, SqlError> {
    let raw = row.try_get_raw(i).map_err(|e| fail(row, i, e))?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let ty = row.columns()[i].type_info().name();
    let e = |e| fail(row, i, e);
    Ok(match ty {
        "BOOLEAN" => Cell::Bool(row.try_get_unchecked::<i8, _>(i).map_err(e)? != 0),
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" | "YEAR" => {
            Cell::Int(row.try_get_unchecked(i).map_err(e)?)
        }
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "INT UNSIGNED" | "MEDIUMINT UNSIGNED"
        | "BIGINT UNSIGNED" => {
            let v: u64 = row.try_get_unchecked(i).map_err(e)?;
            i64::try_from(v).map_or_else(|_| Cell::text(v.to_string()), Cell::Int)
        }
        "FLOAT" => Cell::Float(row.try_get_unchecked::<f32, _>(i).map_err(e)? as f64),
        "DOUBLE" => Cell::Float(row.try_get_unchecked(i).map_err(e)?),
        "DECIMAL" => Cell::decimal(row.try_get_unchecked::<String, _>(i).map_err(e)?),
        "DATE" => Cell::text(date(row.try_get_unchecked(i).map_err(e)?)),
        "DATETIME" | "TIMESTAMP" => Cell::text(datetime(row.try_get_unchecked(i).map_err(e)?)),
        "TIME" => Cell::text(
            row.try_get_unchecked::<MySqlTime, _>(i)
                .map_err(e)?
                .to_string(),
        ),
        "NULL" => Cell::Null,
        // Text, binary, ENUM, SET, JSON, BIT, GEOMETRY: the bytes as sent.
        _ => Cell::Text(Cow::Borrowed(
            row.try_get_unchecked::<&[u8], _>(i).map_err(e)?,
        )),
    })
}

pub fn postgres_cell(row: &PgRow, i: usize) -> Result<Cell<'_>, SqlError> {
    let raw = row.try_get_raw(i).map_err(|e| fail(row, i, e))?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let ty = raw.type_info().name().to_string();
    let e = |e| fail(row, i, e);
    let bytes = || raw.as_bytes().map_err(|x| fail(row, i, x));
    Ok(match ty.as_str() {
        "BOOL" => Cell::Bool(row.try_get_unchecked(i).map_err(e)?),
        "INT2" => Cell::Int(row.try_get_unchecked::<i16, _>(i).map_err(e)? as i64),
        "INT4" => Cell::Int(row.try_get_unchecked::<i32, _>(i).map_err(e)? as i64),
        "INT8" => Cell::Int(row.try_get_unchecked(i).map_err(e)?),
        "OID" => Cell::Int(
            row.try_get_unchecked::<sqlx::postgres::types::Oid, _>(i)
                .map_err(e)?
                .0 as i64,
        ),
        "FLOAT4" => Cell::Float(row.try_get_unchecked::<f32, _>(i).map_err(e)? as f64),
        "FLOAT8" => Cell::Float(row.try_get_unchecked(i).map_err(e)?),
        "NUMERIC" if raw.format() == PgValueFormat::Binary => {
            Cell::decimal(pg_numeric(bytes()?).ok_or_else(|| fail(row, i, "malformed NUMERIC"))?)
        }
        "DATE" => Cell::text(date(row.try_get_unchecked(i).map_err(e)?)),
        "TIME" => Cell::text(time(row.try_get_unchecked(i).map_err(e)?)),
        "TIMESTAMP" => Cell::text(datetime(row.try_get_unchecked(i).map_err(e)?)),
        "TIMESTAMPTZ" => Cell::text(datetime_utc(row.try_get_unchecked(i).map_err(e)?)),
        "UUID" => Cell::text(uuid(bytes()?).ok_or_else(|| fail(row, i, "malformed UUID"))?),
        "VOID" => Cell::Null,
        // jsonb's binary form is a version byte (1) and the JSON text.
        "JSONB" if raw.format() == PgValueFormat::Binary => match bytes()? {
            [1, rest @ ..] => Cell::Text(Cow::Borrowed(rest)),
            _ => return Err(fail(row, i, "unknown jsonb format version")),
        },
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CITEXT" | "UNKNOWN" | "JSON" | "XML"
        | "BYTEA" => Cell::Text(Cow::Borrowed(bytes()?)),
        _ if raw.format() == PgValueFormat::Text => Cell::Text(Cow::Borrowed(bytes()?)),
        _ => {
            return Err(fail(
                row,
                i,
                "no Lua mapping for this type; cast it in SQL (e.g. col::text)",
            ))
        }
    })
}

/// PostgreSQL's binary NUMERIC: base-10000 digit groups with a weight, sign and display scale.
fn pg_numeric(b: &[u8]) -> Option<String> {
    let be16 = |at: usize| b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]));
    let (ndigits, weight, sign, dscale) = (
        be16(0)? as usize,
        be16(2)? as i16 as i64,
        be16(4)?,
        be16(6)? as usize,
    );
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|k| be16(8 + 2 * k))
        .collect::<Option<_>>()?;
    let group = |idx: i64| {
        if idx >= 0 && (idx as usize) < digits.len() {
            digits[idx as usize]
        } else {
            0
        }
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        s.push_str(&group(0).to_string());
        for idx in 1..=weight {
            s.push_str(&format!("{:04}", group(idx)));
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let mut idx = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", group(idx)));
            idx += 1;
        }
        frac.truncate(dscale);
        s.push('.');
        s.push_str(&frac);
    }
    if s == "-0" {
        s.remove(0);
    }
    Some(s)
}

fn uuid(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

fn write_cell(w: &mut Writer, c: &Cell) {
    match c {
        Cell::Null => w.nil(),
        Cell::Bool(b) => w.boolean(*b),
        Cell::Int(i) => w.integer(*i),
        Cell::Float(f) => w.real(*f),
        Cell::Text(t) => w.string(t),
    }
}

/// `true, {row, ...}`: each row a table of column name -> value (NULL columns absent).
pub fn rows_packet<R: Row>(
    rows: &[R],
    cell: for<'r> fn(&'r R, usize) -> Result<Cell<'r>, SqlError>,
) -> Result<Vec<u8>, SqlError> {
    let mut w = crate::store::ok_writer();
    w.table_begin(rows.len());
    let names: Vec<&str> = rows
        .first()
        .map(|r| r.columns().iter().map(|c| c.name()).collect())
        .unwrap_or_default();
    for row in rows {
        w.table_begin(0);
        for (i, name) in names.iter().enumerate() {
            let c = cell(row, i)?;
            if !matches!(c, Cell::Null) {
                w.string(name.as_bytes());
                write_cell(&mut w, &c);
            }
        }
        w.table_end();
    }
    w.table_end();
    Ok(w.finish())
}

/// `true, affected_rows, last_insert_id` (the id is nil where the backend has none).
pub fn exec_packet(affected: u64, last_id: Option<i64>) -> Vec<u8> {
    let mut w = crate::store::ok_writer();
    w.integer(affected as i64);
    match last_id {
        Some(id) if id != 0 => w.integer(id),
        _ => w.nil(),
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::pg_numeric;

    fn num(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [ndigits, weight as u16, sign, dscale]
            .into_iter()
            .chain(digits.iter().copied())
        {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b
    }

    #[test]
    fn numeric_text() {
        assert_eq!(pg_numeric(&num(2, 0, 0, 2, &[12, 3400])).unwrap(), "12.34");
        assert_eq!(
            pg_numeric(&num(2, 1, 0x4000, 0, &[1, 2])).unwrap(),
            "-10002"
        );
        assert_eq!(pg_numeric(&num(1, -1, 0, 5, &[500])).unwrap(), "0.05000");
        assert_eq!(pg_numeric(&num(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(pg_numeric(&num(1, 2, 0, 0, &[7])).unwrap(), "700000000");
        assert_eq!(pg_numeric(&num(1, -2, 0, 8, &[15])).unwrap(), "0.00000015");
    }
}
