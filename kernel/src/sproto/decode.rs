//! Wire format -> [`Struct`]. Every length is checked against the bytes that remain, and
//! allocations are sized from the input, so hostile input yields an error, never a panic
//! or an outsized allocation.

use super::error::DecodeError;
use super::schema::{Field, FieldType, Sproto, Type, MAX_DEPTH};
use super::value::{Struct, Value};
use bytes::Bytes;

#[inline]
pub(crate) fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

#[inline]
pub(crate) fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The input ended before a length or header said it would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Truncated;

/// Where a field's value lives: inline in its 16-bit record, or in the data part.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slot<'a> {
    Inline(i64),
    Data(&'a [u8]),
}

/// The (tag, slot) pairs of one encoded struct, skip records already applied.
pub(crate) struct Fields<'a> {
    data: &'a [u8],
    count: usize,
    next: usize,
    tag: i64,
    pos: usize,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Result<Self, Truncated> {
        if data.len() < 2 {
            return Err(Truncated);
        }
        let count = usize::from(read_u16(data, 0));
        let pos = 2 + count * 2;
        if data.len() < pos {
            return Err(Truncated);
        }
        Ok(Fields {
            data,
            count,
            next: 0,
            tag: -1,
            pos,
        })
    }

    /// Field records in the header (an upper bound on the fields present).
    pub(crate) fn records(&self) -> usize {
        self.count
    }

    /// Bytes of header and data part read so far; the whole struct once iteration ends.
    pub(crate) fn consumed(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(i64, Slot<'a>), Truncated>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        while self.next < self.count {
            let v = read_u16(self.data, 2 + self.next * 2);
            self.next += 1;
            self.tag += 1;
            if v & 1 != 0 {
                // A skip record: (v + 1) / 2 tags are absent.
                self.tag += i64::from(v / 2);
                continue;
            }
            if v != 0 {
                return Some(Ok((self.tag, Slot::Inline(i64::from(v / 2) - 1))));
            }
            let rest = &self.data[self.pos..];
            if rest.len() < 4 {
                self.next = self.count;
                return Some(Err(Truncated));
            }
            let len = read_u32(rest, 0) as usize;
            if rest.len() - 4 < len {
                self.next = self.count;
                return Some(Err(Truncated));
            }
            self.pos += 4 + len;
            return Some(Ok((self.tag, Slot::Data(&rest[4..4 + len]))));
        }
        None
    }
}

/// Length-prefixed items of an array data part.
pub(crate) fn items(mut data: &[u8]) -> impl Iterator<Item = Result<&[u8], Truncated>> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        if data.len() < 4 || data.len() - 4 < read_u32(data, 0) as usize {
            data = &[];
            return Some(Err(Truncated));
        }
        let (item, rest) = data[4..].split_at(read_u32(data, 0) as usize);
        data = rest;
        Some(Ok(item))
    })
}

pub(crate) fn decode(sp: &Sproto, ty: usize, data: &Bytes) -> Result<(Struct, usize), DecodeError> {
    Decoder { sp, buf: data }.structure(ty, data, 0)
}

struct Decoder<'a> {
    sp: &'a Sproto,
    /// The whole message: strings are zero-copy slices of it.
    buf: &'a Bytes,
}

fn truncated(t: &Type) -> DecodeError {
    DecodeError::Truncated { ty: t.name.clone() }
}

fn invalid(t: &Type, f: &Field, reason: &'static str) -> DecodeError {
    DecodeError::Invalid {
        ty: t.name.clone(),
        field: f.name.to_string(),
        reason,
    }
}

#[inline]
fn integer(f: &Field, v: i64) -> Value {
    if f.decimal.is_some() {
        Value::Double(v as f64 / f.scale)
    } else {
        Value::Integer(v)
    }
}

