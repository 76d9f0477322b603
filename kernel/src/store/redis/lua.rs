//! `skynet.db.redis.core`: the Rust half of `lualib/skynet/db/redis.lua`. Every call returns a
//! session (or `nil, message` when it can't be made at all); the reply packet is
//! `true, values...` or `false, message`.

use super::conn::{describe, Config, Link};
use super::reply;
use super::watch::{next_packet, Kind, Watch};
use crate::lua::io::spawn_io;
use crate::lua::msgbuf::ctx_of;
use crate::store::{arg_bytes, err_packet, ok_writer};
use ::redis::aio::MultiplexedConnection;
use ::redis::{Cmd, Pipeline};
use mlua::{AnyUserData, Lua, MultiValue, Table, UserData, UserDataMethods, Value};
use parking_lot::Mutex;
use std::sync::Arc;

/// Commands that would change the state every coroutine shares on one connection.
fn refused(name: &str, place: Place) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" | "ssubscribe" | "sunsubscribe" => {
            Some("pub/sub needs its own connection: use redis.watch(conf)")
        }
        "monitor" | "reset" | "hello" | "quit" => Some("would change the connection's protocol state"),
        "select" => Some("the database is chosen at connect time: redis.connect{db = n}"),
        "multi" | "exec" | "discard" | "watch" | "unwatch" if place == Place::Shared => {
            Some("needs a dedicated connection: use db:transaction(function(tx) ... end) or db:pipeline{...}")
        }
        "watch" | "unwatch" if place == Place::Pipeline => {
            Some("needs a dedicated connection: use db:transaction(function(tx) ... end)")
        }
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Shared,
    Pipeline,
    Transaction,
}

fn build(name: &str, args: impl Iterator<Item = Value>, place: Place) -> Result<Cmd, String> {
    if let Some(why) = refused(name, place) {
        return Err(format!(
            "redis command {} refused: {why}",
            name.to_ascii_uppercase()
        ));
    }
    let mut cmd = ::redis::cmd(name);
    for (i, v) in args.enumerate() {
        cmd.arg(
            arg_bytes(&v, i + 1)
                .map_err(|e| format!("redis {}: {e}", name.to_ascii_uppercase()))?,
        );
    }
    Ok(cmd)
}

/// `nil, message` for Lua when a call can't even start.
fn refuse(lua: &Lua, msg: String) -> mlua::Result<MultiValue> {
    Ok(MultiValue::from_iter([
        Value::Nil,
        Value::String(lua.create_string(msg)?),
    ]))
}

fn session(s: i32) -> mlua::Result<MultiValue> {
    Ok(MultiValue::from_iter([Value::Integer(s as i64)]))
}

/// Send one command on `conn`; a transport failure is reported to `on_fatal`.
async fn send(
    mut conn: MultiplexedConnection,
    cmd: Cmd,
    label: &str,
    on_fatal: impl FnOnce(&::redis::RedisError),
) -> Vec<u8> {
    let t = std::time::Instant::now();
    let r = conn.send_packed_command(&cmd).await;
    use crate::store::{op_metrics, B_REDIS, OP_COMMAND};
    op_metrics(B_REDIS, OP_COMMAND).done(
        t,
        matches!(r, Ok(ref v) if !matches!(v, ::redis::Value::ServerError(_))),
    );
    match r {
        Ok(v) => reply::packet(&v),
        Err(e) => {
            on_fatal(&e);
            err_packet(&describe(label, &e))
        }
    }
}

/// A `redis.connect` object.
struct Conn {
    link: Arc<Link>,
}

