//! The compiled schema: types with tag-sorted fields and protocols sorted by tag, validated
//! once so the codec can index without re-checking.

use super::error::{DecodeError, EncodeError, SchemaError};
use super::value::Struct;
use super::{bundle, decode, encode, parser, ParseError};
use bytes::Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

/// Nesting limit for encode and decode (cloudwu's `ENCODE_DEEPLEVEL`).
pub const MAX_DEPTH: usize = 64;
/// Largest tag a schema may use: tags travel as `(tag + 1) * 2` in a 16-bit word.
pub const MAX_TAG: u32 = 32766;
/// Largest `integer(N)` precision: cloudwu scales with a C `int` power of ten.
pub const MAX_DECIMAL: u8 = 9;

/// The element kind of a field; array-ness is [`Field::array`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Integer,
    Boolean,
    String,
    Double,
    /// Index into [`Sproto::types`].
    Struct(usize),
}

impl FieldType {
    /// The builtin code used in the binary bundle (`None` for structs).
    pub(crate) fn builtin_code(self) -> Option<u16> {
        match self {
            FieldType::Integer => Some(0),
            FieldType::Boolean => Some(1),
            FieldType::String => Some(2),
            FieldType::Double => Some(3),
            FieldType::Struct(_) => None,
        }
    }
}

/// Intern a field name for the life of the process. Decoded structs then carry a
/// `&'static str` per field, which costs nothing to copy or drop (a shared pointer would
/// cost two atomic operations per field per message). Field names are few and repeat
/// across schema reloads, so the set stays small.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(&known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into());
    names.insert(leaked);
    leaked
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Interned: see [`intern`].
    pub name: &'static str,
    pub tag: u16,
    pub ty: FieldType,
    pub array: bool,
    /// Declared `binary` rather than `string`: same wire format, recorded in the bundle.
    pub binary: bool,
    /// `integer(N)`: travels as `round(x * 10^N)`, seen as a float by Lua.
    pub decimal: Option<u8>,
    /// `*Type(key)` / `*Type()`: tag of the element field that keys the map.
    pub key: Option<u16>,
    /// `*Type()`: a two-field element decoded as `key -> value`.
    pub map: bool,
    pub(crate) scale: f64,
    pub(crate) key_index: usize,
    pub(crate) value_index: usize,
}

