//! The binary schema bundle: what cloudwu's `sprotoparser.parse` returns and `sproto.new`
//! loads. It is itself a sproto message of this meta-schema:
//!
//! ```text
//! .type {
//!     .field {
//!         name 0 : string
//!         buildin 1 : integer   # 0 integer, 1 boolean, 2 string, 3 double
//!         type 2 : integer      # struct type index; precision for integer; 1 = binary
//!         tag 3 : integer
//!         array 4 : boolean
//!         key 5 : integer       # main index tag
//!         map 6 : boolean       # *Type(): two-field struct read as key -> value
//!     }
//!     name 0 : string
//!     fields 1 : *field
//! }
//! .protocol {
//!     name 0 : string
//!     tag 1 : integer
//!     request 2 : integer       # type index
//!     response 3 : integer      # type index
//!     confirm 4 : boolean       # response nil
//! }
//! .group {
//!     type 0 : *type
//!     protocol 1 : *protocol
//! }
//! ```
//!
//! The writer reproduces cloudwu's hand-rolled packer exactly (including its separate skip
//! records around `confirm`), so bundles compare equal byte for byte. The reader accepts any
//! valid encoding of the meta-schema.

use super::decode::{items, Fields, Slot};
use super::error::SchemaError;
use super::schema::{Field, FieldType, Protocol, Sproto, Type, MAX_DECIMAL};

/// A skip record for one absent tag.
const SKIP: [u8; 2] = [1, 0];
/// A record whose value is in the data part.
const DATA: [u8; 2] = [0, 0];

fn value(v: u16) -> [u8; 2] {
    ((v + 1) * 2).to_le_bytes()
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn write_field(f: &Field, out: &mut Vec<u8>) {
    let count: u16 = match (f.array, f.key.is_some(), f.map) {
        (false, _, _) => 4,
        (true, false, _) => 5,
        (true, true, false) => 6,
        (true, true, true) => 7,
    };
    let mut r = Vec::with_capacity(16 + f.name.len());
    r.extend_from_slice(&count.to_le_bytes());
    r.extend_from_slice(&DATA);
    match f.ty {
        FieldType::Struct(index) => {
            r.extend_from_slice(&SKIP);
            r.extend_from_slice(&value(index as u16));
        }
        builtin => {
            r.extend_from_slice(&value(builtin.builtin_code().expect("builtin")));
            let extra = match builtin {
                FieldType::Integer => f.decimal.map(u16::from),
                FieldType::String if f.binary => Some(1),
                _ => None,
            };
            r.extend_from_slice(&extra.map_or(SKIP, value));
        }
    }
    r.extend_from_slice(&value(f.tag));
    if f.array {
        r.extend_from_slice(&value(1));
        if let Some(key) = f.key {
            r.extend_from_slice(&value(key));
            if f.map {
                r.extend_from_slice(&value(1));
            }
        }
    }
    bytes(&mut r, f.name.as_bytes());
    bytes(out, &r);
}

fn write_type(t: &Type, out: &mut Vec<u8>) {
    let mut r = Vec::new();
    if t.fields.is_empty() {
        r.extend_from_slice(&[1, 0]);
        r.extend_from_slice(&DATA);
        bytes(&mut r, t.name.as_bytes());
    } else {
        r.extend_from_slice(&[2, 0]);
        r.extend_from_slice(&DATA);
        r.extend_from_slice(&DATA);
        bytes(&mut r, t.name.as_bytes());
        let mut fields = Vec::new();
        for f in &t.fields {
            write_field(f, &mut fields);
        }
        bytes(&mut r, &fields);
    }
    bytes(out, &r);
}

fn write_protocol(p: &Protocol, out: &mut Vec<u8>) {
    let mut r = vec![0, 0];
    r.extend_from_slice(&DATA);
    r.extend_from_slice(&value(p.tag));
    let count: u16 = if p.request.is_none() && p.response.is_none() && !p.confirm {
        2
    } else {
        r.extend_from_slice(&p.request.map_or(SKIP, |i| value(i as u16)));
        match p.response {
            Some(i) => {
                r.extend_from_slice(&value(i as u16));
                4
            }
            None if p.confirm => {
                r.extend_from_slice(&SKIP);
                r.extend_from_slice(&value(1));
                5
            }
            None => 3,
        }
    };
    r[..2].copy_from_slice(&count.to_le_bytes());
    bytes(&mut r, p.name.as_bytes());
    bytes(out, &r);
}

/// Serialize a schema as cloudwu's parser does.
pub(crate) fn write(sp: &Sproto) -> Vec<u8> {
    if sp.types().is_empty() && sp.protocols().is_empty() {
        return vec![0, 0];
    }
    let mut types = Vec::new();
    for t in sp.types() {
        write_type(t, &mut types);
    }
    let mut out = Vec::new();
    if sp.protocols().is_empty() {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&DATA);
        bytes(&mut out, &types);
    } else {
        let mut protos = Vec::new();
        for p in sp.protocols() {
            write_protocol(p, &mut protos);
        }
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&DATA);
        out.extend_from_slice(&DATA);
        bytes(&mut out, &types);
        bytes(&mut out, &protos);
    }
    out
}

fn bad<T>(what: impl Into<String>) -> Result<T, SchemaError> {
    Err(SchemaError(what.into()))
}

fn text(d: &[u8], what: &str) -> Result<String, SchemaError> {
    match std::str::from_utf8(d) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => bad(format!("{what} is not UTF-8")),
    }
}

