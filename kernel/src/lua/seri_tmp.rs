// Interim serializer (lead's), to be replaced by the full seri module.
use bytes::Bytes;
use mlua::{Lua, MultiValue, Value};

#[derive(Clone, Debug, PartialEq)]
pub enum SValue { Nil, Bool(bool), Int(i64), Real(f64), Str(Bytes), Ptr(u64), Table(STable) }
#[derive(Clone, Debug, Default, PartialEq)]
pub struct STable { pub array: Vec<SValue>, pub hash: Vec<(SValue, SValue)> }
#[derive(Debug, thiserror::Error)]
pub enum SeriError { #[error("Invalid serialize stream")] Invalid }

const MAX_DEPTH: usize = 32;
const MAX_COOKIE: u8 = 32;

#[derive(Default)]
pub struct Writer(Vec<u8>);
impl Writer {
    pub fn new() -> Self { Writer(Vec::with_capacity(64)) }
    pub fn finish(self) -> Vec<u8> { self.0 }
    fn head(&mut self, t: u8, c: u8) { self.0.push(t | (c << 3)); }
    pub fn nil(&mut self) { self.head(0, 0) }
    pub fn boolean(&mut self, b: bool) { self.head(1, b as u8) }
    pub fn integer(&mut self, v: i64) {
        if v == 0 { self.head(2, 0) }
        else if v != v as i32 as i64 { self.head(2, 6); self.0.extend_from_slice(&v.to_le_bytes()) }
        else if v < 0 { self.head(2, 4); self.0.extend_from_slice(&(v as i32).to_le_bytes()) }
        else if v < 0x100 { self.head(2, 1); self.0.push(v as u8) }
        else if v < 0x10000 { self.head(2, 2); self.0.extend_from_slice(&(v as u16).to_le_bytes()) }
        else { self.head(2, 4); self.0.extend_from_slice(&(v as u32).to_le_bytes()) }
    }
    pub fn real(&mut self, f: f64) { self.head(2, 8); self.0.extend_from_slice(&f.to_le_bytes()) }
    pub fn string(&mut self, s: &[u8]) {
        let n = s.len();
        if n < MAX_COOKIE as usize { self.head(4, n as u8) }
        else if n < 0x10000 { self.head(5, 2); self.0.extend_from_slice(&(n as u16).to_le_bytes()) }
        else { self.head(5, 4); self.0.extend_from_slice(&(n as u32).to_le_bytes()) }
        self.0.extend_from_slice(s);
    }
    pub fn pointer(&mut self, p: u64) { self.head(3, 0); self.0.extend_from_slice(&p.to_le_bytes()) }
    pub fn table_begin(&mut self, array_len: usize) {
        if array_len >= (MAX_COOKIE - 1) as usize { self.head(6, MAX_COOKIE - 1); self.integer(array_len as i64) }
        else { self.head(6, array_len as u8) }
    }
    pub fn table_end(&mut self) { self.nil() }
}

fn write_value(w: &mut Writer, v: &Value, depth: usize) -> mlua::Result<()> {
    match v {
        Value::Nil => w.nil(),
        Value::Boolean(b) => w.boolean(*b),
        Value::Integer(i) => w.integer(*i),
        Value::Number(n) => w.real(*n),
        Value::String(s) => w.string(&s.as_bytes()),
        Value::LightUserData(p) => w.pointer(p.0 as u64),
        Value::Table(t) => {
            if depth >= MAX_DEPTH { return Err(mlua::Error::runtime("serialize can't pack too depth table")); }
            let n = t.raw_len();
            w.table_begin(n);
            for i in 1..=n { write_value(w, &t.raw_get::<Value>(i)?, depth + 1)?; }
            for pair in t.pairs::<Value, Value>() {
                let (k, val) = pair?;
                if let Value::Integer(i) = k { if i > 0 && (i as usize) <= n { continue; } }
                write_value(w, &k, depth + 1)?;
                write_value(w, &val, depth + 1)?;
            }
            w.table_end();
        }
        other => return Err(mlua::Error::runtime(format!("Unsupport type {} to serialize", other.type_name()))),
    }
    Ok(())
}

pub fn pack(values: &MultiValue) -> mlua::Result<Vec<u8>> {
    let mut w = Writer::new();
    for v in values.iter() { write_value(&mut w, v, 0)?; }
    Ok(w.finish())
}

struct Reader<'a> { b: &'a [u8], pos: usize }
impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SeriError> {
        if self.b.len() - self.pos < n { return Err(SeriError::Invalid) }
        let s = &self.b[self.pos..self.pos + n]; self.pos += n; Ok(s)
    }
    fn int(&mut self, cookie: u8) -> Result<i64, SeriError> {
        Ok(match cookie {
            0 => 0,
            1 => self.take(1)?[0] as i64,
            2 => u16::from_le_bytes(self.take(2)?.try_into().unwrap()) as i64,
            4 => i32::from_le_bytes(self.take(4)?.try_into().unwrap()) as i64,
            6 => i64::from_le_bytes(self.take(8)?.try_into().unwrap()),
            _ => return Err(SeriError::Invalid),
        })
    }
    fn value(&mut self, depth: usize) -> Result<SValue, SeriError> {
        let h = self.take(1)?[0];
        self.value_with(h & 7, h >> 3, depth)
    }
    fn value_with(&mut self, t: u8, c: u8, depth: usize) -> Result<SValue, SeriError> {
        Ok(match t {
            0 => SValue::Nil,
            1 => SValue::Bool(c != 0),
            2 => if c == 8 { SValue::Real(f64::from_le_bytes(self.take(8)?.try_into().unwrap())) } else { SValue::Int(self.int(c)?) },
            3 => SValue::Ptr(u64::from_le_bytes(self.take(8)?.try_into().unwrap())),
            4 => SValue::Str(Bytes::copy_from_slice(self.take(c as usize)?)),
            5 => { let n = match c { 2 => u16::from_le_bytes(self.take(2)?.try_into().unwrap()) as usize, 4 => u32::from_le_bytes(self.take(4)?.try_into().unwrap()) as usize, _ => return Err(SeriError::Invalid) }; SValue::Str(Bytes::copy_from_slice(self.take(n)?)) }
            6 => {
                if depth >= MAX_DEPTH { return Err(SeriError::Invalid) }
                let n = if c == MAX_COOKIE - 1 { match self.value(depth)? { SValue::Int(i) if i >= 0 => i as usize, _ => return Err(SeriError::Invalid) } } else { c as usize };
                if n > self.b.len() - self.pos { return Err(SeriError::Invalid) }
                let mut t = STable { array: Vec::with_capacity(n), hash: Vec::new() };
                for _ in 0..n { t.array.push(self.value(depth + 1)?); }
                loop { let k = self.value(depth + 1)?; if k == SValue::Nil { break } let v = self.value(depth + 1)?; t.hash.push((k, v)); }
                SValue::Table(t)
            }
            _ => return Err(SeriError::Invalid),
        })
    }
}