impl Field {
    pub(crate) fn new(name: &str, tag: u16, ty: FieldType) -> Self {
        Field {
            name: intern(name),
            tag,
            ty,
            array: false,
            binary: false,
            decimal: None,
            key: None,
            map: false,
            scale: 1.0,
            key_index: 0,
            value_index: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Type {
    /// Full dotted name (`Person.PhoneNumber`, `login.request`).
    pub name: String,
    /// Sorted by ascending tag.
    pub fields: Vec<Field>,
    /// First tag when tags are contiguous, so lookup is an index.
    pub(crate) base: Option<u16>,
    /// Field records needed in the worst case: fields plus tag gaps.
    pub(crate) maxn: usize,
}

impl Type {
    pub(crate) fn new(name: &str, fields: Vec<Field>) -> Self {
        Type {
            name: name.to_string(),
            fields,
            base: None,
            maxn: 0,
        }
    }

    /// Index of the field carrying `tag`.
    #[inline]
    pub(crate) fn field_by_tag(&self, tag: i64) -> Option<usize> {
        if let Some(base) = self.base {
            let i = tag - i64::from(base);
            return (i >= 0 && (i as usize) < self.fields.len()).then_some(i as usize);
        }
        let tag = u16::try_from(tag).ok()?;
        self.fields.binary_search_by_key(&tag, |f| f.tag).ok()
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    pub name: String,
    pub tag: u16,
    pub request: Option<usize>,
    pub response: Option<usize>,
    /// `response nil`: the peer answers with an empty response.
    pub confirm: bool,
}

/// A compiled schema, shareable across threads and Lua states.
#[derive(Debug, Clone, PartialEq)]
pub struct Sproto {
    types: Vec<Type>,
    protocols: Vec<Protocol>,
    type_index: HashMap<String, usize>,
    proto_index: HashMap<String, usize>,
}

impl Sproto {
    /// Compile schema text (what cloudwu's `sprotoparser.parse` accepts).
    pub fn parse(text: &str) -> Result<Sproto, ParseError> {
        parser::parse(text)
    }

    /// Load a binary bundle produced by cloudwu's `sprotoparser.parse` or [`Sproto::to_bundle`].
    pub fn from_bundle(bin: &[u8]) -> Result<Sproto, SchemaError> {
        bundle::read(bin)
    }

    /// The binary bundle, byte-identical to cloudwu's `sprotoparser.parse` output.
    pub fn to_bundle(&self) -> Vec<u8> {
        bundle::write(self)
    }

    pub fn types(&self) -> &[Type] {
        &self.types
    }

    /// Protocols sorted by tag.
    pub fn protocols(&self) -> &[Protocol] {
        &self.protocols
    }

    pub fn type_id(&self, name: &str) -> Option<usize> {
        self.type_index.get(name).copied()
    }

    pub fn type_by_name(&self, name: &str) -> Option<&Type> {
        self.type_id(name).map(|i| &self.types[i])
    }

    pub fn protocol(&self, name: &str) -> Option<&Protocol> {
        self.proto_index.get(name).map(|&i| &self.protocols[i])
    }

    pub fn protocol_by_tag(&self, tag: i64) -> Option<&Protocol> {
        let tag = u16::try_from(tag).ok()?;
        let i = self.protocols.binary_search_by_key(&tag, |p| p.tag).ok()?;
        Some(&self.protocols[i])
    }

    /// Encode `value` as a message of type `ty` (unpacked wire format).
    pub fn encode(&self, ty: &str, value: &Struct) -> Result<Vec<u8>, EncodeError> {
        let id = self
            .type_id(ty)
            .ok_or_else(|| EncodeError::UnknownType(ty.to_string()))?;
        let mut out = Vec::with_capacity(64);
        self.encode_into(id, value, &mut out)?;
        Ok(out)
    }

    /// Append the encoding of `value` (type index `ty`) to `out`; reuse `out` to avoid
    /// allocating per message.
    pub fn encode_into(
        &self,
        ty: usize,
        value: &Struct,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        encode::encode(self, ty, value, out)
    }

    /// Decode a message of type `ty`; returns the struct and the bytes consumed (trailing
    /// bytes, such as 0-pack padding or an RPC body, are left alone).
    pub fn decode(&self, ty: &str, data: &Bytes) -> Result<(Struct, usize), DecodeError> {
        let id = self
            .type_id(ty)
            .ok_or_else(|| DecodeError::UnknownType(ty.to_string()))?;
        self.decode_type(id, data)
    }

    /// [`Sproto::decode`] by type index. Strings in the result share `data`'s buffer.
    pub fn decode_type(&self, ty: usize, data: &Bytes) -> Result<(Struct, usize), DecodeError> {
        decode::decode(self, ty, data)
    }

    /// Validate definitions and precompute lookups. Types are kept in the given order
    /// (bundle order); protocols are sorted by tag.
    pub(crate) fn build(
        mut types: Vec<Type>,
        mut protocols: Vec<Protocol>,
    ) -> Result<Sproto, SchemaError> {
        let err = |m: String| Err(SchemaError(m));
        if types.len() > MAX_TAG as usize + 1 {
            return err(format!(
                "{} types exceed the bundle's index range",
                types.len()
            ));
        }
        let mut type_index = HashMap::with_capacity(types.len());
        for (i, t) in types.iter().enumerate() {
            if type_index.insert(t.name.clone(), i).is_some() {
                return err(format!("duplicate type {}", t.name));
            }
        }
        for i in 0..types.len() {
            let (ty_name, n) = (types[i].name.clone(), types[i].fields.len());
            for j in 0..n {
                let f = &types[i].fields[j];
                if j > 0 && f.tag <= types[i].fields[j - 1].tag {
                    return err(format!("{ty_name}: field tags must ascend ({})", f.tag));
                }
                if types[i].fields[..j].iter().any(|g| g.name == f.name) {
                    return err(format!("{ty_name}: duplicate field {}", f.name));
                }
                let (key_index, value_index) = check_field(&types, &ty_name, f)?;
                let f = &mut types[i].fields[j];
                f.scale = f.decimal.map_or(1.0, |d| 10f64.powi(i32::from(d)));
                f.key_index = key_index;
                f.value_index = value_index;
            }
            let t = &mut types[i];
            let gaps = t
                .fields
                .iter()
                .scan(-1i32, |last, f| {
                    let gap = i32::from(f.tag) > *last + 1;
                    *last = i32::from(f.tag);
                    Some(gap as usize)
                })
                .sum::<usize>();
            t.maxn = t.fields.len() + gaps;
            t.base = match (t.fields.first(), t.fields.last()) {
                (Some(a), Some(b)) if usize::from(b.tag - a.tag) + 1 == t.fields.len() => {
                    Some(a.tag)
                }
                _ => None,
            };
        }
        protocols.sort_by_key(|p| p.tag);
        let mut proto_index = HashMap::with_capacity(protocols.len());
        for (i, p) in protocols.iter().enumerate() {
            if i > 0 && protocols[i - 1].tag == p.tag {
                return err(format!("duplicate protocol tag {}", p.tag));
            }
            if proto_index.insert(p.name.clone(), i).is_some() {
                return err(format!("duplicate protocol {}", p.name));
            }
            for t in [p.request, p.response].into_iter().flatten() {
                if t >= types.len() {
                    return err(format!("protocol {}: type index {t} out of range", p.name));
                }
            }
        }
        Ok(Sproto {
            types,
            protocols,
            type_index,
            proto_index,
        })
    }
}

/// Check one field against the rest of the schema; returns (key index, value index) in the
/// element type for keyed arrays.
fn check_field(types: &[Type], ty: &str, f: &Field) -> Result<(usize, usize), SchemaError> {
    let fail = |m: &str| Err(SchemaError(format!("{ty}.{}: {m}", f.name)));
    if u32::from(f.tag) > MAX_TAG {
        return fail("tag too large");
    }
    if f.decimal.is_some() && f.ty != FieldType::Integer {
        return fail("a precision needs an integer field");
    }
    if f.decimal.is_some_and(|d| d > MAX_DECIMAL) {
        return fail("precision above 9");
    }
    if f.binary && f.ty != FieldType::String {
        return fail("binary flag on a non-string field");
    }
    let Some(key) = f.key else {
        return if f.map {
            fail("map without key")
        } else {
            Ok((0, 0))
        };
    };
    let FieldType::Struct(st) = f.ty else {
        return fail("a main index needs an array of structs");
    };
    let Some(elem) = types.get(st) else {
        return fail("type index out of range");
    };
    if !f.array {
        return fail("a main index needs an array of structs");
    }
    let Some(ki) = elem.fields.iter().position(|g| g.tag == key) else {
        return fail("main index is not a field of the element type");
    };
    let k = &elem.fields[ki];
    if k.array || matches!(k.ty, FieldType::Struct(_)) {
        return fail("main index must be a non-array builtin field");
    }
    if !f.map {
        return Ok((ki, 0));
    }
    if elem.fields.len() != 2 {
        return fail("a *Type() map needs a type with exactly two fields");
    }
    Ok((ki, 1 - ki))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_tags_index_directly_and_gaps_binary_search() {
        let sp =
            Sproto::parse(".A { a 0 : integer b 1 : integer } .B { a 1 : integer b 5 : integer }")
                .unwrap();
        let a = sp.type_by_name("A").unwrap();
        assert_eq!((a.base, a.maxn), (Some(0), 2));
        assert_eq!(a.field_by_tag(1), Some(1));
        assert_eq!(a.field_by_tag(2), None);
        let b = sp.type_by_name("B").unwrap();
        assert_eq!((b.base, b.maxn), (None, 4));
        assert_eq!(b.field_by_tag(5), Some(1));
        assert_eq!(b.field_by_tag(3), None);
    }

    #[test]
    fn build_rejects_unsorted_tags_and_bad_keys() {
        let mut f1 = Field::new("a", 3, FieldType::Integer);
        let f2 = Field::new("b", 1, FieldType::Integer);
        let e = Sproto::build(vec![Type::new("T", vec![f1.clone(), f2])], vec![]).unwrap_err();
        assert!(e.0.contains("ascend"), "{e}");
        f1.key = Some(3);
        f1.array = true;
        let e = Sproto::build(vec![Type::new("T", vec![f1])], vec![]).unwrap_err();
        assert!(e.0.contains("array of structs"), "{e}");
    }
}
