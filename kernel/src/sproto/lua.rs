//! `sproto.core` for Lua: the functions of cloudwu's `lsproto.c`, backed by the Rust codec,
//! so `lualib/sproto.lua` (and code written against cloudwu's module) runs unchanged.
//!
//! Lua mapping, as in cloudwu: integers are Lua integers, `integer(N)` fields Lua floats,
//! `double` floats, `string`/`binary` Lua strings, arrays sequences, `*T(key)` maps keyed by
//! the main index, `*T()` maps key -> value. Messages to decode/unpack may be a string or a
//! `(lightuserdata, size)` pair from the kernel.

use super::cli::dump;
use super::error::SlotError;
use super::schema::{Field, FieldType, Sproto, Type, MAX_DEPTH};
use super::value::{Struct, Value};
use super::{loader, pack, unpack};
use bytes::Bytes;
use mlua::{LightUserData, Lua, MultiValue, Table, UserData, Value as LuaValue};
use std::sync::Arc;

/// A compiled schema handle (`core.newproto`, `core.loadproto`).
pub struct LuaSproto(pub Arc<Sproto>);

impl UserData for LuaSproto {}

/// A type handle (`core.querytype`, the request/response of `core.protocol`).
pub struct LuaType {
    sp: Arc<Sproto>,
    ty: usize,
}

impl UserData for LuaType {}

fn rt(msg: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(msg.to_string())
}

fn arg(args: &MultiValue, i: usize) -> LuaValue {
    args.get(i).cloned().unwrap_or(LuaValue::Nil)
}

fn sproto_arg(v: &LuaValue) -> mlua::Result<Arc<Sproto>> {
    match v {
        LuaValue::UserData(ud) => Ok(ud.borrow::<LuaSproto>()?.0.clone()),
        _ => Err(rt("bad argument #1 (sproto object expected)")),
    }
}

/// A type handle; `nil` or a NULL light userdata stands for "no type" (`response nil`).
fn type_arg(v: &LuaValue) -> mlua::Result<Option<(Arc<Sproto>, usize)>> {
    match v {
        LuaValue::UserData(ud) => {
            let t = ud.borrow::<LuaType>()?;
            Ok(Some((t.sp.clone(), t.ty)))
        }
        LuaValue::Nil => Ok(None),
        LuaValue::LightUserData(p) if p.0.is_null() => Ok(None),
        _ => Err(rt("bad argument #1 (sproto type expected)")),
    }
}

fn size_arg(v: &LuaValue) -> mlua::Result<usize> {
    match v {
        LuaValue::Integer(n) if *n >= 0 => Ok(*n as usize),
        LuaValue::Number(n) if *n >= 0.0 && n.fract() == 0.0 => Ok(*n as usize),
        _ => Err(rt("a message pointer needs a size")),
    }
}

/// The message at `args[i]`: a string, or a pointer followed by its size.
fn message(lua: &Lua, args: &MultiValue, i: usize) -> mlua::Result<Bytes> {
    let v = arg(args, i);
    let size = match v {
        LuaValue::LightUserData(_) | LuaValue::UserData(_) => Some(size_arg(&arg(args, i + 1))?),
        _ => None,
    };
    crate::lua::msgbuf::resolve(lua, &v, size)
}

fn type_handle(lua: &Lua, sp: &Arc<Sproto>, ty: Option<usize>) -> mlua::Result<LuaValue> {
    match ty {
        Some(ty) => Ok(LuaValue::UserData(
            lua.create_userdata(LuaType { sp: sp.clone(), ty })?,
        )),
        None => Ok(LuaValue::Nil),
    }
}

// ---- Lua -> Value ----

/// Lua's own name for a value's type (`lua_typename`): integers and floats are "number".
fn lua_type(v: &LuaValue) -> &'static str {
    match v {
        LuaValue::Integer(_) | LuaValue::Number(_) => "number",
        other => other.type_name(),
    }
}

fn not_a(t: &Type, f: &Field, index: usize, what: &str, v: &LuaValue) -> mlua::Error {
    rt(format!(
        "{}.{}[{index}] is not {what} (Is a {})",
        t.name,
        f.name,
        lua_type(v)
    ))
}

