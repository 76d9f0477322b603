//! skynet's message serialization (`skynet.pack` / `skynet.unpack`), byte-identical to
//! `lualib-src/lua-seri.c`.
//!
//! Every value starts with one header byte `type | cookie << 3`; multi-byte fields are
//! little-endian. Tables are written as the array part `1..=rawlen`, then the remaining pairs in
//! `lua_next` order, then a nil byte. Besides the Lua-facing `pack` / `unpack` there is a
//! Lua-free [`SValue`] tree and a streaming [`Writer`] for IO threads that must speak the same
//! bytes.
//!
//! The Lua side walks the Lua stack through the C API (`raw.rs`), as lua-seri.c does; mlua's
//! safe handles are only used for tables with a `__pairs` metamethod, whose iterator must be
//! called. Decoding is hardened where lua-seri.c is not: lengths are checked against the
//! remaining input before anything is allocated, and nesting is limited.

use bytes::Bytes;
use mlua::{LightUserData, Lua, MultiValue, ObjectLike, Value};

mod raw;
pub(crate) use raw::{pack_stack, unpack_stack};
#[cfg(test)]
mod tests;

const TYPE_NIL: u8 = 0;
const TYPE_BOOLEAN: u8 = 1;
const TYPE_NUMBER: u8 = 2;
const TYPE_USERDATA: u8 = 3;
const TYPE_SHORT_STRING: u8 = 4;
const TYPE_LONG_STRING: u8 = 5;
const TYPE_TABLE: u8 = 6;

const NUMBER_ZERO: u8 = 0;
const NUMBER_BYTE: u8 = 1;
const NUMBER_WORD: u8 = 2;
const NUMBER_DWORD: u8 = 4;
const NUMBER_QWORD: u8 = 6;
const NUMBER_REAL: u8 = 8;

/// Strings shorter than this carry their length in the cookie.
const MAX_COOKIE: usize = 32;
/// Table cookie meaning "array length follows as a number value".
const TABLE_EXTENDED: u8 = (MAX_COOKIE - 1) as u8;

/// Deepest level a value may sit at (top-level values are level 0), as lua-seri.c's
/// `MAX_DEPTH`: 33 nested tables pack only if the innermost one is empty. Unpack enforces the
/// same rule (lua-seri.c has none), so it accepts exactly what a skynet pack can produce.
pub const MAX_DEPTH: usize = 32;

const TOO_DEEP: &str = "serialize can't pack too depth table";

#[inline]
const fn head(ty: u8, cookie: u8) -> u8 {
    ty | (cookie << 3)
}

/// A Lua-free value tree with the same wire form as the Lua values it mirrors.
#[derive(Clone, Debug, PartialEq)]
pub enum SValue {
    Nil,
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(Bytes),
    /// A light userdata pointer (8 bytes on the wire).
    Ptr(u64),
    Table(STable),
}

/// A table as it travels: the array part `1..=array.len()` (holes are `Nil`), then the other
/// pairs in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct STable {
    pub array: Vec<SValue>,
    pub hash: Vec<(SValue, SValue)>,
}

/// Why a byte stream is not a valid serialization. Every message starts with skynet's
/// "Invalid serialize stream <remaining bytes>" so Lua code matching on it keeps working.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeriError {
    #[error("Invalid serialize stream {remaining} (truncated {what} at offset {offset})")]
    Truncated {
        what: &'static str,
        offset: usize,
        remaining: usize,
    },
    #[error(
        "Invalid serialize stream {remaining} (bad {what} byte {byte:#04x} at offset {offset})"
    )]
    BadHeader {
        what: &'static str,
        byte: u8,
        offset: usize,
        remaining: usize,
    },
    #[error("Invalid serialize stream {remaining} (table nested deeper than {MAX_DEPTH} at offset {offset})")]
    TooDeep { offset: usize, remaining: usize },
}

