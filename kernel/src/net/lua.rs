//! `skynet.socketdriver`: the Rust primitives under `lualib/skynet/socket.lua`. Calls never
//! block: connects, accepts and reads report back as PTYPE_SOCKET events.

use super::buffer::SockBuf;
use super::event;
use super::table::{table, FrameError, Kind};
use super::{tcp, udp};
use crate::lua::io::spawn_io;
use crate::lua::msgbuf::{self, ctx_of};
use crate::lua::seri::{STable, SValue};
use bytes::Bytes;
use mlua::{Lua, MultiValue, Table, Value};
use std::time::Duration;

const DEFAULT_BACKLOG: u32 = 1024;
/// Default connect timeout for `socket.open`, in centiseconds.
const DEFAULT_CONNECT_CS: u64 = 1000;

fn me(lua: &Lua) -> mlua::Result<u32> {
    Ok(ctx_of(lua)?.handle)
}

fn size_arg(v: Option<Value>) -> mlua::Result<Option<usize>> {
    match v {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Integer(i)) if i >= 0 => Ok(Some(i as usize)),
        Some(Value::Number(n)) if n >= 0.0 => Ok(Some(n as usize)),
        Some(other) => Err(mlua::Error::runtime(format!("invalid size {other:?}"))),
    }
}

/// A write argument: string, (lightuserdata, size) or an array of strings (concatenated).
fn data_arg(lua: &Lua, msg: &Value, sz: Option<Value>) -> mlua::Result<Bytes> {
    if let Value::Table(t) = msg {
        let mut v = Vec::new();
        for s in t.sequence_values::<mlua::LuaString>() {
            v.extend_from_slice(&s?.as_bytes());
        }
        return Ok(Bytes::from(v));
    }
    msgbuf::take(lua, msg, size_arg(sz)?)
}

fn err(e: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(e.to_string())
}