/// One element of field `f` (the field itself when `index` is 0).
fn scalar_from_lua(
    lua: &Lua,
    sp: &Sproto,
    t: &Type,
    f: &Field,
    v: LuaValue,
    index: usize,
    depth: usize,
) -> mlua::Result<Value> {
    Ok(match f.ty {
        FieldType::Integer if f.decimal.is_some() => match v {
            LuaValue::Integer(i) => Value::Integer(i),
            other => match lua.coerce_number(other.clone())? {
                Some(x) => Value::Double(x),
                None => return Err(not_a(t, f, index, "a number", &other)),
            },
        },
        FieldType::Integer => match v {
            LuaValue::Integer(i) => Value::Integer(i),
            other => match lua.coerce_integer(other.clone())? {
                Some(i) => Value::Integer(i),
                None => return Err(not_a(t, f, index, "an integer", &other)),
            },
        },
        FieldType::Double => match v {
            LuaValue::Integer(i) => Value::Double(i as f64),
            other => match lua.coerce_number(other.clone())? {
                Some(x) => Value::Double(x),
                None => return Err(not_a(t, f, index, "a number", &other)),
            },
        },
        FieldType::Boolean => match v {
            LuaValue::Boolean(b) => Value::Boolean(b),
            other => return Err(not_a(t, f, index, "a boolean", &other)),
        },
        FieldType::String => match v {
            LuaValue::String(s) => Value::String(Bytes::copy_from_slice(&s.as_bytes())),
            other => return Err(not_a(t, f, index, "a string", &other)),
        },
        FieldType::Struct(st) => match v {
            LuaValue::Table(tbl) => Value::Struct(struct_from_lua(lua, sp, st, &tbl, depth + 1)?),
            other => return Err(not_a(t, f, index, "a table", &other)),
        },
    })
}

fn field_from_lua(
    lua: &Lua,
    sp: &Sproto,
    t: &Type,
    f: &Field,
    v: LuaValue,
    depth: usize,
) -> mlua::Result<Value> {
    if !f.array {
        return scalar_from_lua(lua, sp, t, f, v, 0, depth);
    }
    let LuaValue::Table(tbl) = v else {
        return Err(rt(format!(
            "{}.{} should be a table (Is a {})",
            t.name,
            f.name,
            lua_type(&v)
        )));
    };
    let (FieldType::Struct(st), Some(_)) = (f.ty, f.key) else {
        // A sequence, read up to the first nil like lua_geti in cloudwu's encoder.
        let mut items = Vec::new();
        for i in 1.. {
            let x: LuaValue = tbl.get(i)?;
            if x.is_nil() {
                break;
            }
            items.push(scalar_from_lua(lua, sp, t, f, x, i, depth)?);
        }
        return Ok(Value::Array(items));
    };
    if depth + 1 >= MAX_DEPTH {
        return Err(rt("The table is too deep"));
    }
    let elem = &sp.types()[st];
    if !f.map {
        // *T(key): the values are the structs; keys are not checked, as in cloudwu.
        let mut items = Vec::new();
        for pair in tbl.pairs::<LuaValue, LuaValue>() {
            let (_, x) = pair?;
            match x {
                LuaValue::Table(s) => {
                    items.push(Value::Struct(struct_from_lua(lua, sp, st, &s, depth + 1)?))
                }
                other => return Err(not_a(t, f, items.len() + 1, "a table", &other)),
            }
        }
        return Ok(Value::Array(items));
    }
    let (kf, vf) = (&elem.fields[f.key_index], &elem.fields[f.value_index]);
    let mut pairs = Vec::new();
    for pair in tbl.pairs::<LuaValue, LuaValue>() {
        let (k, x) = pair?;
        let k = scalar_from_lua(lua, sp, elem, kf, k, 0, depth + 1)?;
        pairs.push((k, field_from_lua(lua, sp, elem, vf, x, depth + 1)?));
    }
    Ok(Value::Map(pairs))
}

/// Read the schema's fields out of a Lua table (other keys are ignored, as in cloudwu).
pub fn struct_from_lua(
    lua: &Lua,
    sp: &Sproto,
    ty: usize,
    tbl: &Table,
    depth: usize,
) -> mlua::Result<Struct> {
    if depth >= MAX_DEPTH {
        return Err(rt("The table is too deep"));
    }
    let t = &sp.types()[ty];
    let mut s = Struct::with_capacity(t.fields.len());
    for f in &t.fields {
        let v: LuaValue = tbl.get(f.name)?;
        if !v.is_nil() {
            s.push(f.name, field_from_lua(lua, sp, t, f, v, depth)?);
        }
    }
    Ok(s)
}

// ---- Value -> Lua ----