impl UserData for Conn {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("call", |lua, this, (name, args): (String, MultiValue)| {
            let cmd = match build(&name, args.into_iter(), Place::Shared) {
                Ok(c) => c,
                Err(e) => return refuse(lua, e),
            };
            let (conn, generation) = match this.link.conn() {
                Ok(c) => c,
                Err(e) => return refuse(lua, e),
            };
            let link = this.link.clone();
            session(spawn_io(lua, async move {
                Ok(send(conn, cmd, &link.label, |e| link.failed(generation, e)).await)
            })?)
        });
        m.add_method(
            "pipeline",
            |lua, this, (ops, detailed): (Table, Option<bool>)| {
                let mut pipe = Pipeline::with_capacity(ops.raw_len());
                for (i, op) in ops.sequence_values::<Table>().enumerate() {
                    let Ok(op) = op else {
                        return refuse(lua, format!("pipeline op #{} is not a table", i + 1));
                    };
                    let mut parts = op.sequence_values::<Value>();
                    let name = match parts.next() {
                        Some(Ok(Value::String(s))) => s.to_str()?.to_string(),
                        _ => {
                            return refuse(
                                lua,
                                format!("pipeline op #{} has no command name", i + 1),
                            )
                        }
                    };
                    let args: Vec<Value> = parts.collect::<mlua::Result<_>>()?;
                    match build(&name, args.into_iter(), Place::Pipeline) {
                        Ok(c) => pipe.add_command(c),
                        Err(e) => return refuse(lua, format!("pipeline op #{}: {e}", i + 1)),
                    };
                }
                if pipe.is_empty() {
                    return refuse(lua, "pipeline is empty".into());
                }
                let (mut conn, generation) = match this.link.conn() {
                    Ok(c) => c,
                    Err(e) => return refuse(lua, e),
                };
                let link = this.link.clone();
                let detailed = detailed.unwrap_or(false);
                session(spawn_io(lua, async move {
                    let t = std::time::Instant::now();
                    let r = conn.send_packed_commands(&pipe, 0, pipe.len()).await;
                    crate::store::op_metrics(crate::store::B_REDIS, crate::store::OP_PIPELINE)
                        .done(t, r.is_ok());
                    Ok(match r {
                        Ok(values) => reply::pipeline_packet(&values, detailed),
                        Err(e) => {
                            link.failed(generation, &e);
                            err_packet(&describe(&link.label, &e))
                        }
                    })
                })?)
            },
        );
        m.add_method("transaction", |lua, this, ()| {
            if let Err(e) = this.link.conn() {
                return Ok((None, Some(e), None));
            }
            let slot = Arc::new(Mutex::new(TxState::default()));
            let tx = lua.create_userdata(Tx {
                link: this.link.clone(),
                slot: slot.clone(),
            })?;
            let link = this.link.clone();
            let s = spawn_io(lua, async move {
                Ok(match link.dedicated().await {
                    Ok(c) => {
                        slot.lock().conn = Some(c);
                        ok_writer().finish()
                    }
                    Err(e) => err_packet(&e),
                })
            })?;
            Ok((Some(tx), None, Some(s)))
        });
        m.add_method("disconnect", |_, this, ()| {
            this.link.close();
            Ok(())
        });
    }
}

#[derive(Default)]
struct TxState {
    conn: Option<MultiplexedConnection>,
    in_multi: bool,
    watching: bool,
    done: bool,
}

/// A transaction's dedicated connection, with the session state needed to clean it up.
struct Tx {
    link: Arc<Link>,
    slot: Arc<Mutex<TxState>>,
}

impl UserData for Tx {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("call", |lua, this, (name, args): (String, MultiValue)| {
            let cmd = match build(&name, args.into_iter(), Place::Transaction) {
                Ok(c) => c,
                Err(e) => return refuse(lua, e),
            };
            let conn = {
                let mut st = this.slot.lock();
                let conn = match (&st.conn, st.done) {
                    (_, true) => {
                        return refuse(
                            lua,
                            format!("{}: the transaction has finished", this.link.label),
                        )
                    }
                    (None, _) => {
                        return refuse(
                            lua,
                            format!("{}: the transaction's connection was lost", this.link.label),
                        )
                    }
                    (Some(c), _) => c.clone(),
                };
                match name.to_ascii_lowercase().as_str() {
                    "multi" => st.in_multi = true,
                    "exec" | "discard" => {
                        st.in_multi = false;
                        st.watching = false;
                    }
                    "watch" => st.watching = true,
                    "unwatch" => st.watching = false,
                    _ => {}
                }
                conn
            };
            let (slot, label) = (this.slot.clone(), this.link.label.clone());
            session(spawn_io(lua, async move {
                Ok(send(conn, cmd, &label, |e| {
                    if super::conn::is_fatal(e) {
                        slot.lock().conn = None;
                    }
                })
                .await)
            })?)
        });
        // End of `db:transaction`: leave MULTI/WATCH state clean, then pool the connection.
        m.add_method("release", |_, this, ()| {
            let (conn, in_multi, watching) = {
                let mut st = this.slot.lock();
                st.done = true;
                (st.conn.take(), st.in_multi, st.watching)
            };
            let Some(mut conn) = conn else { return Ok(()) };
            let link = this.link.clone();
            crate::node::node().io().spawn(async move {
                let reset = match (in_multi, watching) {
                    (true, _) => Some("DISCARD"),
                    (false, true) => Some("UNWATCH"),
                    _ => None,
                };
                if let Some(c) = reset {
                    match conn.send_packed_command(&::redis::cmd(c)).await {
                        Ok(v) if reply::first_error(&v).is_none() => {}
                        _ => return,
                    }
                }
                link.give_back(conn);
            });
            Ok(())
        });
    }
}