/// The records of one meta-schema struct: `(tag, slot)` in tag order.
fn records<'a>(d: &'a [u8], what: &str) -> Result<Vec<(i64, Slot<'a>)>, SchemaError> {
    let fields = Fields::new(d).or_else(|_| bad(format!("truncated {what}")))?;
    fields
        .collect::<Result<Vec<_>, _>>()
        .or_else(|_| bad(format!("truncated {what}")))
}

fn list<'a>(d: &'a [u8], what: &str) -> Result<Vec<&'a [u8]>, SchemaError> {
    items(d)
        .collect::<Result<Vec<_>, _>>()
        .or_else(|_| bad(format!("truncated {what} list")))
}

fn small(v: i64, what: &str) -> Result<u16, SchemaError> {
    u16::try_from(v).or_else(|_| bad(format!("{what} out of range")))
}

fn read_field(d: &[u8], type_count: usize) -> Result<Field, SchemaError> {
    let (mut name, mut builtin, mut extra, mut tag) = (None, None, None, None);
    let (mut array, mut key, mut map) = (false, None, false);
    for (t, slot) in records(d, "field")? {
        let v = match (t, slot) {
            (0, Slot::Data(s)) => {
                name = Some(text(s, "field name")?);
                continue;
            }
            (_, Slot::Inline(v)) if t > 0 => v,
            _ => return bad(format!("field record {t} has the wrong shape")),
        };
        match t {
            1 if v < 4 => builtin = Some(v),
            1 => return bad(format!("unknown builtin type {v}")),
            2 => extra = Some(v),
            3 => tag = Some(small(v, "field tag")?),
            4 => array = v != 0,
            5 => key = Some(small(v, "main index")?),
            6 => map = v != 0,
            _ => return bad(format!("unknown field record {t}")),
        }
    }
    let (Some(name), Some(tag)) = (name, tag) else {
        return bad("field without name or tag");
    };
    let ty = match (builtin, extra) {
        (Some(0), _) => FieldType::Integer,
        (Some(1), None) => FieldType::Boolean,
        (Some(2), _) => FieldType::String,
        (Some(3), None) => FieldType::Double,
        (None, Some(i)) if (i as usize) < type_count => FieldType::Struct(i as usize),
        _ => return bad(format!("field {name} has an invalid type")),
    };
    let mut f = Field::new(&name, tag, ty);
    f.array = array;
    f.key = key;
    f.map = map;
    match (ty, extra) {
        (FieldType::Integer, Some(p)) if p <= i64::from(MAX_DECIMAL) => f.decimal = Some(p as u8),
        (FieldType::Integer, Some(_)) => return bad(format!("field {name}: precision too large")),
        (FieldType::String, Some(b)) => f.binary = b == 1,
        _ => {}
    }
    Ok(f)
}

fn read_type(d: &[u8], type_count: usize) -> Result<Type, SchemaError> {
    let (mut name, mut fields) = (None, Vec::new());
    for (t, slot) in records(d, "type")? {
        match (t, slot) {
            (0, Slot::Data(s)) => name = Some(text(s, "type name")?),
            (1, Slot::Data(s)) => {
                for f in list(s, "field")? {
                    fields.push(read_field(f, type_count)?);
                }
            }
            _ => return bad(format!("type record {t} has the wrong shape")),
        }
    }
    match name {
        Some(name) => Ok(Type::new(&name, fields)),
        None => bad("type without a name"),
    }
}

fn read_protocol(d: &[u8]) -> Result<Protocol, SchemaError> {
    let mut p = Protocol {
        name: String::new(),
        tag: 0,
        request: None,
        response: None,
        confirm: false,
    };
    let (mut named, mut tagged) = (false, false);
    for (t, slot) in records(d, "protocol")? {
        match (t, slot) {
            (0, Slot::Data(s)) => {
                p.name = text(s, "protocol name")?;
                named = true;
            }
            (1, Slot::Inline(v)) => {
                p.tag = small(v, "protocol tag")?;
                tagged = true;
            }
            (2, Slot::Inline(v)) => p.request = Some(v as usize),
            (3, Slot::Inline(v)) => p.response = Some(v as usize),
            (4, Slot::Inline(v)) => p.confirm = v != 0,
            _ => return bad(format!("protocol record {t} has the wrong shape")),
        }
    }
    if !named || !tagged {
        return bad("protocol without name or tag");
    }
    Ok(p)
}

/// Load a bundle. Type indices refer to bundle order, which is kept.
pub(crate) fn read(bin: &[u8]) -> Result<Sproto, SchemaError> {
    let (mut type_data, mut proto_data) = (None, None);
    for (t, slot) in records(bin, "bundle")? {
        match (t, slot) {
            (0, Slot::Data(s)) => type_data = Some(list(s, "type")?),
            (1, Slot::Data(s)) => proto_data = Some(list(s, "protocol")?),
            _ => return bad(format!("bundle record {t} has the wrong shape")),
        }
    }
    let type_data = type_data.unwrap_or_default();
    let mut types = Vec::with_capacity(type_data.len());
    for d in &type_data {
        types.push(read_type(d, type_data.len())?);
    }
    let mut protocols = Vec::new();
    for d in proto_data.unwrap_or_default() {
        protocols.push(read_protocol(d)?);
    }
    Sproto::build(types, protocols)
}