fn value_to_lua(lua: &Lua, v: &Value) -> mlua::Result<LuaValue> {
    Ok(match v {
        Value::Boolean(b) => LuaValue::Boolean(*b),
        Value::Integer(i) => LuaValue::Integer(*i),
        Value::Double(x) => LuaValue::Number(*x),
        Value::String(b) => LuaValue::String(lua.create_string(b)?),
        Value::Struct(s) => LuaValue::Table(struct_to_lua(lua, s, None)?),
        Value::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, x) in items.iter().enumerate() {
                t.raw_set(i + 1, value_to_lua(lua, x)?)?;
            }
            LuaValue::Table(t)
        }
        Value::Map(pairs) => {
            let t = lua.create_table_with_capacity(0, pairs.len())?;
            for (k, x) in pairs {
                t.raw_set(value_to_lua(lua, k)?, value_to_lua(lua, x)?)?;
            }
            LuaValue::Table(t)
        }
    })
}

/// Write a decoded struct into `into` (or a new table).
pub fn struct_to_lua(lua: &Lua, s: &Struct, into: Option<Table>) -> mlua::Result<Table> {
    let t = match into {
        Some(t) => t,
        None => lua.create_table_with_capacity(0, s.len())?,
    };
    for (name, v) in s.iter() {
        t.set(name, value_to_lua(lua, v)?)?;
    }
    Ok(t)
}

// ---- core functions ----

fn default_value(lua: &Lua, sp: &Sproto, f: &Field, in_array: bool) -> mlua::Result<LuaValue> {
    Ok(match f.ty {
        FieldType::Integer if f.decimal.is_some() => LuaValue::Number(0.0),
        FieldType::Integer => LuaValue::Integer(0),
        FieldType::Double => LuaValue::Number(0.0),
        FieldType::Boolean => LuaValue::Boolean(false),
        FieldType::String => LuaValue::String(lua.create_string("")?),
        FieldType::Struct(st) => {
            let name = lua.create_string(&sp.types()[st].name)?;
            if in_array {
                LuaValue::String(name)
            } else {
                let t = lua.create_table()?;
                t.set("__type", name)?;
                LuaValue::Table(t)
            }
        }
    })
}

/// `core.default(st)`: every field at its zero value; arrays as `{ __array = elem }`,
/// structs as `{ __type = name }` (cloudwu's shape, used by editors and tooling).
fn default_table(lua: &Lua, sp: &Sproto, ty: usize) -> mlua::Result<Table> {
    let out = lua.create_table()?;
    for f in &sp.types()[ty].fields {
        let v = if f.array {
            let t = lua.create_table()?;
            t.set("__array", default_value(lua, sp, f, true)?)?;
            LuaValue::Table(t)
        } else {
            default_value(lua, sp, f, false)?
        };
        out.raw_set(f.name, v)?;
    }
    Ok(out)
}

fn slot_err(e: SlotError) -> mlua::Error {
    rt(e)
}

fn encode(lua: &Lua, args: MultiValue) -> mlua::Result<LuaValue> {
    let Some((sp, ty)) = type_arg(&arg(&args, 0))? else {
        return match arg(&args, 1) {
            LuaValue::Nil => Ok(LuaValue::String(lua.create_string("")?)),
            _ => Err(rt("bad argument #2 (nil expected for an empty response)")),
        };
    };
    // nil encodes an empty message (cloudwu raises here; accepting it lets `send_request(name)`
    // work for protocols whose request fields are all optional).
    let s = match arg(&args, 1) {
        LuaValue::Table(tbl) => struct_from_lua(lua, &sp, ty, &tbl, 0)?,
        LuaValue::Nil => Struct::new(),
        other => {
            return Err(rt(format!(
                "bad argument #2 to encode (table expected, got {})",
                lua_type(&other)
            )))
        }
    };
    let mut out = Vec::with_capacity(64);
    sp.encode_into(ty, &s, &mut out).map_err(rt)?;
    Ok(LuaValue::String(lua.create_string(&out)?))
}

fn decode(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let Some((sp, ty)) = type_arg(&arg(&args, 0))? else {
        return Ok(MultiValue::new());
    };
    let data = message(lua, &args, 1)?;
    let into = match args.back() {
        Some(LuaValue::Table(t)) if args.len() > 2 => Some(t.clone()),
        _ => None,
    };
    let (s, used) = sp
        .decode_type(ty, &data)
        .map_err(|e| rt(format!("decode error: {e}")))?;
    let t = struct_to_lua(lua, &s, into)?;
    Ok(MultiValue::from_vec(vec![
        LuaValue::Table(t),
        LuaValue::Integer(used as i64),
    ]))
}

