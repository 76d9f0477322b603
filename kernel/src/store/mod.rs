//! Stores for Lua services: a Redis client (`skynet.db.redis`), SQL pools over sqlx for
//! MySQL/MariaDB, PostgreSQL and SQLite (`skynet.db.sql`), and an in-process online store with
//! Redis semantics (`skynet.db.memory`) so the all-in-one node needs no server.
//!
//! Every call runs on the node's tokio runtime through [`crate::lua::io::spawn_io`]; only the
//! calling coroutine waits. Replies travel in-band as `true, values...` or `false, message`, so
//! Lua raises with the server's own message instead of a wrapped "call failed" text.

pub mod memory;
pub mod redis;
pub mod sql;

use crate::lua::seri::Writer;
use crate::metrics::{self, Counter, Histogram};
use mlua::Value;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Latency and errors of one kind of store operation, for `/metrics`.
pub struct OpMetrics {
    seconds: Arc<Histogram>,
    errors: Arc<Counter>,
}

/// Backends and operations, as label values.
pub const BACKENDS: [&str; 5] = ["redis", "memory", "sqlite", "mysql", "postgres"];
pub const OPS: [&str; 6] = ["command", "pipeline", "query", "execute", "begin", "commit"];
pub const B_REDIS: usize = 0;
pub const B_MEMORY: usize = 1;
pub const OP_COMMAND: usize = 0;
pub const OP_PIPELINE: usize = 1;
pub const OP_QUERY: usize = 2;
pub const OP_EXECUTE: usize = 3;
pub const OP_BEGIN: usize = 4;
pub const OP_COMMIT: usize = 5;

/// The metrics of `op` on `backend` (indexes into [`BACKENDS`] and [`OPS`]); the lookup is an
/// array index, the series are registered on first use.
pub fn op_metrics(backend: usize, op: usize) -> &'static OpMetrics {
    static M: [[OnceLock<OpMetrics>; OPS.len()]; BACKENDS.len()] =
        [const { [const { OnceLock::new() }; OPS.len()] }; BACKENDS.len()];
    M[backend][op].get_or_init(|| {
        let l = [("backend", BACKENDS[backend]), ("op", OPS[op])];
        OpMetrics {
            seconds: metrics::histogram(
                "cirrus_store_operation_seconds",
                "Time of store operations (Redis, in-process memory store, SQL), in seconds; _count is the number of operations.",
                &l,
            ),
            errors: metrics::counter(
                "cirrus_store_errors_total",
                "Store operations that failed.",
                &l,
            ),
        }
    })
}

impl OpMetrics {
    pub fn done(&self, since: Instant, ok: bool) {
        self.seconds.observe(since.elapsed());
        if !ok {
            self.errors.inc();
        }
    }
}

/// Pools and links opened by services, so a graceful shutdown closes them cleanly (SQL pools
/// end their sessions, Redis connections are dropped) instead of leaving them to the exit.
#[derive(Default)]
struct Open {
    next: u64,
    sql: std::collections::HashMap<u64, sql::pool::Pool>,
    redis: Vec<std::sync::Weak<redis::conn::Link>>,
}

fn open_stores() -> &'static parking_lot::Mutex<Open> {
    static O: OnceLock<parking_lot::Mutex<Open>> = OnceLock::new();
    O.get_or_init(Default::default)
}

/// Keep a SQL pool for [`close_all`] until [`untrack_sql`] (its Lua handle is collected).
pub(crate) fn track_sql(pool: &sql::pool::Pool) -> u64 {
    let mut o = open_stores().lock();
    o.next += 1;
    let id = o.next;
    o.sql.insert(id, pool.clone());
    id
}

pub(crate) fn untrack_sql(id: u64) {
    open_stores().lock().sql.remove(&id);
}

pub(crate) fn track_redis(link: &Arc<redis::conn::Link>) {
    let mut o = open_stores().lock();
    o.redis.retain(|w| w.strong_count() > 0);
    o.redis.push(Arc::downgrade(link));
}

/// Close every SQL pool and Redis connection still open (the last step of a graceful
/// shutdown). Returns (pools, links) closed.
pub async fn close_all() -> (usize, usize) {
    let (pools, links) = {
        let mut o = open_stores().lock();
        let pools: Vec<sql::pool::Pool> = o.sql.drain().map(|(_, p)| p).collect();
        let links: Vec<Arc<redis::conn::Link>> =
            o.redis.drain(..).filter_map(|w| w.upgrade()).collect();
        (pools, links)
    };
    for l in &links {
        l.close();
    }
    for p in &pools {
        p.close().await;
    }
    (pools.len(), links.len())
}

/// A reply packet: `false, message`.
pub(crate) fn err_packet(msg: &str) -> Vec<u8> {
    let mut w = Writer::new();
    w.boolean(false);
    w.string(msg.as_bytes());
    w.finish()
}

/// A writer that already holds the leading `true` of a successful reply.
pub(crate) fn ok_writer() -> Writer {
    let mut w = Writer::new();
    w.boolean(true);
    w
}

/// A command argument as Redis sees it. Numbers become their shortest exact decimal text;
/// booleans and tables are refused so nothing is stored as an accidental "true" or "table: 0x..".
pub(crate) fn arg_bytes(v: &Value, index: usize) -> Result<Vec<u8>, String> {
    Ok(match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(i) => i.to_string().into_bytes(),
        Value::Number(n) if n.is_nan() => {
            return Err(format!("argument #{index} is NaN"));
        }
        Value::Number(n) if n.is_infinite() => {
            (if *n > 0.0 { "inf" } else { "-inf" }).as_bytes().to_vec()
        }
        Value::Number(n) => format!("{n}").into_bytes(),
        other => {
            return Err(format!(
                "argument #{index} is a {} (only strings and numbers can be sent)",
                other.type_name()
            ))
        }
    })
}
