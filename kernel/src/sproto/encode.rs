//! [`Struct`] -> wire format, written straight into one output buffer: nested structs and
//! arrays reserve a length prefix and patch it afterwards, so no field allocates.

use super::error::EncodeError;
use super::schema::{Field, FieldType, Sproto, Type, MAX_DEPTH};
use super::value::{Struct, Value};

pub(crate) fn encode(
    sp: &Sproto,
    ty: usize,
    s: &Struct,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    Encoder { sp }.structure(ty, s, out, 0)
}

/// The field-record header of one struct being written: sized for the worst case up front,
/// compacted once the records are known.
struct Header {
    start: usize,
    reserved: usize,
    records: usize,
    last_tag: i32,
}

impl Header {
    fn begin(t: &Type, out: &mut Vec<u8>) -> Header {
        let start = out.len();
        let reserved = 2 + t.maxn * 2;
        out.resize(start + reserved, 0);
        Header {
            start,
            reserved,
            records: 0,
            last_tag: -1,
        }
    }

    fn put(&mut self, out: &mut [u8], v: u16) {
        let at = self.start + 2 + self.records * 2;
        out[at..at + 2].copy_from_slice(&v.to_le_bytes());
        self.records += 1;
    }

    /// Record a field: a skip record first if tags were left out, then `value`
    /// (0 = in the data part, else the inline `(v + 1) * 2`).
    fn record(&mut self, out: &mut [u8], tag: u16, value: u16) {
        let gap = i32::from(tag) - self.last_tag - 1;
        if gap > 0 {
            self.put(out, ((gap - 1) * 2 + 1) as u16);
        }
        self.put(out, value);
        self.last_tag = i32::from(tag);
    }

    fn finish(self, out: &mut Vec<u8>) {
        out[self.start..self.start + 2].copy_from_slice(&(self.records as u16).to_le_bytes());
        let used = 2 + self.records * 2;
        if used < self.reserved {
            out.copy_within(self.start + self.reserved.., self.start + used);
            out.truncate(out.len() - (self.reserved - used));
        }
    }
}

/// Reserve a 4-byte length prefix; returns where to patch it.
fn open_len(out: &mut Vec<u8>) -> usize {
    out.extend_from_slice(&[0; 4]);
    out.len()
}

fn close_len(t: &Type, f: &Field, out: &mut [u8], body: usize) -> Result<(), EncodeError> {
    let len = out.len() - body;
    let Ok(n) = u32::try_from(len) else {
        return Err(EncodeError::TooLarge {
            ty: t.name.clone(),
            field: f.name.to_string(),
            len,
        });
    };
    out[body - 4..body].copy_from_slice(&n.to_le_bytes());
    Ok(())
}

fn mismatch(t: &Type, f: &Field, expected: &'static str, got: &Value) -> EncodeError {
    EncodeError::Mismatch {
        ty: t.name.clone(),
        field: f.name.to_string(),
        expected,
        got: got.kind(),
    }
}