fn protocol(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let sp = sproto_arg(&arg(&args, 0))?;
    let key = arg(&args, 1);
    let (p, first) = match &key {
        LuaValue::Integer(_) | LuaValue::Number(_) => {
            let tag = lua.coerce_integer(key.clone())?.unwrap_or(-1);
            match sp.protocol_by_tag(tag) {
                Some(p) => (p, LuaValue::String(lua.create_string(&p.name)?)),
                None => return Ok(MultiValue::new()),
            }
        }
        LuaValue::String(s) => match sp.protocol(&s.to_str()?) {
            Some(p) => (p, LuaValue::Integer(i64::from(p.tag))),
            None => return Ok(MultiValue::new()),
        },
        _ => {
            return Err(rt(
                "bad argument #2 to protocol (number or string expected)",
            ))
        }
    };
    let request = type_handle(lua, &sp, p.request)?;
    let response = match p.response {
        None if p.confirm => LuaValue::LightUserData(LightUserData(std::ptr::null_mut())),
        r => type_handle(lua, &sp, r)?,
    };
    Ok(MultiValue::from_vec(vec![first, request, response]))
}

fn index_arg(v: &LuaValue) -> mlua::Result<i64> {
    match v {
        LuaValue::Nil => Ok(0),
        LuaValue::Integer(i) => Ok(*i),
        LuaValue::Number(n) if n.fract() == 0.0 => Ok(*n as i64),
        _ => Err(rt("sproto slot index must be an integer")),
    }
}

/// Build the `sproto.core` module table. Register it with
/// `package.preload["sproto.core"] = function() return open_core(lua) end`.
pub fn open_core(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "newproto",
        lua.create_function(|lua, bin: mlua::LuaString| {
            match Sproto::from_bundle(&bin.as_bytes()) {
                Ok(sp) => Ok((Some(lua.create_userdata(LuaSproto(Arc::new(sp)))?), None)),
                Err(e) => Ok((None, Some(e.to_string()))),
            }
        })?,
    )?;
    // Schemas are reference counted and freed by Lua's GC; kept for API compatibility.
    t.set(
        "deleteproto",
        lua.create_function(|_, _: MultiValue| Ok(()))?,
    )?;
    t.set(
        "dumpproto",
        lua.create_function(|lua, sp: LuaValue| {
            let print: mlua::Function = lua.globals().get("print")?;
            print.call::<()>(dump(&*sproto_arg(&sp)?).trim_end())
        })?,
    )?;
    t.set(
        "querytype",
        lua.create_function(|lua, (sp, name): (LuaValue, mlua::LuaString)| {
            let sp = sproto_arg(&sp)?;
            let ty = sp.type_id(&name.to_str()?);
            type_handle(lua, &sp, ty)
        })?,
    )?;
    t.set("encode", lua.create_function(encode)?)?;
    t.set("decode", lua.create_function(decode)?)?;
    t.set("protocol", lua.create_function(protocol)?)?;
    t.set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            let data = message(lua, &args, 0)?;
            lua.create_string(pack(&data))
        })?,
    )?;
    t.set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| {
            let data = message(lua, &args, 0)?;
            let raw = unpack(&data).map_err(|_| rt("Invalid unpack stream"))?;
            lua.create_string(raw)
        })?,
    )?;
    t.set(
        "default",
        lua.create_function(|lua, st: LuaValue| match type_arg(&st)? {
            Some((sp, ty)) => default_table(lua, &sp, ty),
            None => Err(rt("bad argument #1 to default (sproto type expected)")),
        })?,
    )?;
    t.set(
        "saveproto",
        lua.create_function(|_, (sp, index): (LuaValue, LuaValue)| {
            loader::save(index_arg(&index)?, sproto_arg(&sp)?).map_err(slot_err)
        })?,
    )?;
    t.set(
        "loadproto",
        lua.create_function(|lua, index: LuaValue| {
            let index = index_arg(&index)?;
            match loader::load(index).map_err(slot_err)? {
                Some(sp) => lua.create_userdata(LuaSproto(sp)),
                None => Err(rt(format!("nil sproto at index {index}"))),
            }
        })?,
    )?;
    // Extensions used by our lualib: compile text directly (sprotoparser.parse) and
    // register a schema file into a slot (sprotoloader.register).
    t.set(
        "parse",
        lua.create_function(|lua, (text, name): (mlua::LuaString, Option<String>)| {
            let text = text.to_str()?;
            match Sproto::parse(&text) {
                Ok(sp) => lua.create_string(sp.to_bundle()),
                Err(e) => Err(rt(format!(
                    "sproto parse error [{}] {e}",
                    name.as_deref().unwrap_or("=text")
                ))),
            }
        })?,
    )?;
    t.set(
        "register",
        lua.create_function(|_, (path, index): (String, LuaValue)| {
            loader::register_file(std::path::Path::new(&path), index_arg(&index)?)
                .map(|_| ())
                .map_err(|e| rt(format!("{e:#}")))
        })?,
    )?;
    Ok(t)
}
