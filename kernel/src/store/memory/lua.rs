//! `skynet.db.memory.core`: the in-process store for `lualib/skynet/db/memory.lua`. Commands
//! answer at once with `true, value` or `false, message`; a watcher's `message()` returns a
//! session like a Redis watch, since it waits for another service to publish.

use super::{store, Reply};
use crate::lua::io::spawn_io;
use crate::store::arg_bytes;
use crate::store::redis::watch::{next_packet, Event, Kind};
use bytes::Bytes;
use mlua::{Lua, MultiValue, Table, UserData, UserDataMethods, Value};
use std::sync::Arc;
use tokio::sync::mpsc;

fn to_lua(lua: &Lua, r: Reply) -> mlua::Result<Value> {
    Ok(match r {
        Reply::Nil => Value::Nil,
        Reply::Int(i) => Value::Integer(i),
        Reply::Bulk(b) => Value::String(lua.create_string(&b[..])?),
        Reply::Status(s) => Value::String(lua.create_string(s)?),
        Reply::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, x) in items.into_iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, x)?)?;
            }
            Value::Table(t)
        }
        // Errors are reported by the caller, never nested (no EXEC here).
        Reply::Error(e) => Value::String(lua.create_string(e)?),
    })
}

fn args_of(name: &str, args: &MultiValue) -> Result<Vec<Bytes>, String> {
    let mut v = Vec::with_capacity(args.len() + 1);
    v.push(Bytes::copy_from_slice(name.as_bytes()));
    for (i, a) in args.iter().enumerate() {
        let b = arg_bytes(a, i + 1)
            .map_err(|e| format!("memory store {}: {e}", name.to_ascii_uppercase()))?;
        v.push(Bytes::from(b));
    }
    Ok(v)
}

struct Conn {
    db: i64,
}

impl UserData for Conn {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("call", |lua, this, (name, args): (String, MultiValue)| {
            let argv = match args_of(&name, &args) {
                Ok(a) => a,
                Err(e) => return Ok((false, Value::String(lua.create_string(e)?))),
            };
            let t = std::time::Instant::now();
            let r = store().exec(this.db, &argv);
            use crate::store::{op_metrics, B_MEMORY, OP_COMMAND};
            op_metrics(B_MEMORY, OP_COMMAND).done(t, !matches!(r, Reply::Error(_)));
            match r {
                Reply::Error(e) => Ok((false, Value::String(lua.create_string(e)?))),
                r => Ok((true, to_lua(lua, r)?)),
            }
        });
    }
}

/// A subscriber: its queue receives messages published by any service. Disconnecting drops
/// every sender, so a pending `message()` ends with "closed" instead of waiting forever.
struct Watcher {
    id: u64,
    tx: Option<mpsc::UnboundedSender<Event>>,
    events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let s = store();
        s.unsubscribe(self.id, &[], false);
        s.unsubscribe(self.id, &[], true);
    }
}

impl UserData for Watcher {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("request", |_, this, (kind, names): (String, MultiValue)| {
            let tx = this
                .tx
                .as_ref()
                .ok_or_else(|| mlua::Error::runtime("memory store watch is disconnected"))?;
            let kind = Kind::parse(&kind)
                .ok_or_else(|| mlua::Error::runtime(format!("unknown watch request {kind}")))?;
            let mut list = Vec::with_capacity(names.len());
            for (i, v) in names.iter().enumerate() {
                list.push(Bytes::from(
                    arg_bytes(v, i + 1).map_err(mlua::Error::runtime)?,
                ));
            }
            let s = store();
            match kind {
                Kind::Subscribe | Kind::PSubscribe => {
                    for n in list {
                        s.subscribe(this.id, tx, n, kind == Kind::PSubscribe);
                    }
                }
                Kind::Unsubscribe => s.unsubscribe(this.id, &list, false),
                Kind::PUnsubscribe => s.unsubscribe(this.id, &list, true),
            }
            Ok(())
        });
        m.add_method("message", |lua, this, ()| {
            if this.tx.is_none() {
                return Ok((None, Some("memory store watch is disconnected")));
            }
            let events = this.events.clone();
            Ok((
                Some(spawn_io(lua, async move {
                    Ok(next_packet(events, None, "memory store".into()).await)
                })?),
                None,
            ))
        });
        m.add_method_mut("disconnect", |_, this, ()| {
            this.tx = None;
            let s = store();
            s.unsubscribe(this.id, &[], false);
            s.unsubscribe(this.id, &[], true);
            Ok(())
        });
    }
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "connect",
        lua.create_function(|lua, db: Option<i64>| {
            lua.create_userdata(Conn {
                db: db.unwrap_or(0),
            })
        })?,
    )?;
    t.set(
        "watch",
        lua.create_function(|lua, ()| {
            let (tx, rx) = mpsc::unbounded_channel();
            lua.create_userdata(Watcher {
                id: store().subscriber_id(),
                tx: Some(tx),
                events: Arc::new(tokio::sync::Mutex::new(rx)),
            })
        })?,
    )?;
    Ok(t)
}
