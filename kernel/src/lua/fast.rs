//! The hot entries of `skynet.core` (send, sendpack, pack, unpack, timeout) as plain Lua C
//! functions. Every message crosses two or three of them; through mlua's callback machinery
//! (argument conversion into `Value`s, a protected call per unpack) they were a quarter of the
//! instructions of a call round trip. These read the Lua stack directly, as skynet's C does;
//! sendpack and pack fall back to their mlua versions in core.rs for tables with `__pairs`,
//! whose iterator is Lua code.
//!
//! Soundness rules (as in seri/raw.rs): the work runs in an inner function whose values are
//! dropped before anything is raised, so `lua_error`'s longjmp never crosses a frame that
//! owns something with a destructor; panics are caught before they reach Lua's C frames.
//! Upvalue 1 of each function is the service's `LuaCtx`, owned by the state (app data) for
//! the state's whole life.

use super::ctx::LuaCtx;
use super::seri;
use crate::node::node;
use crate::service::{Handle, Message};
use bytes::Bytes;
use mlua::ffi::{self, lua_State};
use mlua::{Lua, Table};
use std::ffi::{c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

enum Done {
    /// Values pushed.
    Ret(c_int),
    /// Redo the call with the mlua version, this key of skynet.core (upvalue 2): a table with
    /// `__pairs`.
    Slow(&'static CStr),
}

type Outcome = Result<Done, String>;

/// Run `body`, then return its results or raise its error, with nothing of Rust left alive.
unsafe fn run(l: *mut lua_State, body: impl FnOnce(&LuaCtx) -> Outcome) -> c_int {
    let top = ffi::lua_gettop(l);
    let outcome = {
        let ctx = &*(ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const LuaCtx);
        catch_unwind(AssertUnwindSafe(|| body(ctx)))
            .unwrap_or_else(|_| Err("internal error in skynet.core".to_string()))
    };
    match outcome {
        Ok(Done::Ret(n)) => n,
        Ok(Done::Slow(key)) => {
            // A nested table may have stopped the packer with its key and value pushed.
            ffi::lua_settop(l, top);
            let nargs = top;
            // Made on first use by skynet.core's __index.
            ffi::lua_getfield(l, ffi::lua_upvalueindex(2), key.as_ptr());
            ffi::lua_insert(l, 1);
            ffi::lua_call(l, nargs, ffi::LUA_MULTRET);
            ffi::lua_gettop(l)
        }
        Err(msg) => {
            ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
            drop(msg);
            ffi::lua_error(l)
        }
    }
}

unsafe fn type_name(l: *mut lua_State, idx: c_int) -> String {
    CStr::from_ptr(ffi::lua_typename(l, ffi::lua_type(l, idx)))
        .to_string_lossy()
        .into_owned()
}

unsafe fn str_at<'a>(l: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    std::slice::from_raw_parts(p.cast::<u8>(), len)
}

/// An address argument: a handle number, `:hex` or a name. `None` if unknown.
unsafe fn handle_at(l: *mut lua_State, idx: c_int) -> Result<Option<Handle>, String> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNUMBER if ffi::lua_isinteger(l, idx) != 0 => {
            Ok(Some(ffi::lua_tointeger(l, idx) as Handle))
        }
        ffi::LUA_TNUMBER => Ok(Some(ffi::lua_tonumber(l, idx) as Handle)),
        ffi::LUA_TSTRING => {
            let s = std::str::from_utf8(str_at(l, idx)).map_err(|e| e.to_string())?;
            Ok(node().resolve(s))
        }
        _ => Err(format!("invalid address type {}", type_name(l, idx))),
    }
}

unsafe fn int_at(l: *mut lua_State, idx: c_int) -> Option<i64> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNUMBER if ffi::lua_isinteger(l, idx) != 0 => Some(ffi::lua_tointeger(l, idx)),
        ffi::LUA_TNUMBER => Some(ffi::lua_tonumber(l, idx) as i64),
        _ => None,
    }
}

/// An optional message size.
unsafe fn size_at(l: *mut lua_State, idx: c_int) -> Result<Option<usize>, String> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => Ok(None),
        ffi::LUA_TNUMBER => match int_at(l, idx) {
            Some(n) if n >= 0 => Ok(Some(n as usize)),
            _ => Err(format!(
                "invalid message size {}",
                ffi::lua_tonumber(l, idx)
            )),
        },
        _ => Err(format!("invalid message size {}", type_name(l, idx))),
    }
}

const STALE: &str = "invalid message pointer (the message is no longer alive)";

/// A message argument (string, `(pointer, size)` or nil) as bytes; a packed buffer sent on
/// changes owner (msgbuf.rs's `read_with` with `take`).
unsafe fn message_at(l: *mut lua_State, ctx: &LuaCtx, idx: c_int) -> Result<Bytes, String> {
    let sz = size_at(l, idx + 1)?;
    match ffi::lua_type(l, idx) {
        ffi::LUA_TSTRING => {
            let b = str_at(l, idx);
            let n = sz.unwrap_or(b.len()).min(b.len());
            Ok(Bytes::copy_from_slice(&b[..n]))
        }
        ffi::LUA_TNONE | ffi::LUA_TNIL => Ok(Bytes::new()),
        ffi::LUA_TLIGHTUSERDATA => {
            let sz = sz.ok_or("message pointer needs a size")?;
            if sz == 0 {
                return Ok(Bytes::new());
            }
            let p = ffi::lua_touserdata(l, idx) as *const u8;
            ctx.find(p, sz, true).ok_or_else(|| STALE.to_string())
        }
        _ => Err(format!(
            "expected a message (string or pointer), got {}",
            type_name(l, idx)
        )),
    }
}

