//! `require "cirrus.metrics"`: metrics for Lua services, exported with the node's at
//! `/metrics`.
//!
//! ```lua
//! local metrics = require "cirrus.metrics"
//! local online = metrics.gauge("cirrus_game_online_players", "Players logged in.", { role = "login" })
//! online:set(42); online:inc(); online:dec(2)
//! local msgs = metrics.counter("cirrus_game_chat_messages_total", "Chat messages.", { channel = "world" })
//! msgs:inc()
//! local t = metrics.histogram("cirrus_game_settle_seconds", "Settlement time.")
//! t:observe(0.012)
//! ```
//! The same name and labels give the same series in every service. A gauge disappears from
//! the output when the last service holding it exits (no stale values of a stopped room);
//! counters keep their totals. Updates are one atomic operation.

use super::{Counter, Gauge, Histogram, Kind, Metric};
use mlua::{Lua, Table, UserData, UserDataMethods, Value};
use std::sync::Arc;
use std::time::Duration;

type Labels = Vec<(String, String)>;

fn labels(t: Option<Table>) -> mlua::Result<Labels> {
    let mut out = Vec::new();
    if let Some(t) = t {
        for pair in t.pairs::<String, Value>() {
            let (k, v) = pair?;
            let v = match v {
                Value::String(s) => s.to_str()?.to_string(),
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "metric label {k}: a {} is not a label value",
                        other.type_name()
                    )))
                }
            };
            out.push((k, v));
        }
    }
    out.sort();
    Ok(out)
}

fn register(name: &str, help: &str, kind: Kind, l: &Labels) -> mlua::Result<Metric> {
    let refs: Vec<(&str, &str)> = l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    super::register(name, help, kind, &refs).map_err(mlua::Error::runtime)
}

struct LuaCounter(Arc<Counter>);

impl UserData for LuaCounter {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("inc", |_, this, n: Option<f64>| {
            let n = n.unwrap_or(1.0);
            if !(n >= 0.0 && n.fract() == 0.0) {
                return Err(mlua::Error::runtime(format!(
                    "a counter only goes up by whole numbers (got {n})"
                )));
            }
            this.0.add(n as u64);
            Ok(())
        });
        m.add_method("get", |_, this, ()| Ok(this.0.get()));
    }
}

struct LuaGauge {
    g: Arc<Gauge>,
    name: String,
    labels: Labels,
}

impl Drop for LuaGauge {
    fn drop(&mut self) {
        let refs: Vec<(&str, &str)> = self
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // This handle still counts: released when only the registry and it remain.
        super::release(&self.name, &refs, 1);
    }
}

impl UserData for LuaGauge {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("set", |_, this, v: f64| {
            this.g.set(v);
            Ok(())
        });
        m.add_method("inc", |_, this, n: Option<f64>| {
            this.g.add(n.unwrap_or(1.0));
            Ok(())
        });
        m.add_method("dec", |_, this, n: Option<f64>| {
            this.g.add(-n.unwrap_or(1.0));
            Ok(())
        });
        m.add_method("get", |_, this, ()| Ok(this.g.get()));
    }
}

struct LuaHistogram(Arc<Histogram>);

impl UserData for LuaHistogram {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("observe", |_, this, seconds: f64| {
            if !(seconds >= 0.0 && seconds.is_finite()) {
                return Err(mlua::Error::runtime(format!(
                    "histogram observation must be a duration in seconds (got {seconds})"
                )));
            }
            this.0.observe(Duration::from_secs_f64(seconds));
            Ok(())
        });
        m.add_method("count", |_, this, ()| Ok(this.0.count()));
    }
}

/// A Lua constructor `(name, help, labels?)` for metrics of `kind`, wrapped by `wrap`.
fn constructor<T: UserData + 'static>(
    lua: &Lua,
    kind: Kind,
    wrap: fn(Metric, String, Labels) -> T,
) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, (name, help, l): (String, String, Option<Table>)| {
        let labels = labels(l)?;
        let m = register(&name, &help, kind, &labels)?;
        Ok(wrap(m, name, labels))
    })
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "counter",
        constructor(lua, Kind::Counter, |m, _, _| match m {
            Metric::Counter(c) => LuaCounter(c),
            _ => unreachable!("register returns the kind asked for"),
        })?,
    )?;
    t.set(
        "gauge",
        constructor(lua, Kind::Gauge, |m, name, labels| match m {
            Metric::Gauge(g) => LuaGauge { g, name, labels },
            _ => unreachable!("register returns the kind asked for"),
        })?,
    )?;
    t.set(
        "histogram",
        constructor(lua, Kind::Histogram, |m, _, _| match m {
            Metric::Histogram(h) => LuaHistogram(h),
            _ => unreachable!("register returns the kind asked for"),
        })?,
    )?;
    Ok(t)
}