/// Streaming encoder: emits packed bytes directly, without building values first.
///
/// A table is `table_begin(n)`, exactly `n` array values, any number of key/value pairs (keys
/// must not be nil), then `table_end()`. The writer does not check that structure or the depth
/// limit; it is the caller's contract, as with lua-seri.c's `wb_*` helpers.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self::with_capacity(128)
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets the written bytes but keeps the allocation, for reuse.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    pub fn nil(&mut self) {
        self.buf.push(TYPE_NIL);
    }

    pub fn boolean(&mut self, b: bool) {
        self.buf.push(head(TYPE_BOOLEAN, b as u8));
    }

    /// The narrowest of lua-seri.c's integer forms, chosen exactly as `wb_integer` does.
    pub fn integer(&mut self, v: i64) {
        let b = &mut self.buf;
        if v == 0 {
            b.push(head(TYPE_NUMBER, NUMBER_ZERO));
        } else if v != v as i32 as i64 {
            b.push(head(TYPE_NUMBER, NUMBER_QWORD));
            b.extend_from_slice(&v.to_le_bytes());
        } else if v < 0 {
            b.push(head(TYPE_NUMBER, NUMBER_DWORD));
            b.extend_from_slice(&(v as i32).to_le_bytes());
        } else if v < 0x100 {
            b.extend_from_slice(&[head(TYPE_NUMBER, NUMBER_BYTE), v as u8]);
        } else if v < 0x10000 {
            let [lo, hi] = (v as u16).to_le_bytes();
            b.extend_from_slice(&[head(TYPE_NUMBER, NUMBER_WORD), lo, hi]);
        } else {
            b.push(head(TYPE_NUMBER, NUMBER_DWORD));
            b.extend_from_slice(&(v as u32).to_le_bytes());
        }
    }

    /// A float; integral floats stay floats (Lua's float subtype), as in skynet.
    pub fn real(&mut self, v: f64) {
        self.buf.push(head(TYPE_NUMBER, NUMBER_REAL));
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Any byte string.
    ///
    /// # Panics
    /// If `s` is 4 GiB or longer, which the format cannot express.
    pub fn string(&mut self, s: &[u8]) {
        let len = s.len();
        let b = &mut self.buf;
        if len < MAX_COOKIE {
            b.reserve(1 + len);
            b.push(head(TYPE_SHORT_STRING, len as u8));
        } else if len < 0x10000 {
            b.reserve(3 + len);
            let [lo, hi] = (len as u16).to_le_bytes();
            b.extend_from_slice(&[head(TYPE_LONG_STRING, 2), lo, hi]);
        } else {
            let len32 = u32::try_from(len).expect("string too long to serialize");
            b.reserve(5 + len);
            b.push(head(TYPE_LONG_STRING, 4));
            b.extend_from_slice(&len32.to_le_bytes());
        }
        b.extend_from_slice(s);
    }

    /// A light userdata pointer, as 8 bytes (skynet writes `sizeof(void*)`; Cirrus is 64-bit).
    pub fn pointer(&mut self, p: u64) {
        self.buf.push(TYPE_USERDATA);
        self.buf.extend_from_slice(&p.to_le_bytes());
    }

    /// Starts a table whose array part holds the next `array_len` values.
    pub fn table_begin(&mut self, array_len: usize) {
        if array_len >= TABLE_EXTENDED as usize {
            self.buf.push(head(TYPE_TABLE, TABLE_EXTENDED));
            self.integer(array_len as i64);
        } else {
            self.buf.push(head(TYPE_TABLE, array_len as u8));
        }
    }

    /// Ends the table's pairs.
    pub fn table_end(&mut self) {
        self.nil();
    }

    /// Writes a whole [`SValue`] tree.
    pub fn value(&mut self, v: &SValue) {
        match v {
            SValue::Nil => self.nil(),
            SValue::Bool(b) => self.boolean(*b),
            SValue::Int(i) => self.integer(*i),
            SValue::Real(f) => self.real(*f),
            SValue::Str(s) => self.string(s),
            SValue::Ptr(p) => self.pointer(*p),
            SValue::Table(t) => {
                self.table_begin(t.array.len());
                for v in &t.array {
                    self.value(v);
                }
                for (k, v) in &t.hash {
                    self.value(k);
                    self.value(v);
                }
                self.table_end();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lua -> bytes

/// Serialize Lua values (skynet.pack).
pub fn pack(values: &MultiValue) -> mlua::Result<Vec<u8>> {
    pack_iter(values.iter())
}

/// [`pack`] for values that are not in a `MultiValue`.
pub fn pack_slice(values: &[Value]) -> mlua::Result<Vec<u8>> {
    pack_iter(values.iter())
}

fn pack_iter<'a, I>(values: I) -> mlua::Result<Vec<u8>>
where
    I: Iterator<Item = &'a Value> + Clone,
{
    // One allocation for typical messages: size scalars and strings exactly, guess for tables.
    let guess: usize = values
        .clone()
        .map(|v| match v {
            Value::String(s) => s.as_bytes().len() + 5,
            Value::Table(_) => 64,
            _ => 9,
        })
        .sum();
    let mut w = Writer::with_capacity(guess);
    for v in values {
        if let Value::Table(t) = v {
            let mark = w.len();
            if raw::pack_table(&mut w, t)? {
                continue;
            }
            // Somewhere inside is a `__pairs` table: redo the whole value on the safe path.
            w.buf.truncate(mark);
        }
        pack_value(&mut w, v, 0)?;
    }
    Ok(w.finish())
}

/// lua-seri.c's `pack_one` through mlua's safe API: the path for values holding a `__pairs`
/// table, whose iterator must be called (the raw fast path never calls Lua). The depth check
/// comes first, for every value including nil.
fn pack_value(w: &mut Writer, v: &Value, depth: usize) -> mlua::Result<()> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime(TOO_DEEP));
    }
    match v {
        Value::Nil => w.nil(),
        Value::Boolean(b) => w.boolean(*b),
        Value::Integer(i) => w.integer(*i),
        Value::Number(n) => w.real(*n),
        Value::String(s) => {
            let bytes = s.as_bytes();
            if u32::try_from(bytes.len()).is_err() {
                return Err(mlua::Error::runtime("string too long to serialize"));
            }
            w.string(&bytes);
        }
        Value::LightUserData(p) => w.pointer(p.0 as usize as u64),
        Value::Table(t) => pack_table(w, t, depth + 1)?,
        other => {
            return Err(mlua::Error::runtime(format!(
                "Unsupport type {} to serialize",
                lua_type_name(other)
            )));
        }
    }
    Ok(())
}

/// The name `lua_typename` gives, for skynet-identical error messages.
fn lua_type_name(v: &Value) -> &'static str {
    match v {
        // mlua surfaces Lua-side error objects as `Value::Error`; in Lua they are userdata.
        Value::UserData(_) | Value::Error(_) | Value::LightUserData(_) => "userdata",
        Value::Integer(_) => "number",
        other => other.type_name(),
    }
}

