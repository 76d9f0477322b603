//! `skynet.db.sql.core`: the Rust half of `lualib/skynet/db/sql.lua`. Calls return a session
//! whose reply is `true, values...` or `false, message`.

use super::param::{Blob, Param};
use super::pool::{redact, Options, Pool, Tx};
use crate::lua::io::spawn_io;
use crate::lua::msgbuf::ctx_of;
use crate::service::fmt_handle;
use crate::store::{err_packet, ok_writer};
use mlua::{AnyUserData, Lua, LuaString, MultiValue, Table, UserData, UserDataMethods};
use std::sync::Arc;
use std::time::Duration;

fn params(args: &MultiValue) -> mlua::Result<Vec<Param>> {
    args.iter()
        .enumerate()
        .map(|(i, v)| Param::from_lua(v, i + 1))
        .collect()
}

fn packet(r: Result<Vec<u8>, super::SqlError>) -> Vec<u8> {
    r.unwrap_or_else(|e| err_packet(&e.to_string()))
}

/// SQL text as Rust owns it; SQL must be UTF-8 (data goes in parameters).
fn sql_text(s: &LuaString) -> mlua::Result<String> {
    Ok(s.to_str()
        .map_err(|_| {
            mlua::Error::runtime("SQL text must be UTF-8 (pass binary data as a parameter)")
        })?
        .to_string())
}

struct Db {
    pool: Pool,
    tracked: u64,
}

impl Drop for Db {
    fn drop(&mut self) {
        crate::store::untrack_sql(self.tracked);
    }
}

impl UserData for Db {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method(
            "query",
            |lua, this, (sql, args): (LuaString, MultiValue)| {
                let (sql, ps, pool) = (sql_text(&sql)?, params(&args)?, this.pool.clone());
                spawn_io(lua, async move { Ok(packet(pool.query(&sql, &ps).await)) })
            },
        );
        m.add_method(
            "execute",
            |lua, this, (sql, args): (LuaString, MultiValue)| {
                let (sql, ps, pool) = (sql_text(&sql)?, params(&args)?, this.pool.clone());
                spawn_io(
                    lua,
                    async move { Ok(packet(pool.execute(&sql, &ps).await)) },
                )
            },
        );
        m.add_method("begin", |lua, this, ()| {
            let slot = Arc::new(tokio::sync::Mutex::new(None));
            let tx = lua.create_userdata(TxHandle { slot: slot.clone() })?;
            let pool = this.pool.clone();
            let s = spawn_io(lua, async move {
                Ok(match pool.begin().await {
                    Ok(t) => {
                        *slot.lock().await = Some(t);
                        ok_writer().finish()
                    }
                    Err(e) => err_packet(&e.to_string()),
                })
            })?;
            Ok((tx, s))
        });
        m.add_method("migrate", |lua, this, dir: String| {
            let pool = this.pool.clone();
            spawn_io(lua, async move {
                Ok(match pool.migrate(&dir).await {
                    Ok(n) => {
                        let mut w = ok_writer();
                        w.integer(n as i64);
                        w.finish()
                    }
                    Err(e) => err_packet(&e.to_string()),
                })
            })
        });
        m.add_method("kind", |_, this, ()| Ok(this.pool.kind().name()));
        m.add_method("close", |_, this, ()| {
            let pool = this.pool.clone();
            crate::node::node()
                .io()
                .spawn(async move { pool.close().await });
            Ok(())
        });
    }
}

/// An open transaction; `None` once committed or rolled back.
struct TxHandle {
    slot: Arc<tokio::sync::Mutex<Option<Tx>>>,
}

// An unfinished transaction (its coroutine died) rolls back as it drops, and sqlx returns the
// connection to the pool by spawning on the ambient runtime: Lua may collect this handle on a
// worker thread, so enter the IO runtime first.
impl Drop for TxHandle {
    fn drop(&mut self) {
        let _rt = crate::node::node().io().enter();
        if let Ok(mut slot) = self.slot.try_lock() {
            drop(slot.take());
        }
    }
}

const FINISHED: &str = "the transaction has finished";

impl UserData for TxHandle {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method(
            "query",
            |lua, this, (sql, args): (LuaString, MultiValue)| {
                let (sql, ps, slot) = (sql_text(&sql)?, params(&args)?, this.slot.clone());
                spawn_io(lua, async move {
                    Ok(match slot.lock().await.as_mut() {
                        Some(tx) => packet(tx.query(&sql, &ps).await),
                        None => err_packet(FINISHED),
                    })
                })
            },
        );
        m.add_method(
            "execute",
            |lua, this, (sql, args): (LuaString, MultiValue)| {
                let (sql, ps, slot) = (sql_text(&sql)?, params(&args)?, this.slot.clone());
                spawn_io(lua, async move {
                    Ok(match slot.lock().await.as_mut() {
                        Some(tx) => packet(tx.execute(&sql, &ps).await),
                        None => err_packet(FINISHED),
                    })
                })
            },
        );
        m.add_method("finish", |lua, this, commit: bool| {
            let slot = this.slot.clone();
            spawn_io(lua, async move {
                let tx = slot.lock().await.take();
                Ok(match tx {
                    Some(tx) => packet(tx.finish(commit).await.map(|()| ok_writer().finish())),
                    None => err_packet(FINISHED),
                })
            })
        });
    }
}

fn options(t: Option<Table>) -> mlua::Result<Options> {
    let mut o = Options {
        max: 4,
        acquire_timeout: Duration::from_secs(5),
    };
    if let Some(t) = t {
        if let Some(n) = t.get::<Option<u32>>("pool")? {
            o.max = n.max(1);
        }
        if let Some(s) = t.get::<Option<f64>>("timeout")? {
            if !(s > 0.0 && s.is_finite()) {
                return Err(mlua::Error::runtime(
                    "sql.connect option `timeout` must be a positive number of seconds",
                ));
            }
            o.acquire_timeout = Duration::from_secs_f64(s);
        }
    }
    Ok(o)
}

/// `connect(url, opts)` -> `db, session` (the session answers once a connection is open).
fn connect(lua: &Lua, (url, opts): (String, Option<Table>)) -> mlua::Result<(AnyUserData, i32)> {
    let owner = ctx_of(lua)?.handle;
    // Pools start their upkeep task on the current runtime.
    let _rt = crate::node::node().io().enter();
    let pool =
        Pool::lazy(&url, &options(opts)?).map_err(|e| mlua::Error::runtime(e.to_string()))?;
    let tracked = crate::store::track_sql(&pool);
    let ud = lua.create_userdata(Db {
        pool: pool.clone(),
        tracked,
    })?;
    let shown = redact(&url);
    let s = spawn_io(lua, async move {
        Ok(match pool.ping().await {
            Ok(()) => {
                tracing::debug!(service = %fmt_handle(owner), url = %shown, "sql pool ready");
                ok_writer().finish()
            }
            Err(e) => err_packet(&format!("{e} (connecting to {shown})")),
        })
    })?;
    Ok((ud, s))
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("connect", lua.create_function(connect)?)?;
    t.set(
        "blob",
        lua.create_function(|lua, s: LuaString| lua.create_userdata(Blob(s.as_bytes().to_vec())))?,
    )?;
    Ok(t)
}
