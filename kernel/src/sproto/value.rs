//! Decoded messages as plain Rust data, usable without Lua (gate, tools, benchmarks).
//!
//! Field names are `&'static str`: decoded structs carry the schema's interned names (no
//! allocation, no reference count per field), structs built in Rust use string literals.
//! A name only known at run time can be looked up in the schema: `Type::field(name)`.

use bytes::Bytes;

/// A field name: the schema's interned name when decoded, usually a literal when built.
pub type Name = &'static str;

/// One sproto value. A field that is absent from a [`Struct`] is nil.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Boolean(bool),
    Integer(i64),
    /// `double` fields, and `integer(N)` fixed-point fields after scaling (as Lua sees them).
    Double(f64),
    /// `string` and `binary` fields: bytes, not necessarily UTF-8.
    String(Bytes),
    Struct(Struct),
    Array(Vec<Value>),
    /// `*Type(key)` decodes to main-index value -> struct; `*Type()` to key -> value.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// The kind name used in error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Boolean(_) => "boolean",
            Value::Integer(_) => "integer",
            Value::Double(_) => "double",
            Value::String(_) => "string",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
        }
    }

    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(v) => Some(*v),
            _ => None,
        }
    }

    /// Doubles, and integers widened to `f64`.
    pub fn as_double(&self) -> Option<f64> {
        match self {
            Value::Double(v) => Some(*v),
            Value::Integer(v) => Some(*v as f64),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::String(v) => Some(v),
            _ => None,
        }
    }

    /// The string as UTF-8, if it is a string and valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(v) => Some(v),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Integer(v.into())
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Integer(v.into())
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(Bytes::copy_from_slice(v.as_bytes()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(Bytes::from(v))
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::String(Bytes::from(v))
    }
}

impl From<Bytes> for Value {
    fn from(v: Bytes) -> Self {
        Value::String(v)
    }
}

impl From<Struct> for Value {
    fn from(v: Struct) -> Self {
        Value::Struct(v)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

/// A struct message: named fields in insertion order (schema order when decoded).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Struct {
    fields: Vec<(Name, Value)>,
}

impl Struct {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        Struct {
            fields: Vec::with_capacity(n),
        }
    }

    /// Builder form of [`Struct::set`].
    pub fn with(mut self, name: Name, value: impl Into<Value>) -> Self {
        self.set(name, value);
        self
    }

    /// Set a field, replacing any previous value of the same name.
    pub fn set(&mut self, name: Name, value: impl Into<Value>) -> &mut Self {
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
        self
    }

    /// Append a field known not to be present yet (decoder and Lua bridge).
    #[inline]
    pub(crate) fn push(&mut self, name: Name, value: Value) {
        self.fields.push((name, value));
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.fields.iter().position(|(n, _)| *n == name)?;
        Some(self.fields.remove(at).1)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Name, &Value)> {
        self.fields.iter().map(|(n, v)| (*n, v))
    }

    pub(crate) fn entries(&self) -> &[(Name, Value)] {
        &self.fields
    }

    pub(crate) fn into_entries(self) -> Vec<(Name, Value)> {
        self.fields
    }
}