impl Decoder<'_> {
    fn structure(
        &self,
        ty: usize,
        data: &[u8],
        depth: usize,
    ) -> Result<(Struct, usize), DecodeError> {
        let t = &self.sp.types()[ty];
        if depth >= MAX_DEPTH {
            return Err(DecodeError::TooDeep(MAX_DEPTH));
        }
        let mut fields = Fields::new(data).map_err(|_| truncated(t))?;
        let mut s = Struct::with_capacity(fields.records().min(t.fields.len()));
        for item in fields.by_ref() {
            let (tag, slot) = item.map_err(|_| truncated(t))?;
            let Some(fi) = t.field_by_tag(tag) else {
                continue; // a newer peer's field: ignored for compatibility
            };
            let f = &t.fields[fi];
            let name = f.name;
            // One push per arm (measured faster): merging the variants into one temporary makes the
            // compiler assemble it with narrow stores and copy it with wide loads, a
            // store-forwarding stall on every field.
            match slot {
                Slot::Inline(v) if !f.array && f.ty == FieldType::Integer => {
                    if f.decimal.is_some() {
                        s.push(name, Value::Double(v as f64 / f.scale));
                    } else {
                        s.push(name, Value::Integer(v));
                    }
                }
                Slot::Inline(v) if !f.array && f.ty == FieldType::Boolean => {
                    s.push(name, Value::Boolean(v != 0));
                }
                Slot::Inline(_) => {
                    return Err(invalid(t, f, "inline value for a non-integer field"))
                }
                Slot::Data(d) if f.array => s.push(name, self.array(t, f, d, depth)?),
                Slot::Data(d) => s.push(name, self.scalar(t, f, d, depth)?),
            }
        }
        Ok((s, fields.consumed()))
    }

    /// A nested struct must fill its data part exactly.
    fn element(
        &self,
        t: &Type,
        f: &Field,
        st: usize,
        d: &[u8],
        depth: usize,
    ) -> Result<Struct, DecodeError> {
        let (s, used) = self.structure(st, d, depth + 1)?;
        if used != d.len() {
            return Err(invalid(t, f, "struct length does not match its content"));
        }
        Ok(s)
    }

    fn scalar(&self, t: &Type, f: &Field, d: &[u8], depth: usize) -> Result<Value, DecodeError> {
        Ok(match f.ty {
            FieldType::Integer => match d.len() {
                4 => integer(f, i64::from(read_u32(d, 0) as i32)),
                8 => integer(f, i64::from_le_bytes(d.try_into().expect("8 bytes"))),
                _ => return Err(invalid(t, f, "integer must be 4 or 8 bytes")),
            },
            FieldType::Double => match d.try_into() {
                Ok(b) => Value::Double(f64::from_le_bytes(b)),
                Err(_) => return Err(invalid(t, f, "double must be 8 bytes")),
            },
            FieldType::String => Value::String(self.buf.slice_ref(d)),
            FieldType::Struct(st) => Value::Struct(self.element(t, f, st, d, depth)?),
            FieldType::Boolean => return Err(invalid(t, f, "boolean in the data part")),
        })
    }

    fn array(&self, t: &Type, f: &Field, d: &[u8], depth: usize) -> Result<Value, DecodeError> {
        if d.is_empty() {
            return Ok(if f.key.is_some() {
                Value::Map(Vec::new())
            } else {
                Value::Array(Vec::new())
            });
        }
        let items_err = |_| invalid(t, f, "array item overruns the array");
        Ok(match f.ty {
            FieldType::Integer => {
                let body = &d[1..];
                match d[0] {
                    4 if body.len().is_multiple_of(4) => Value::Array(
                        body.chunks_exact(4)
                            .map(|c| integer(f, i64::from(read_u32(c, 0) as i32)))
                            .collect(),
                    ),
                    8 if body.len().is_multiple_of(8) => Value::Array(
                        body.chunks_exact(8)
                            .map(|c| integer(f, i64::from_le_bytes(c.try_into().expect("8 bytes"))))
                            .collect(),
                    ),
                    _ => return Err(invalid(t, f, "bad integer array element size")),
                }
            }
            FieldType::Double => {
                let body = &d[1..];
                if d[0] != 8 || !body.len().is_multiple_of(8) {
                    return Err(invalid(t, f, "bad double array element size"));
                }
                Value::Array(
                    body.chunks_exact(8)
                        .map(|c| Value::Double(f64::from_le_bytes(c.try_into().expect("8 bytes"))))
                        .collect(),
                )
            }
            FieldType::Boolean => Value::Array(d.iter().map(|&b| Value::Boolean(b != 0)).collect()),
            FieldType::String => Value::Array(
                items(d)
                    .map(|r| r.map(|s| Value::String(self.buf.slice_ref(s))))
                    .collect::<Result<_, _>>()
                    .map_err(items_err)?,
            ),
            FieldType::Struct(st) if f.key.is_none() => {
                let mut list = Vec::new();
                for item in items(d) {
                    let s = self.element(t, f, st, item.map_err(items_err)?, depth)?;
                    list.push(Value::Struct(s));
                }
                Value::Array(list)
            }
            FieldType::Struct(st) => {
                let mut list = Vec::new();
                for item in items(d) {
                    list.push(self.element(t, f, st, item.map_err(items_err)?, depth)?);
                }
                self.keyed(t, f, st, list)?
            }
        })
    }

    /// `*Type(key)` -> key => struct; `*Type()` -> key => value.
    fn keyed(
        &self,
        t: &Type,
        f: &Field,
        st: usize,
        list: Vec<Struct>,
    ) -> Result<Value, DecodeError> {
        let elem = &self.sp.types()[st];
        let kname = elem.fields[f.key_index].name;
        let mut map = Vec::with_capacity(list.len());
        for s in list {
            if !f.map {
                let Some(k) = s.get(kname).cloned() else {
                    return Err(invalid(t, f, "element lacks its main index"));
                };
                map.push((k, Value::Struct(s)));
                continue;
            }
            let vname = elem.fields[f.value_index].name;
            let (mut k, mut v) = (None, None);
            for (n, val) in s.into_entries() {
                if n == kname {
                    k = Some(val);
                } else if n == vname {
                    v = Some(val);
                }
            }
            match (k, v) {
                (Some(k), Some(v)) => map.push((k, v)),
                (None, _) => return Err(invalid(t, f, "map entry lacks its key")),
                (_, None) => return Err(invalid(t, f, "map entry lacks its value")),
            }
        }
        Ok(Value::Map(map))
    }
}
