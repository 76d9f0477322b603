//! Redis replies as Lua values: integers stay integers, bulk and status strings are strings,
//! null is nil, arrays are tables (nil holes stay holes, as in skynet), and an error anywhere in
//! a reply raises with the server's own message ("WRONGTYPE Operation against ...").

use crate::lua::seri::Writer;
use ::redis::{ServerError, Value};

/// `CODE detail`, exactly as the server sent it.
pub fn server_error_text(e: &ServerError) -> String {
    match e.details() {
        Some(d) => format!("{} {d}", e.code()),
        None => e.code().to_string(),
    }
}

/// The first server error inside a reply (EXEC results carry them per command).
pub fn first_error(v: &Value) -> Option<&ServerError> {
    match v {
        Value::ServerError(e) => Some(e),
        Value::Array(a) | Value::Set(a) | Value::Push { data: a, .. } => {
            a.iter().find_map(first_error)
        }
        Value::Map(kv) => kv
            .iter()
            .find_map(|(k, v)| first_error(k).or_else(|| first_error(v))),
        Value::Attribute { data, .. } => first_error(data),
        _ => None,
    }
}

/// Append one reply value (callers check [`first_error`] first).
pub fn write(w: &mut Writer, v: &Value) {
    match v {
        Value::Nil => w.nil(),
        Value::Int(i) => w.integer(*i),
        Value::BulkString(b) => w.string(b),
        Value::SimpleString(s) => w.string(s.as_bytes()),
        Value::Okay => w.string(b"OK"),
        Value::Double(f) => w.real(*f),
        Value::Boolean(b) => w.boolean(*b),
        Value::VerbatimString { text, .. } => w.string(text.as_bytes()),
        Value::BigNumber(n) => w.string(n),
        Value::Array(a) | Value::Set(a) | Value::Push { data: a, .. } => {
            w.table_begin(a.len());
            for x in a {
                write(w, x);
            }
            w.table_end();
        }
        Value::Map(kv) => {
            w.table_begin(0);
            for (k, v) in kv.iter().filter(|(k, _)| !matches!(k, Value::Nil)) {
                write(w, k);
                write(w, v);
            }
            w.table_end();
        }
        Value::Attribute { data, .. } => write(w, data),
        // Only reached for errors callers chose to keep (pipeline results report them per op).
        Value::ServerError(e) => w.string(server_error_text(e).as_bytes()),
        // The enum is non-exhaustive; anything new is passed on as its debug text.
        #[allow(unreachable_patterns)]
        other => w.string(format!("{other:?}").as_bytes()),
    }
}

/// The whole packet for one command reply: `true, value` or `false, message`.
pub fn packet(v: &Value) -> Vec<u8> {
    if let Some(e) = first_error(v) {
        return super::super::err_packet(&server_error_text(e));
    }
    let mut w = super::super::ok_writer();
    write(&mut w, v);
    w.finish()
}

/// Pipeline results: `true, {{ok=bool, out=value}, ...}` when `detailed` (skynet's `resp`
/// table), otherwise the last reply as for a single command.
pub fn pipeline_packet(values: &[Value], detailed: bool) -> Vec<u8> {
    if !detailed {
        return match values.last() {
            Some(v) => packet(v),
            None => super::super::ok_writer().finish(),
        };
    }
    let mut w = super::super::ok_writer();
    w.table_begin(values.len());
    for v in values {
        w.table_begin(0);
        match first_error(v) {
            Some(e) => {
                w.string(b"ok");
                w.boolean(false);
                w.string(b"out");
                w.string(server_error_text(e).as_bytes());
            }
            None => {
                w.string(b"ok");
                w.boolean(true);
                if !matches!(v, Value::Nil) {
                    w.string(b"out");
                    write(&mut w, v);
                }
            }
        }
        w.table_end();
    }
    w.table_end();
    w.finish()
}