pub fn unpack_svalues(data: &[u8]) -> Result<Vec<SValue>, SeriError> {
    let mut r = Reader { b: data, pos: 0 };
    let mut out = Vec::new();
    while r.pos < data.len() { out.push(r.value(0)?); }
    Ok(out)
}

pub fn svalue_to_lua(lua: &Lua, v: &SValue) -> mlua::Result<Value> {
    Ok(match v {
        SValue::Nil => Value::Nil,
        SValue::Bool(b) => Value::Boolean(*b),
        SValue::Int(i) => Value::Integer(*i),
        SValue::Real(f) => Value::Number(*f),
        SValue::Str(s) => Value::String(lua.create_string(&s[..])?),
        SValue::Ptr(p) => Value::LightUserData(mlua::LightUserData(*p as usize as *mut _)),
        SValue::Table(t) => {
            let tb = lua.create_table_with_capacity(t.array.len(), t.hash.len())?;
            for (i, v) in t.array.iter().enumerate() { tb.raw_set(i + 1, svalue_to_lua(lua, v)?)?; }
            for (k, v) in &t.hash { tb.raw_set(svalue_to_lua(lua, k)?, svalue_to_lua(lua, v)?)?; }
            Value::Table(tb)
        }
    })
}

pub fn unpack(lua: &Lua, data: &[u8]) -> mlua::Result<MultiValue> {
    let vals = unpack_svalues(data).map_err(|e| mlua::Error::runtime(e.to_string()))?;
    vals.iter().map(|v| svalue_to_lua(lua, v)).collect()
}

fn write_svalue(w: &mut Writer, v: &SValue) {
    match v {
        SValue::Nil => w.nil(),
        SValue::Bool(b) => w.boolean(*b),
        SValue::Int(i) => w.integer(*i),
        SValue::Real(f) => w.real(*f),
        SValue::Str(s) => w.string(s),
        SValue::Ptr(p) => w.pointer(*p),
        SValue::Table(t) => {
            w.table_begin(t.array.len());
            for v in &t.array { write_svalue(w, v); }
            for (k, v) in &t.hash { write_svalue(w, k); write_svalue(w, v); }
            w.table_end();
        }
    }
}

pub fn pack_svalues(values: &[SValue]) -> Vec<u8> {
    let mut w = Writer::new();
    for v in values { write_svalue(&mut w, v); }
    w.finish()
}

pub fn lua_to_svalue(v: &Value) -> mlua::Result<SValue> {
    Ok(match v {
        Value::Nil => SValue::Nil,
        Value::Boolean(b) => SValue::Bool(*b),
        Value::Integer(i) => SValue::Int(*i),
        Value::Number(n) => SValue::Real(*n),
        Value::String(s) => SValue::Str(Bytes::copy_from_slice(&s.as_bytes())),
        Value::LightUserData(p) => SValue::Ptr(p.0 as u64),
        Value::Table(t) => {
            let n = t.raw_len();
            let mut st = STable::default();
            for i in 1..=n { st.array.push(lua_to_svalue(&t.raw_get::<Value>(i)?)?); }
            for pair in t.pairs::<Value, Value>() {
                let (k, val) = pair?;
                if let Value::Integer(i) = k { if i > 0 && (i as usize) <= n { continue; } }
                st.hash.push((lua_to_svalue(&k)?, lua_to_svalue(&val)?));
            }
            SValue::Table(st)
        }
        other => return Err(mlua::Error::runtime(format!("Unsupport type {} to serialize", other.type_name()))),
    })
}
