//! C-API fast paths for the Lua side of pack/unpack, run inside `Lua::exec_raw`.
//!
//! Going through mlua's safe handles costs a registry-style reference and often a protected
//! call per value; on the message hot path that is several times the work lua-seri.c does.
//! These walk the Lua stack directly, as lua-seri.c does.
//!
//! Soundness rules for everything in this file:
//! - Nothing here calls Lua code, so the only Lua errors possible are memory errors. Those
//!   longjmp to `exec_raw`'s protected call across our frames, which therefore must never own
//!   anything with a destructor (they hold only references and `Copy` data).
//! - Our own failures are returned as values and surfaced after `exec_raw` returns.
//! - Panics must not unwind into Lua's C frames: each entry point runs under `catch_unwind`.
//! - Stack slots are reserved with `lua_checkstack` (which reports failure instead of raising)
//!   before anything is pushed: per table for its contents, per value at the top level.

use super::{decode, Build, Reader, Scalar, Writer, MAX_DEPTH, TOO_DEEP};
use mlua::ffi::{self, lua_State};
use mlua::{Lua, MultiValue};
use std::ffi::{c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why packing stopped.
enum Stop {
    /// A table has `__pairs`, which means calling Lua: redo this value on the safe path.
    MetaPairs,
    Error(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Self {
        Stop::Error(e)
    }
}

fn lua_error(msg: &str) -> mlua::Error {
    mlua::Error::runtime(msg)
}

const PANICKED: &str = "internal error in serializer";

/// Packs one top-level table. `Ok(false)` asks the caller to use the safe path instead.
pub(super) fn pack_table(w: &mut Writer, t: &mlua::Table) -> mlua::Result<bool> {
    // The Lua that owns `t` (mlua exposes no other way to reach it from a value). If it is
    // gone, the safe path reports that.
    let Some(lua) = t.weak_lua().try_upgrade() else {
        return Ok(false);
    };
    let mut out: Result<(), Stop> = Ok(());
    // SAFETY: see the module rules; `t` is the closure's only argument, at stack index 1.
    unsafe {
        lua.exec_raw::<()>(t, |l| {
            out = catch_unwind(AssertUnwindSafe(|| pack_value(l, w, 1, 0)))
                .unwrap_or_else(|_| Err(lua_error(PANICKED).into()));
            ffi::lua_settop(l, 0);
        })?;
    }
    match out {
        Ok(()) => Ok(true),
        Err(Stop::MetaPairs) => Ok(false),
        Err(Stop::Error(e)) => Err(e),
    }
}

/// lua-seri.c's `pack_one` for the value at `idx`.
unsafe fn pack_value(
    l: *mut lua_State,
    w: &mut Writer,
    idx: c_int,
    depth: usize,
) -> Result<(), Stop> {
    if depth > MAX_DEPTH {
        return Err(lua_error(TOO_DEEP).into());
    }
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNIL => w.nil(),
        ffi::LUA_TBOOLEAN => w.boolean(ffi::lua_toboolean(l, idx) != 0),
        ffi::LUA_TNUMBER if ffi::lua_isinteger(l, idx) != 0 => {
            w.integer(ffi::lua_tointeger(l, idx))
        }
        ffi::LUA_TNUMBER => w.real(ffi::lua_tonumber(l, idx)),
        ffi::LUA_TSTRING => {
            let mut len = 0usize;
            // Only called on actual strings, so this never converts in place (which would
            // confuse lua_next when the value is a key).
            let p = ffi::lua_tolstring(l, idx, &mut len);
            if u32::try_from(len).is_err() {
                return Err(lua_error("string too long to serialize").into());
            }
            w.string(std::slice::from_raw_parts(p.cast::<u8>(), len));
        }
        ffi::LUA_TLIGHTUSERDATA => w.pointer(ffi::lua_touserdata(l, idx) as usize as u64),
        ffi::LUA_TTABLE => pack_table_at(l, w, ffi::lua_absindex(l, idx), depth + 1)?,
        ty => {
            let name = CStr::from_ptr(ffi::lua_typename(l, ty)).to_string_lossy();
            return Err(lua_error(&format!("Unsupport type {name} to serialize")).into());
        }
    }
    Ok(())
}

/// `idx` is absolute; `depth` is the level of the table's contents.
unsafe fn pack_table_at(
    l: *mut lua_State,
    w: &mut Writer,
    idx: c_int,
    depth: usize,
) -> Result<(), Stop> {
    // Key, value and one scratch slot.
    if ffi::lua_checkstack(l, 3) == 0 {
        return Err(lua_error("stack overflow").into());
    }
    if ffi::lua_getmetatable(l, idx) != 0 {
        // luaL_getmetafield: raw lookup, any non-nil value counts.
        let key = b"__pairs";
        ffi::lua_pushlstring(l, key.as_ptr().cast(), key.len());
        let found = ffi::lua_rawget(l, -2) != ffi::LUA_TNIL;
        ffi::lua_pop(l, 2);
        if found {
            return Err(Stop::MetaPairs);
        }
    }
    let array_len = ffi::lua_rawlen(l, idx);
    w.table_begin(array_len);
    for i in 1..=array_len {
        ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
        pack_value(l, w, -1, depth)?;
        ffi::lua_pop(l, 1);
    }
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, idx) != 0 {
        // lua_next visits the array part too; those keys were already written.
        if ffi::lua_isinteger(l, -2) != 0 {
            let k = ffi::lua_tointeger(l, -2);
            if k > 0 && (k as u64) <= array_len as u64 {
                ffi::lua_pop(l, 1);
                continue;
            }
        }
        pack_value(l, w, -2, depth)?;
        pack_value(l, w, -1, depth)?;
        ffi::lua_pop(l, 1);
    }
    w.table_end();
    Ok(())
}