unsafe fn deliver(
    l: *mut lua_State,
    ctx: &LuaCtx,
    dest: Option<Handle>,
    ptype: u8,
    session: Option<i32>,
    data: Bytes,
) -> Done {
    let sent = dest.and_then(|h| ctx.dest(h)).map(|slot| {
        let session = session.unwrap_or_else(|| ctx.genid());
        node().deliver(&slot, Message::new(ctx.handle, session, ptype, data));
        session
    });
    match sent {
        Some(s) => ffi::lua_pushinteger(l, s as ffi::lua_Integer),
        None => ffi::lua_pushnil(l),
    }
    Done::Ret(1)
}

/// `send(dest, ptype, session|nil, msg, sz)` -> session, or nil for an unknown address.
unsafe extern "C-unwind" fn send(l: *mut lua_State) -> c_int {
    run(l, |ctx| {
        let ptype = int_at(l, 2).ok_or_else(|| format!("bad protocol id {}", type_name(l, 2)))?;
        let session = int_at(l, 3).map(|s| s as i32);
        let data = message_at(l, ctx, 4)?;
        let dest = handle_at(l, 1)?;
        Ok(deliver(l, ctx, dest, ptype as u8, session, data))
    })
}

/// `sendpack(dest, ptype, session|nil, ...)`: skynet.pack(...) and send in one step.
unsafe extern "C-unwind" fn sendpack(l: *mut lua_State) -> c_int {
    run(l, |ctx| {
        let ptype = match ffi::lua_type(l, 2) {
            ffi::LUA_TNUMBER if ffi::lua_isinteger(l, 2) != 0 => ffi::lua_tointeger(l, 2) as u8,
            _ => return Err(format!("bad protocol id {}", type_name(l, 2))),
        };
        let session = match ffi::lua_type(l, 3) {
            ffi::LUA_TNUMBER if ffi::lua_isinteger(l, 3) != 0 => {
                Some(ffi::lua_tointeger(l, 3) as i32)
            }
            _ => None,
        };
        let mut w = seri::Writer::with_capacity(64);
        if !seri::pack_stack(l, 4, &mut w).map_err(|e| e.to_string())? {
            return Ok(Done::Slow(c"sendpack_lua"));
        }
        let data = Bytes::from(w.finish());
        let dest = handle_at(l, 1)?;
        Ok(deliver(l, ctx, dest, ptype, session, data))
    })
}

/// `pack(...)` -> (pointer, size) of a buffer held until sent or trashed.
unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    run(l, |ctx| {
        let mut w = seri::Writer::with_capacity(64);
        if !seri::pack_stack(l, 1, &mut w).map_err(|e| e.to_string())? {
            return Ok(Done::Slow(c"pack_lua"));
        }
        let buf = w.finish();
        let len = buf.len();
        let p = if len == 0 {
            std::ptr::null()
        } else {
            ctx.hold_packed(Bytes::from(buf))
        };
        ffi::lua_pushlightuserdata(l, p as *mut _);
        ffi::lua_pushinteger(l, len as ffi::lua_Integer);
        Ok(Done::Ret(2))
    })
}

/// `unpack(msg, sz)` -> the values, decoded straight onto the stack.
unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    run(l, |ctx| {
        let sz = size_at(l, 2)?;
        let decoded = match ffi::lua_type(l, 1) {
            ffi::LUA_TSTRING => {
                let b = str_at(l, 1);
                let n = sz.unwrap_or(b.len()).min(b.len());
                seri::unpack_stack(l, &b[..n])
            }
            ffi::LUA_TNONE | ffi::LUA_TNIL => Ok(0),
            ffi::LUA_TLIGHTUSERDATA => {
                let sz = sz.ok_or("message pointer needs a size")?;
                if sz == 0 {
                    return Ok(Done::Ret(0));
                }
                let p = ffi::lua_touserdata(l, 1) as *const u8;
                ctx.with_slice(p, sz, |b| seri::unpack_stack(l, b))
                    .ok_or_else(|| STALE.to_string())?
            }
            _ => {
                return Err(format!(
                    "expected a message (string or pointer), got {}",
                    type_name(l, 1)
                ))
            }
        };
        decoded.map(Done::Ret).map_err(|e| e.to_string())
    })
}

/// `timeout(ti)` -> the session its response will carry.
unsafe extern "C-unwind" fn timeout(l: *mut lua_State) -> c_int {
    run(l, |ctx| {
        let ti = int_at(l, 1)
            .ok_or_else(|| format!("timeout must be a number, got {}", type_name(l, 1)))?;
        let session = ctx.genid();
        node().timer.timeout(ctx.handle, ti, session);
        ffi::lua_pushinteger(l, session as ffi::lua_Integer);
        Ok(Done::Ret(1))
    })
}

/// Put the C functions into `core` (the table skynet.core returns): upvalue 1 the service's
/// context, upvalue 2 `core` itself, where sendpack and pack find their mlua versions.
pub fn install(lua: &Lua, core: &Table, ctx: *const LuaCtx) -> mlua::Result<()> {
    let entries: [(&CStr, ffi::lua_CFunction); 5] = [
        (c"send", send),
        (c"sendpack", sendpack),
        (c"pack", pack),
        (c"unpack", unpack),
        (c"timeout", timeout),
    ];
    // SAFETY: `core` is the only argument, at index 1; each closure is made over the context
    // and a copy of it and stored in it, leaving the stack as it was. Nothing here can fail
    // but memory, which exec_raw's protected call catches.
    unsafe {
        lua.exec_raw::<()>(core, |l| {
            for (name, f) in entries {
                ffi::lua_pushlightuserdata(l, ctx as *mut _);
                ffi::lua_pushvalue(l, 1);
                ffi::lua_pushcclosure(l, f, 2);
                ffi::lua_setfield(l, 1, name.as_ptr());
            }
        })
    }
}