/// Does a struct entry's name match a schema field? Decoded and Lua-built structs share the
/// interned name, so the pointer test usually decides; literals are compared inline, since
/// a `memcmp` call per field would dominate encoding.
#[inline]
fn same(field: &'static str, name: &str) -> bool {
    let (a, b) = (field.as_bytes(), name.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if std::ptr::eq(a.as_ptr(), b.as_ptr()) {
        return true;
    }
    // Overlapping head and tail words cover every length up to 16.
    let n = a.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

#[inline]
fn fits_i32(v: i64) -> bool {
    i32::try_from(v).is_ok()
}

/// An integer field value as Lua's `sproto.encode` takes it: integers, integral floats, and
/// for `integer(N)` any number scaled by 10^N and rounded half away from zero.
#[inline]
fn integer(t: &Type, f: &Field, v: &Value) -> Result<i64, EncodeError> {
    match *v {
        Value::Integer(i) if f.decimal.is_none() => Ok(i),
        Value::Integer(i) => Ok((i as f64 * f.scale).round() as i64),
        Value::Double(x) if f.decimal.is_some() => Ok((x * f.scale).round() as i64),
        Value::Double(x) if x.fract() == 0.0 && x >= -(2f64.powi(63)) && x < 2f64.powi(63) => {
            Ok(x as i64)
        }
        _ => Err(mismatch(t, f, "integer", v)),
    }
}

#[inline]
fn double(t: &Type, f: &Field, v: &Value) -> Result<f64, EncodeError> {
    v.as_double().ok_or_else(|| mismatch(t, f, "double", v))
}

struct Encoder<'a> {
    sp: &'a Sproto,
}

impl Encoder<'_> {
    fn structure(
        &self,
        ty: usize,
        s: &Struct,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<(), EncodeError> {
        if depth >= MAX_DEPTH {
            return Err(EncodeError::TooDeep(MAX_DEPTH));
        }
        let t = &self.sp.types()[ty];
        let start = out.len();
        let mut h = Header::begin(t, out);
        // Fast path: fields in schema order (decoded or built from the schema) are matched
        // by a single forward scan.
        let mut next = 0;
        let mut ordered = true;
        for (name, v) in s.entries() {
            match t.fields[next..].iter().position(|f| same(f.name, name)) {
                Some(p) => {
                    self.field(t, next + p, v, &mut h, out, depth)?;
                    next += p + 1;
                }
                None => {
                    ordered = false;
                    break;
                }
            }
        }
        if !ordered {
            out.truncate(start);
            let mut order = Vec::with_capacity(s.len());
            for (name, v) in s.entries() {
                let Some(fi) = t.fields.iter().position(|f| same(f.name, name)) else {
                    return Err(EncodeError::UnknownField {
                        ty: t.name.clone(),
                        field: name.to_string(),
                    });
                };
                order.push((fi, v));
            }
            order.sort_unstable_by_key(|e| e.0);
            h = Header::begin(t, out);
            for (fi, v) in order {
                self.field(t, fi, v, &mut h, out, depth)?;
            }
        }
        h.finish(out);
        Ok(())
    }

    fn field(
        &self,
        t: &Type,
        fi: usize,
        v: &Value,
        h: &mut Header,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<(), EncodeError> {
        let f = &t.fields[fi];
        let mut inline = 0;
        if f.array {
            let body = open_len(out);
            self.array(t, f, v, out, depth)?;
            close_len(t, f, out, body)?;
        } else {
            match f.ty {
                FieldType::Integer => {
                    let n = integer(t, f, v)?;
                    if (0..0x7fff).contains(&n) {
                        inline = ((n + 1) * 2) as u16;
                    } else if fits_i32(n) {
                        out.extend_from_slice(&4u32.to_le_bytes());
                        out.extend_from_slice(&(n as i32).to_le_bytes());
                    } else {
                        out.extend_from_slice(&8u32.to_le_bytes());
                        out.extend_from_slice(&n.to_le_bytes());
                    }
                }
                FieldType::Boolean => match v {
                    Value::Boolean(b) => inline = if *b { 4 } else { 2 },
                    _ => return Err(mismatch(t, f, "boolean", v)),
                },
                FieldType::Double => {
                    out.extend_from_slice(&8u32.to_le_bytes());
                    out.extend_from_slice(&double(t, f, v)?.to_le_bytes());
                }
                FieldType::String => {
                    let Value::String(b) = v else {
                        return Err(mismatch(t, f, "string", v));
                    };
                    let body = open_len(out);
                    out.extend_from_slice(b);
                    close_len(t, f, out, body)?;
                }
                FieldType::Struct(st) => {
                    let Value::Struct(s) = v else {
                        return Err(mismatch(t, f, "struct", v));
                    };
                    let body = open_len(out);
                    self.structure(st, s, out, depth + 1)?;
                    close_len(t, f, out, body)?;
                }
            }
        }
        h.record(out, f.tag, inline);
        Ok(())
    }

    /// The body of an array field (its length prefix is handled by the caller).
    fn array(
        &self,
        t: &Type,
        f: &Field,
        v: &Value,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<(), EncodeError> {
        if let (FieldType::Struct(st), Some(_)) = (f.ty, f.key) {
            return self.keyed(t, f, st, v, out, depth);
        }
        let Value::Array(items) = v else {
            return Err(mismatch(t, f, "array", v));
        };
        match f.ty {
            FieldType::Integer if !items.is_empty() => {
                let mut wide = false;
                for x in items {
                    wide |= !fits_i32(integer(t, f, x)?);
                }
                out.push(if wide { 8 } else { 4 });
                for x in items {
                    let n = integer(t, f, x)?;
                    if wide {
                        out.extend_from_slice(&n.to_le_bytes());
                    } else {
                        out.extend_from_slice(&(n as i32).to_le_bytes());
                    }
                }
            }
            FieldType::Integer => {}
            FieldType::Double if !items.is_empty() => {
                out.push(8);
                for x in items {
                    out.extend_from_slice(&double(t, f, x)?.to_le_bytes());
                }
            }
            FieldType::Double => {}
            FieldType::Boolean => {
                for x in items {
                    match x {
                        Value::Boolean(b) => out.push(u8::from(*b)),
                        _ => return Err(mismatch(t, f, "boolean", x)),
                    }
                }
            }
            FieldType::String => {
                for x in items {
                    let Value::String(b) = x else {
                        return Err(mismatch(t, f, "string", x));
                    };
                    let body = open_len(out);
                    out.extend_from_slice(b);
                    close_len(t, f, out, body)?;
                }
            }
            FieldType::Struct(st) => {
                for x in items {
                    self.element(t, f, st, x, out, depth)?;
                }
            }
        }
        Ok(())
    }

    fn element(
        &self,
        t: &Type,
        f: &Field,
        st: usize,
        x: &Value,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<(), EncodeError> {
        let Value::Struct(s) = x else {
            return Err(mismatch(t, f, "struct", x));
        };
        let body = open_len(out);
        self.structure(st, s, out, depth + 1)?;
        close_len(t, f, out, body)
    }

    /// `*Type(key)` takes structs (map values, or a plain list); `*Type()` takes key => value
    /// pairs and writes each as a two-field struct. Like cloudwu, keys of a main-index map
    /// are not checked against the structs' own key field.
    fn keyed(
        &self,
        t: &Type,
        f: &Field,
        st: usize,
        v: &Value,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<(), EncodeError> {
        match v {
            Value::Array(items) => {
                for x in items {
                    self.element(t, f, st, x, out, depth)?;
                }
            }
            Value::Map(pairs) if !f.map => {
                for (_, x) in pairs {
                    self.element(t, f, st, x, out, depth)?;
                }
            }
            Value::Map(pairs) => {
                if depth + 1 >= MAX_DEPTH {
                    return Err(EncodeError::TooDeep(MAX_DEPTH));
                }
                let elem = &self.sp.types()[st];
                let mut slots = [(f.key_index, 0), (f.value_index, 1)];
                slots.sort_unstable();
                for (k, x) in pairs {
                    let body = open_len(out);
                    let mut h = Header::begin(elem, out);
                    for (fi, which) in slots {
                        let val = if which == 0 { k } else { x };
                        self.field(elem, fi, val, &mut h, out, depth + 1)?;
                    }
                    h.finish(out);
                    close_len(t, f, out, body)?;
                }
            }
            _ => return Err(mismatch(t, f, "map", v)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn name_comparison_covers_every_byte() {
        let names = [
            "a",
            "ab",
            "abc",
            "abcd",
            "abcdefg",
            "abcdefgh",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
        ];
        for a in names {
            let copy = a.to_string(); // another pointer: the content comparison must decide
            assert!(same(a, &copy), "{a}");
            for i in 0..a.len() {
                let mut b = a.as_bytes().to_vec();
                b[i] ^= 0x20;
                assert!(
                    !same(a, std::str::from_utf8(&b).unwrap()),
                    "{a} vs byte {i}"
                );
            }
            assert!(!same(a, &format!("{a}x")));
        }
    }
}