/// `depth` is the level of the table's contents.
fn pack_table(w: &mut Writer, t: &mlua::Table, depth: usize) -> mlua::Result<()> {
    if let Some(mt) = t.metatable() {
        // luaL_getmetafield: a raw lookup, any non-nil value counts.
        let pairs: Value = mt.raw_get("__pairs")?;
        if !pairs.is_nil() {
            return pack_metapairs(w, t, &pairs, depth);
        }
    }
    let array_len = t.raw_len();
    w.table_begin(array_len);
    for i in 1..=array_len {
        let v: Value = t.raw_get(i)?;
        pack_value(w, &v, depth)?;
    }
    // lua_next visits the array part too; those keys were already written above.
    t.for_each(|k: Value, v: Value| {
        if let Value::Integer(i) = k {
            if i > 0 && (i as u64) <= array_len as u64 {
                return Ok(());
            }
        }
        pack_value(w, &k, depth)?;
        pack_value(w, &v, depth)
    })?;
    w.table_end();
    Ok(())
}

/// A table with `__pairs` is written as hash-only (cookie 0) with whatever the iterator yields,
/// like lua-seri.c's `wb_table_metapairs`: `f, s, c = __pairs(t)`, then `k, v = f(s, c)` until
/// `k` is nil.
fn pack_metapairs(
    w: &mut Writer,
    t: &mlua::Table,
    pairs: &Value,
    depth: usize,
) -> mlua::Result<()> {
    w.table_begin(0);
    let (next, state, mut control): (Value, Value, Value) = call_value(pairs, t.clone())?;
    loop {
        let (k, v): (Value, Value) = call_value(&next, (state.clone(), control))?;
        if k.is_nil() {
            break;
        }
        pack_value(w, &k, depth)?;
        pack_value(w, &v, depth)?;
        control = k;
    }
    w.table_end();
    Ok(())
}