struct Watcher {
    watch: Option<Watch>,
}

impl Watcher {
    fn get(&self) -> Result<&Watch, String> {
        self.watch
            .as_ref()
            .ok_or_else(|| "redis watch is disconnected".to_string())
    }
}

impl UserData for Watcher {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method(
            "request",
            |lua, this, (kind, names): (String, MultiValue)| {
                let Some(kind) = Kind::parse(&kind) else {
                    return refuse(lua, format!("unknown watch request {kind}"));
                };
                let mut list = Vec::with_capacity(names.len());
                for (i, v) in names.iter().enumerate() {
                    list.push(arg_bytes(v, i + 1).map_err(mlua::Error::runtime)?);
                }
                let watch = match this.get() {
                    Ok(w) => w,
                    Err(e) => return refuse(lua, e),
                };
                let done = match watch.request(kind, list) {
                    Ok(rx) => rx,
                    Err(e) => return refuse(lua, e),
                };
                let label = watch.label.clone();
                session(spawn_io(lua, async move {
                    Ok(match done.await {
                        Ok(Ok(())) => ok_writer().finish(),
                        Ok(Err(e)) => err_packet(&e),
                        Err(_) => err_packet(&format!("{label} watch is closed")),
                    })
                })?)
            },
        );
        m.add_method("message", |lua, this, ()| {
            let watch = match this.get() {
                Ok(w) => w,
                Err(e) => return refuse(lua, e),
            };
            let (events, down, label) = (
                watch.events.clone(),
                watch.down.clone(),
                watch.label.clone(),
            );
            session(spawn_io(lua, async move {
                Ok(next_packet(events, Some(down), label).await)
            })?)
        });
        // Dropping the handle ends the task and closes the connection.
        m.add_method_mut("disconnect", |_, this, ()| {
            this.watch = None;
            Ok(())
        });
    }
}

/// `connect(conf)` -> `conn, session` (the session answers once the first connection is up).
fn connect(lua: &Lua, conf: Table) -> mlua::Result<(AnyUserData, i32)> {
    let owner = ctx_of(lua)?.handle;
    let cfg = Config::from_lua(&conf)?;
    let link = Link::new(cfg, owner).map_err(mlua::Error::runtime)?;
    crate::store::track_redis(&link);
    let ud = lua.create_userdata(Conn { link: link.clone() })?;
    let s = spawn_io(lua, async move {
        Ok(match link.open().await {
            Ok(()) => ok_writer().finish(),
            Err(e) => e.packet(),
        })
    })?;
    Ok((ud, s))
}

/// `watch(conf)` -> `watcher, session`.
fn watch(lua: &Lua, conf: Table) -> mlua::Result<(AnyUserData, i32)> {
    let owner = ctx_of(lua)?.handle;
    let cfg = Config::from_lua(&conf)?;
    let (watch, ready) = Watch::start(cfg, owner).map_err(mlua::Error::runtime)?;
    let label = watch.label.clone();
    let ud = lua.create_userdata(Watcher { watch: Some(watch) })?;
    let s = spawn_io(lua, async move {
        Ok(match ready.await {
            Ok(Ok(())) => ok_writer().finish(),
            Ok(Err(e)) => e.packet(),
            Err(_) => err_packet(&format!("{label} watch task ended")),
        })
    })?;
    Ok((ud, s))
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "connect",
        lua.create_function(|lua, conf: Table| connect(lua, conf))?,
    )?;
    t.set(
        "watch",
        lua.create_function(|lua, conf: Table| watch(lua, conf))?,
    )?;
    Ok(t)
}
