//! The read buffer behind `socket.read` / `readline` / `readall`: bytes from DATA events are
//! appended here and taken out as Lua strings, so large streams don't churn Lua tables.

use super::event;
use crate::lua::msgbuf;
use bytes::{Buf, BytesMut};
use mlua::{Lua, UserData, UserDataMethods, Value};

#[derive(Default)]
pub struct SockBuf {
    buf: BytesMut,
}

fn find(hay: &[u8], sep: &[u8]) -> Option<usize> {
    if sep.is_empty() {
        return Some(0);
    }
    hay.windows(sep.len()).position(|w| w == sep)
}

impl UserData for SockBuf {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        // push(msg, sz): append the payload of a DATA event; returns the buffered size.
        m.add_method_mut("push", |lua, this, (msg, sz): (Value, Option<usize>)| {
            let b = msgbuf::resolve(lua, &msg, sz)?;
            if b.len() < event::HEADER {
                return Err(mlua::Error::runtime("not a socket data message"));
            }
            this.buf.extend_from_slice(&b[event::HEADER..]);
            Ok(this.buf.len())
        });
        // pushstring(s): append raw bytes (tests and protocol helpers).
        m.add_method_mut("pushstring", |_, this, s: mlua::LuaString| {
            this.buf.extend_from_slice(&s.as_bytes());
            Ok(this.buf.len())
        });
        // pop(n): exactly n bytes, or nil if fewer are buffered.
        m.add_method_mut("pop", |lua: &Lua, this, n: usize| {
            if this.buf.len() < n {
                return Ok(None);
            }
            let s = lua.create_string(&this.buf[..n])?;
            this.buf.advance(n);
            Ok(Some(s))
        });
        m.add_method_mut("readall", |lua, this, ()| {
            let s = lua.create_string(&this.buf[..])?;
            this.buf.clear();
            Ok(s)
        });
        // readline(sep): the bytes before the first `sep` (consumed with it), or nil.
        m.add_method_mut("readline", |lua, this, sep: mlua::LuaString| {
            let sep = sep.as_bytes();
            match find(&this.buf, &sep) {
                Some(i) => {
                    let s = lua.create_string(&this.buf[..i])?;
                    this.buf.advance(i + sep.len());
                    Ok(Some(s))
                }
                None => Ok(None),
            }
        });
        m.add_method("find", |_, this, sep: mlua::LuaString| {
            Ok(find(&this.buf, &sep.as_bytes()).is_some())
        });
        m.add_method("size", |_, this, ()| Ok(this.buf.len()));
    }
}