fn port_arg(p: i64) -> mlua::Result<u16> {
    u16::try_from(p).map_err(|_| err(format!("invalid port {p}")))
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;

    t.set(
        "listen",
        lua.create_function(
            |lua, (host, port, backlog): (String, Option<i64>, Option<u32>)| {
                let (id, addr) = tcp::listen(
                    me(lua)?,
                    &host,
                    port_arg(port.unwrap_or(0))?,
                    backlog.unwrap_or(DEFAULT_BACKLOG),
                )
                .map_err(err)?;
                Ok((id, addr.ip().to_string(), addr.port()))
            },
        )?,
    )?;
    t.set(
        "connect",
        lua.create_function(|lua, (host, port, timeout): (String, i64, Option<u64>)| {
            let cs = timeout.unwrap_or(DEFAULT_CONNECT_CS).max(1);
            Ok(tcp::connect(
                me(lua)?,
                host,
                port_arg(port)?,
                Duration::from_millis(cs * 10),
            ))
        })?,
    )?;
    // stdin(): standard input as a stream socket; socket.stdin() starts it
    t.set(
        "stdin",
        lua.create_function(|lua, ()| Ok(tcp::stdin(me(lua)?)))?,
    )?;
    // start(id): become the owner and start (or resume) reading or accepting; CONNECT confirms.
    t.set(
        "start",
        lua.create_function(|lua, id: i32| {
            let owner = me(lua)?;
            let Some(s) = table().get(id) else {
                event::post(owner, event::encode(event::ERROR, id, 0, b"invalid socket"));
                return Ok(());
            };
            if matches!(s.kind, Kind::Gate(_)) {
                return Err(err(format!(
                    "socket {id} belongs to a gate: use the gate's accept/forward"
                )));
            }
            s.set_owner(owner);
            // Also when already started: a new owner (after abandon) waits for it, as in skynet.
            event::post(
                owner,
                event::encode(event::CONNECT, id, 0, s.peer.as_bytes()),
            );
            s.start();
            Ok(())
        })?,
    )?;
    t.set(
        "pause",
        lua.create_function(|_, id: i32| {
            if let Some(s) = table().get(id) {
                s.pause();
            }
            Ok(())
        })?,
    )?;
    t.set(
        "close",
        lua.create_function(|_, id: i32| {
            if let Some(s) = table().get(id) {
                s.close(false);
            }
            Ok(())
        })?,
    )?;
    t.set(
        "shutdown",
        lua.create_function(|_, id: i32| {
            if let Some(s) = table().get(id) {
                s.close(true);
            }
            Ok(())
        })?,
    )?;
    t.set(
        "nodelay",
        lua.create_function(|_, id: i32| {
            if let Some(out) = table().get(id).and_then(|s| s.out.clone()) {
                out.set_nodelay();
            }
            Ok(())
        })?,
    )?;
    let send = lua.create_function(|lua, (id, msg, sz): (i32, Value, Option<Value>)| {
        let data = data_arg(lua, &msg, sz)?;
        Ok(table().with(id, |s| s.write(data).is_ok()).unwrap_or(false))
    })?;
    t.set("send", send.clone())?;
    // skynet's low-priority queue exists to let urgent data overtake; one queue keeps order.
    t.set("lsend", send)?;
    t.set(
        "sendframe",
        lua.create_function(|lua, (id, msg, sz): (i32, Value, Option<Value>)| {
            // A Lua string is framed straight from its bytes: one copy.
            let (held, owned);
            let data: &[u8] = match &msg {
                Value::String(s) => {
                    held = s.as_bytes();
                    match size_arg(sz)? {
                        Some(n) => &held[..n.min(held.len())],
                        None => &held,
                    }
                }
                _ => {
                    owned = data_arg(lua, &msg, sz)?;
                    &owned
                }
            };
            match table().with(id, |s| s.write_frame(data)) {
                Some(Ok(())) => Ok(true),
                Some(Err(e @ FrameError::TooLong(_))) => Err(err(e)),
                Some(Err(_)) => Ok(false),
                // Too long for the framing is a caller bug even if the socket just closed.
                None if data.len() > u16::MAX as usize => Err(err(FrameError::TooLong(data.len()))),
                None => Ok(false),
            }
        })?,
    )?;
    t.set(
        "udp",
        lua.create_function(|lua, (host, port): (Option<String>, Option<i64>)| {
            udp::open(
                me(lua)?,
                host.as_deref().unwrap_or(""),
                port_arg(port.unwrap_or(0))?,
            )
            .map_err(err)
        })?,
    )?;
    t.set(
        "udp_connect",
        lua.create_function(|_, (id, host, port): (i32, String, i64)| {
            udp::set_peer(id, &host, port_arg(port)?).map_err(err)
        })?,
    )?;
    t.set(
        "udp_send",
        lua.create_function(
            |lua, (id, to, msg, sz): (i32, String, Value, Option<Value>)| {
                let data = data_arg(lua, &msg, sz)?;
                let addr = udp::parse_addr(&to)
                    .ok_or_else(|| err(format!("invalid udp address {to:?}")))?;
                Ok(match table().get(id).as_deref().map(|s| &s.kind) {
                    Some(Kind::Udp(u)) => {
                        udp::send_to(u, addr, data);
                        true
                    }
                    _ => false,
                })
            },
        )?,
    )?;
    t.set(
        "udp_address",
        lua.create_function(|_, addr: String| {
            Ok(match udp::parse_addr(&addr) {
                Some(a) => (Some(a.ip().to_string()), Some(a.port())),
                None => (None, None),
            })
        })?,
    )?;
    t.set(
        "buffer",
        lua.create_function(|_, ()| Ok(SockBuf::default()))?,
    )?;
    t.set("unpack", lua.create_function(unpack)?)?;
    t.set(
        "info",
        lua.create_function(|lua, ()| {
            let list = lua.create_table()?;
            for s in table().all() {
                let e = lua.create_table()?;
                e.set("id", s.id)?;
                e.set("type", s.kind_name())?;
                e.set("peer", s.peer.as_str())?;
                e.set("address", s.owner())?;
                e.set("pending", s.out.as_ref().map(|o| o.pending()).unwrap_or(0))?;
                list.push(e)?;
            }
            Ok(list)
        })?,
    )?;
    // resolve(host): a session; the reply is an array of IP strings.
    t.set(
        "resolve",
        lua.create_function(|lua, host: String| {
            spawn_io(lua, async move {
                let addrs = tokio::net::lookup_host((host.as_str(), 0))
                    .await
                    .map_err(|e| format!("resolve {host}: {e}"))?;
                let mut ips: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
                ips.dedup();
                let t = STable {
                    array: ips
                        .into_iter()
                        .map(|s| SValue::Str(Bytes::from(s)))
                        .collect(),
                    hash: vec![],
                };
                Ok(crate::lua::seri::pack_svalues(&[SValue::Table(t)]))
            })
        })?,
    )?;
    Ok(t)
}

/// Decode a PTYPE_SOCKET message: `type, id, ud, ...`. DATA passes the message itself on
/// (`msg, sz`) so the buffer can take the payload without a Lua string in between.
fn unpack(lua: &Lua, (msg, sz): (Value, Option<Value>)) -> mlua::Result<MultiValue> {
    let b = msgbuf::resolve(lua, &msg, size_arg(sz.clone())?)?;
    let (kind, id, ud, payload) = event::decode(&b).ok_or_else(|| err("invalid socket message"))?;
    let mut out = vec![
        Value::Integer(kind as i64),
        Value::Integer(id as i64),
        Value::Integer(ud as i64),
    ];
    match kind {
        event::DATA => {
            out.push(msg);
            out.push(Value::Integer(b.len() as i64));
        }
        event::UDP => {
            let n = (ud.max(0) as usize).min(payload.len());
            out.push(Value::String(lua.create_string(&payload[..n])?));
            out.push(Value::String(lua.create_string(&payload[n..])?));
        }
        _ => out.push(Value::String(lua.create_string(payload)?)),
    }
    Ok(MultiValue::from_iter(out))
}