/// Decodes straight onto the Lua stack: every value built is left on top.
struct StackBuild(*mut lua_State);

impl StackBuild {
    fn reserve(&self, n: c_int) -> mlua::Result<()> {
        // SAFETY: a valid state; lua_checkstack reports failure instead of raising.
        match unsafe { ffi::lua_checkstack(self.0, n) } {
            0 => Err(lua_error("stack overflow")),
            _ => Ok(()),
        }
    }
}

impl Build for StackBuild {
    type Value = ();
    type Table = ();
    type Error = mlua::Error;

    fn scalar(&mut self, s: Scalar<'_>) -> mlua::Result<()> {
        let l = self.0;
        // SAFETY: the slot was reserved by the enclosing `table` or the top-level loop.
        unsafe {
            match s {
                Scalar::Nil => ffi::lua_pushnil(l),
                Scalar::Bool(b) => ffi::lua_pushboolean(l, b as c_int),
                Scalar::Int(i) => ffi::lua_pushinteger(l, i),
                Scalar::Real(f) => ffi::lua_pushnumber(l, f),
                Scalar::Str(s) => {
                    ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
                }
                Scalar::Ptr(p) => ffi::lua_pushlightuserdata(l, p as usize as *mut _),
            }
        }
        Ok(())
    }

    fn table(&mut self, array_len: usize) -> mlua::Result<()> {
        // The table, then a key and a value being built: every scalar pushed inside it.
        self.reserve(3)?;
        // SAFETY: slots reserved; `array_len` is bounded by the input size.
        unsafe { ffi::lua_createtable(self.0, array_len.min(c_int::MAX as usize) as c_int, 0) };
        Ok(())
    }

    fn set_index(&mut self, _: &mut (), i: usize, _: ()) -> mlua::Result<()> {
        // SAFETY: the table is below the value just built.
        unsafe { ffi::lua_rawseti(self.0, -2, i as ffi::lua_Integer) };
        Ok(())
    }

    fn set_pair(&mut self, _: &mut (), _: (), _: ()) -> mlua::Result<()> {
        let l = self.0;
        // SAFETY: stack is table, key, value. lua_rawset raises on a NaN key (a nil key cannot
        // occur: nil ends the pairs), so reject that here instead of longjmp-ing.
        unsafe {
            if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER
                && ffi::lua_isinteger(l, -2) == 0
                && ffi::lua_tonumber(l, -2).is_nan()
            {
                return Err(lua_error("table index is NaN"));
            }
            ffi::lua_rawset(l, -3);
        }
        Ok(())
    }

    fn finish(&mut self, _: ()) {}
}

pub(super) fn unpack(lua: &Lua, data: &[u8]) -> mlua::Result<MultiValue> {
    let mut out: mlua::Result<()> = Ok(());
    // SAFETY: see the module rules. The closure has no arguments; whatever it leaves on the
    // stack becomes the result.
    let values = unsafe {
        lua.exec_raw::<MultiValue>((), |l| {
            out = catch_unwind(AssertUnwindSafe(|| unpack_stack(l, data).map(|_| ())))
                .unwrap_or_else(|_| Err(lua_error(PANICKED)));
            if out.is_err() {
                ffi::lua_settop(l, 0);
            }
        })?
    };
    out.map(|()| values)
}

/// For C functions called from Lua (kernel/src/lua/fast.rs): pack the stack values from
/// `first` to the top. `Ok(false)`: some table has `__pairs`; the caller takes the safe path.
///
/// # Safety
/// `l` is a valid state inside a C function call; the module rules above apply to the caller.
pub(crate) unsafe fn pack_stack(
    l: *mut lua_State,
    first: c_int,
    w: &mut Writer,
) -> mlua::Result<bool> {
    let top = ffi::lua_gettop(l);
    for i in first..=top {
        match pack_value(l, w, i, 0) {
            Ok(()) => {}
            Err(Stop::MetaPairs) => return Ok(false),
            Err(Stop::Error(e)) => return Err(e),
        }
    }
    Ok(true)
}

/// For C functions called from Lua: decode `data` onto the stack and return how many values
/// were pushed. On error the stack may hold some of them; the caller raises.
///
/// # Safety
/// As [`pack_stack`].
pub(crate) unsafe fn unpack_stack(l: *mut lua_State, data: &[u8]) -> mlua::Result<c_int> {
    let base = ffi::lua_gettop(l);
    let mut b = StackBuild(l);
    let mut r = Reader::new(data);
    while r.remaining() > 0 {
        b.reserve(1)?;
        let tok = r.token()?;
        decode(&mut r, &mut b, tok, 0)?;
    }
    Ok(ffi::lua_gettop(l) - base)
}
