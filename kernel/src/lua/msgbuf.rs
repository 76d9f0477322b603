//! Messages cross into Lua the way skynet hands them: a `(lightuserdata, size)` pair valid while
//! the message is being dispatched, or a Lua string. Every module that accepts a message
//! (unpack, tostring, sproto, socket writes) resolves it here, so a stale or forged pointer is
//! an error instead of a wild read.

use super::ctx::LuaCtx;
use bytes::Bytes;
use mlua::{Lua, Value};
use std::rc::Rc;

pub(crate) fn ctx_of(lua: &Lua) -> mlua::Result<Rc<LuaCtx>> {
    lua.app_data_ref::<Rc<LuaCtx>>()
        .map(|c| c.clone())
        .ok_or_else(|| mlua::Error::runtime("not inside a Cirrus service"))
}

/// The core of every lookup; `ctx` is only consulted for pointers.
pub(crate) fn read_with(
    ctx: Option<&LuaCtx>,
    v: &Value,
    sz: Option<usize>,
    take: bool,
) -> mlua::Result<Bytes> {
    match v {
        Value::String(s) => {
            let b = s.as_bytes();
            let n = sz.unwrap_or(b.len()).min(b.len());
            Ok(Bytes::copy_from_slice(&b[..n]))
        }
        Value::Nil => Ok(Bytes::new()),
        Value::LightUserData(p) => {
            let sz = sz.ok_or_else(|| mlua::Error::runtime("message pointer needs a size"))?;
            if sz == 0 {
                return Ok(Bytes::new());
            }
            ctx.and_then(|c| c.find(p.0 as *const u8, sz, take))
                .ok_or_else(|| {
                    mlua::Error::runtime("invalid message pointer (the message is no longer alive)")
                })
        }
        other => Err(mlua::Error::runtime(format!(
            "expected a message (string or pointer), got {}",
            other.type_name()
        ))),
    }
}

/// Run `f` on a message argument's bytes without copying them (unpack, tostring, decoders).
pub(crate) fn with_bytes<R>(
    ctx: &LuaCtx,
    v: &Value,
    sz: Option<usize>,
    f: impl FnOnce(&[u8]) -> mlua::Result<R>,
) -> mlua::Result<R> {
    match v {
        Value::String(s) => {
            let b = s.as_bytes();
            let n = sz.unwrap_or(b.len()).min(b.len());
            f(&b[..n])
        }
        Value::Nil => f(&[]),
        Value::LightUserData(p) => {
            let sz = sz.ok_or_else(|| mlua::Error::runtime("message pointer needs a size"))?;
            if sz == 0 {
                return f(&[]);
            }
            ctx.with_slice(p.0 as *const u8, sz, f).ok_or_else(|| {
                mlua::Error::runtime("invalid message pointer (the message is no longer alive)")
            })?
        }
        other => Err(mlua::Error::runtime(format!(
            "expected a message (string or pointer), got {}",
            other.type_name()
        ))),
    }
}

fn lookup(lua: &Lua, v: &Value, sz: Option<usize>, take: bool) -> mlua::Result<Bytes> {
    if let Value::LightUserData(_) = v {
        let ctx = ctx_of(lua)?;
        return read_with(Some(&ctx), v, sz, take);
    }
    read_with(None, v, sz, take)
}

/// Read a message argument without consuming it.
pub fn resolve(lua: &Lua, v: &Value, sz: Option<usize>) -> mlua::Result<Bytes> {
    lookup(lua, v, sz, false)
}

/// Read a message argument that is being sent on: a packed buffer changes owner.
pub fn take(lua: &Lua, v: &Value, sz: Option<usize>) -> mlua::Result<Bytes> {
    lookup(lua, v, sz, true)
}
