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
use mlua::Value;

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