/// `lua_call` on an arbitrary value: functions, and tables or userdata with `__call`.
fn call_value<R: mlua::FromLuaMulti>(f: &Value, args: impl mlua::IntoLuaMulti) -> mlua::Result<R> {
    match f {
        Value::Function(f) => f.call(args),
        Value::Table(t) => t.call(args),
        Value::UserData(u) => u.call(args),
        other => Err(mlua::Error::runtime(format!(
            "attempt to call a {} value",
            lua_type_name(other)
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// bytes -> values

/// One decoded header (plus its payload), before any tree is built.
enum Token<'a> {
    Scalar(Scalar<'a>),
    /// A table header with its array length; contents follow.
    Table(usize),
}

enum Scalar<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(&'a [u8]),
    Ptr(u64),
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    #[inline]
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn truncated(&self, what: &'static str, offset: usize) -> SeriError {
        SeriError::Truncated {
            what,
            offset,
            remaining: self.data.len() - offset,
        }
    }

    fn bad(&self, what: &'static str, offset: usize) -> SeriError {
        SeriError::BadHeader {
            what,
            byte: self.data[offset],
            offset,
            remaining: self.data.len() - offset,
        }
    }

    fn too_deep(&self, offset: usize) -> SeriError {
        SeriError::TooDeep {
            offset,
            remaining: self.data.len() - offset,
        }
    }

    #[inline]
    fn bytes(
        &mut self,
        n: usize,
        what: &'static str,
        offset: usize,
    ) -> Result<&'a [u8], SeriError> {
        if n > self.remaining() {
            return Err(self.truncated(what, offset));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    fn array<const N: usize>(
        &mut self,
        what: &'static str,
        offset: usize,
    ) -> Result<[u8; N], SeriError> {
        let s = self.bytes(N, what, offset)?;
        let mut a = [0; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// lua-seri.c's `get_integer`; `offset` is the header that carried `cookie`.
    #[inline]
    fn integer(&mut self, cookie: u8, offset: usize) -> Result<i64, SeriError> {
        Ok(match cookie {
            NUMBER_ZERO => 0,
            NUMBER_BYTE => u8::from_le_bytes(self.array("integer", offset)?) as i64,
            NUMBER_WORD => u16::from_le_bytes(self.array("integer", offset)?) as i64,
            NUMBER_DWORD => i32::from_le_bytes(self.array("integer", offset)?) as i64,
            NUMBER_QWORD => i64::from_le_bytes(self.array("integer", offset)?),
            _ => return Err(self.bad("number", offset)),
        })
    }

    // Always inlined: returned out of line, the token makes a store-forwarding stall on
    // every value (measured ~10% of unpack).
    #[inline(always)]
    fn token(&mut self) -> Result<Token<'a>, SeriError> {
        let at = self.pos;
        let Some(&h) = self.data.get(at) else {
            return Err(self.truncated("value", at));
        };
        self.pos += 1;
        let cookie = h >> 3;
        let scalar = match h & 7 {
            // lua-seri.c ignores the cookie of nil and userdata, and any non-zero boolean
            // cookie is true; decode the same way.
            TYPE_NIL => Scalar::Nil,
            TYPE_BOOLEAN => Scalar::Bool(cookie != 0),
            TYPE_NUMBER if cookie == NUMBER_REAL => {
                Scalar::Real(f64::from_le_bytes(self.array("real", at)?))
            }
            TYPE_NUMBER => Scalar::Int(self.integer(cookie, at)?),
            TYPE_USERDATA => Scalar::Ptr(u64::from_le_bytes(self.array("pointer", at)?)),
            TYPE_SHORT_STRING => Scalar::Str(self.bytes(cookie as usize, "string", at)?),
            TYPE_LONG_STRING => {
                let len = match cookie {
                    2 => u16::from_le_bytes(self.array("string length", at)?) as usize,
                    4 => u32::from_le_bytes(self.array("string length", at)?) as usize,
                    _ => return Err(self.bad("string", at)),
                };
                Scalar::Str(self.bytes(len, "string", at)?)
            }
            TYPE_TABLE => return self.table_len(cookie, at).map(Token::Table),
            _ => return Err(self.bad("type", at)),
        };
        Ok(Token::Scalar(scalar))
    }

    #[inline]
    fn table_len(&mut self, cookie: u8, at: usize) -> Result<usize, SeriError> {
        let len = if cookie == TABLE_EXTENDED {
            let len_at = self.pos;
            let Some(&h) = self.data.get(len_at) else {
                return Err(self.truncated("table length", len_at));
            };
            if h & 7 != TYPE_NUMBER || h >> 3 == NUMBER_REAL {
                return Err(self.bad("table length", len_at));
            }
            self.pos += 1;
            // lua-seri.c stores the length in a C int: wrap like it, and a negative length
            // means an empty array part.
            (self.integer(h >> 3, len_at)? as i32).max(0) as usize
        } else {
            cookie as usize
        };
        // Each array value takes at least one byte and the terminator another: reject
        // impossible lengths before anything is allocated for them.
        if len >= self.remaining() {
            return Err(self.truncated("table", at));
        }
        Ok(len)
    }
}

/// What a decoded tree is built from; shared by the Lua and the `SValue` decoders so both
/// accept exactly the same streams.
trait Build {
    type Value;
    type Table;
    type Error: From<SeriError>;
    fn scalar(&mut self, s: Scalar<'_>) -> Result<Self::Value, Self::Error>;
    /// `array_len` is already bounded by the input size.
    fn table(&mut self, array_len: usize) -> Result<Self::Table, Self::Error>;
    fn set_index(
        &mut self,
        t: &mut Self::Table,
        i: usize,
        v: Self::Value,
    ) -> Result<(), Self::Error>;
    fn set_pair(
        &mut self,
        t: &mut Self::Table,
        k: Self::Value,
        v: Self::Value,
    ) -> Result<(), Self::Error>;
    fn finish(&mut self, t: Self::Table) -> Self::Value;
}

fn decode_all<B: Build>(data: &[u8], b: &mut B) -> Result<Vec<B::Value>, B::Error> {
    let mut r = Reader::new(data);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let tok = r.token()?;
        out.push(decode(&mut r, b, tok, 0)?);
    }
    Ok(out)
}

/// Builds the value `tok` starts; `depth` is its level (top-level values are 0).
fn decode<B: Build>(
    r: &mut Reader<'_>,
    b: &mut B,
    tok: Token<'_>,
    depth: usize,
) -> Result<B::Value, B::Error> {
    let array_len = match tok {
        Token::Scalar(s) => return b.scalar(s),
        Token::Table(n) => n,
    };
    // Mirrors pack: the table itself may sit at MAX_DEPTH, but nothing inside it.
    let child = depth + 1;
    if child > MAX_DEPTH && array_len > 0 {
        return Err(r.too_deep(r.pos).into());
    }
    let mut t = b.table(array_len)?;
    for i in 1..=array_len {
        let tok = r.token()?;
        let v = decode(r, b, tok, child)?;
        b.set_index(&mut t, i, v)?;
    }
    loop {
        let key_at = r.pos;
        let tok = r.token()?;
        if matches!(tok, Token::Scalar(Scalar::Nil)) {
            break;
        }
        if child > MAX_DEPTH {
            return Err(r.too_deep(key_at).into());
        }
        let k = decode(r, b, tok, child)?;
        let tok = r.token()?;
        let v = decode(r, b, tok, child)?;
        b.set_pair(&mut t, k, v)?;
    }
    Ok(b.finish(t))
}

impl From<SeriError> for mlua::Error {
    fn from(e: SeriError) -> Self {
        mlua::Error::runtime(e.to_string())
    }
}

/// Builds [`SValue`]s; strings are copied, or sliced out of `shared` when the input is one.
struct TreeBuild<'b> {
    shared: Option<&'b Bytes>,
}

impl Build for TreeBuild<'_> {
    type Value = SValue;
    type Table = STable;
    type Error = SeriError;

    fn scalar(&mut self, s: Scalar<'_>) -> Result<SValue, SeriError> {
        Ok(match s {
            Scalar::Nil => SValue::Nil,
            Scalar::Bool(b) => SValue::Bool(b),
            Scalar::Int(i) => SValue::Int(i),
            Scalar::Real(f) => SValue::Real(f),
            Scalar::Str(s) => SValue::Str(match self.shared {
                Some(b) => b.slice_ref(s),
                None => Bytes::copy_from_slice(s),
            }),
            Scalar::Ptr(p) => SValue::Ptr(p),
        })
    }

    fn table(&mut self, array_len: usize) -> Result<STable, SeriError> {
        Ok(STable {
            array: Vec::with_capacity(array_len),
            hash: Vec::new(),
        })
    }

    fn set_index(&mut self, t: &mut STable, _i: usize, v: SValue) -> Result<(), SeriError> {
        t.array.push(v);
        Ok(())
    }

    fn set_pair(&mut self, t: &mut STable, k: SValue, v: SValue) -> Result<(), SeriError> {
        t.hash.push((k, v));
        Ok(())
    }

    fn finish(&mut self, t: STable) -> SValue {
        SValue::Table(t)
    }
}

/// Deserialize into Lua values (skynet.unpack). Empty input yields no values.
pub fn unpack(lua: &Lua, data: &[u8]) -> mlua::Result<MultiValue> {
    if data.is_empty() {
        return Ok(MultiValue::new());
    }
    raw::unpack(lua, data)
}

/// Serialize a value tree; the same bytes [`pack`] gives for the equivalent Lua values, with
/// `hash` written in vector order. No depth limit is applied (the tree is Rust-built).
pub fn pack_svalues(values: &[SValue]) -> Vec<u8> {
    let mut w = Writer::new();
    for v in values {
        w.value(v);
    }
    w.finish()
}

/// Deserialize without a Lua state. Hash pairs keep stream order; duplicate keys are kept.
pub fn unpack_svalues(data: &[u8]) -> Result<Vec<SValue>, SeriError> {
    decode_all(data, &mut TreeBuild { shared: None })
}

/// [`unpack_svalues`] without copying strings: each `SValue::Str` shares `data`'s buffer, which
/// therefore stays alive as long as any of the strings does.
pub fn unpack_svalues_shared(data: &Bytes) -> Result<Vec<SValue>, SeriError> {
    decode_all(data, &mut TreeBuild { shared: Some(data) })
}

/// Builds the Lua value for a tree (raw sets, like unpack). Fails on a NaN or nil hash key.
pub fn svalue_to_lua(lua: &Lua, v: &SValue) -> mlua::Result<Value> {
    Ok(match v {
        SValue::Nil => Value::Nil,
        SValue::Bool(b) => Value::Boolean(*b),
        SValue::Int(i) => Value::Integer(*i),
        SValue::Real(f) => Value::Number(*f),
        SValue::Str(s) => Value::String(lua.create_string(s)?),
        SValue::Ptr(p) => Value::LightUserData(LightUserData(*p as usize as *mut _)),
        SValue::Table(st) => {
            let t = lua.create_table_with_capacity(st.array.len(), st.hash.len())?;
            for (i, v) in st.array.iter().enumerate() {
                t.raw_set(i as i64 + 1, svalue_to_lua(lua, v)?)?;
            }
            for (k, v) in &st.hash {
                t.raw_set(svalue_to_lua(lua, k)?, svalue_to_lua(lua, v)?)?;
            }
            Value::Table(t)
        }
    })
}

/// The tree [`unpack_svalues`] would give for [`pack`]'s bytes of `v` (same errors, same
/// array/hash split, `__pairs` honoured). Implemented as exactly that, so the two can never
/// disagree; this is not a hot path.
pub fn lua_to_svalue(v: &Value) -> mlua::Result<SValue> {
    let bytes = pack_slice(std::slice::from_ref(v))?;
    let mut vals = unpack_svalues(&bytes)?;
    // One packed value always decodes to exactly one value.
    Ok(vals.pop().unwrap_or(SValue::Nil))
}
