//! `cirrus.json`: JSON text to Lua values, on serde_json (for HTTP APIs such as the gate's
//! `POST /push`). Objects become tables with string keys, arrays sequences (1..n), numbers
//! integers when they are whole and fit an i64, `null` the `json.null` sentinel (so that an
//! array keeps its length).
//!
//!   local json = require "cirrus.json"
//!   local v, err = json.decode('{"uids":[1,2],"proto":"kick"}')   -- nil, message on bad input

use mlua::{LightUserData, Lua, Table, Value};

/// Nesting deeper than this is refused (a request body, not a document store).
const MAX_DEPTH: usize = 64;

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn to_lua(lua: &Lua, v: &serde_json::Value, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime("json: nested too deep"));
    }
    Ok(match v {
        serde_json::Value::Null => null(),
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(lua.create_string(s)?),
        serde_json::Value::Array(a) => {
            let t = lua.create_table_with_capacity(a.len(), 0)?;
            for (i, x) in a.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, x, depth + 1)?)?;
            }
            Value::Table(t)
        }
        serde_json::Value::Object(o) => {
            let t = lua.create_table_with_capacity(0, o.len())?;
            for (k, x) in o {
                t.raw_set(k.as_str(), to_lua(lua, x, depth + 1)?)?;
            }
            Value::Table(t)
        }
    })
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("null", null())?;
    t.set(
        "decode",
        lua.create_function(|lua, text: mlua::LuaString| {
            let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&text.as_bytes());
            match parsed {
                Ok(v) => match to_lua(lua, &v, 0) {
                    Ok(v) => Ok((v, Value::Nil)),
                    Err(e) => Ok((Value::Nil, Value::String(lua.create_string(e.to_string())?))),
                },
                Err(e) => Ok((
                    Value::Nil,
                    Value::String(lua.create_string(format!("json: {e}"))?),
                )),
            }
        })?,
    )?;
    Ok(t)
}
