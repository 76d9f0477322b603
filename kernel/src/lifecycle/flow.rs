//! Tracked business flows (`require "skynet.flow"`): a multi-step operation (a settlement's
//! writes, a login creating its account) is opened before its first step and closed after its
//! last, so a graceful shutdown knows what is still half done. Once shutdown has begun no new
//! flow opens; the node waits for the open ones (up to `shutdown_timeout`).

use crate::lua::msgbuf::ctx_of;
use crate::service::{fmt_handle, Handle};
use mlua::{Lua, Table};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The error text of a flow refused because the node is stopping.
pub const SHUTTING_DOWN: &str = "node shutting down";

struct Open {
    service: Handle,
    name: String,
    since: Instant,
}

#[derive(Default)]
struct State {
    next: u64,
    closing: bool,
    freezing: bool,
    open: HashMap<u64, Open>,
}

fn state() -> &'static Mutex<State> {
    static S: OnceLock<Mutex<State>> = OnceLock::new();
    S.get_or_init(Default::default)
}

/// Open a flow of `service` named `name`; refused once shutdown has begun. The check and the
/// insert share the lock with [`close_intake`], so no flow slips in after the count is taken.
pub fn begin(service: Handle, name: &str) -> Result<u64, &'static str> {
    let mut s = state().lock();
    if s.closing {
        return Err(SHUTTING_DOWN);
    }
    s.next += 1;
    let id = s.next;
    s.open.insert(
        id,
        Open {
            service,
            name: name.to_string(),
            since: Instant::now(),
        },
    );
    Ok(id)
}

/// Close a flow; unknown ids (already forgotten with their service) are ignored.
pub fn finish(id: u64) {
    state().lock().open.remove(&id);
}

/// A service went away: its flows can never finish, so they no longer hold the shutdown.
pub fn forget_service(service: Handle) {
    let mut s = state().lock();
    let before = s.open.len();
    s.open.retain(|_, f| f.service != service);
    let gone = before - s.open.len();
    if gone > 0 {
        tracing::warn!(service = %fmt_handle(service), flows = gone, "service exited with open flows");
    }
}

/// From now on `begin` refuses (`freezing`: for a freeze, so a refused settlement can wait
/// for the restored node). Returns how many flows are open at that moment.
pub fn close_intake(freezing: bool) -> usize {
    let mut s = state().lock();
    s.closing = true;
    s.freezing = freezing;
    s.open.len()
}

pub fn freezing() -> bool {
    state().lock().freezing
}

pub fn shutting_down() -> bool {
    state().lock().closing
}

pub fn total() -> usize {
    state().lock().open.len()
}

/// What is open, per service and name: (service, name, count, age of the oldest).
pub fn open() -> Vec<(Handle, String, usize, Duration)> {
    let s = state().lock();
    let mut by: BTreeMap<(Handle, &str), (usize, Instant)> = BTreeMap::new();
    for f in s.open.values() {
        let e = by.entry((f.service, &f.name)).or_insert((0, f.since));
        e.0 += 1;
        e.1 = e.1.min(f.since);
    }
    by.into_iter()
        .map(|((h, name), (n, since))| (h, name.to_string(), n, since.elapsed()))
        .collect()
}

/// One line per service and name, for the console and the shutdown log.
pub fn describe() -> String {
    let mut out = String::new();
    for (h, name, n, age) in open() {
        out.push_str(&format!(
            "{}\t{name}\t{n}\toldest {:.1} s\n",
            fmt_handle(h),
            age.as_secs_f64()
        ));
    }
    out
}

/// `skynet.flow.core`: begin(name) -> id (nil once shutdown has begun), finish(id),
/// count() -> total, { [address] = { [name] = n } }, shutting() -> bool, freezing() -> bool.
pub fn lua_open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "begin",
        lua.create_function(|lua, name: String| {
            let me = ctx_of(lua)?.handle;
            Ok(begin(me, &name).ok())
        })?,
    )?;
    t.set(
        "finish",
        lua.create_function(|_, id: u64| {
            finish(id);
            Ok(())
        })?,
    )?;
    t.set(
        "count",
        lua.create_function(|lua, ()| {
            let by = lua.create_table()?;
            let mut total = 0;
            for (h, name, n, _) in open() {
                let addr = fmt_handle(h);
                let per: Table = match by.get::<Option<Table>>(addr.as_str())? {
                    Some(t) => t,
                    None => {
                        let t = lua.create_table()?;
                        by.set(addr.as_str(), &t)?;
                        t
                    }
                };
                per.set(name, n)?;
                total += n;
            }
            Ok((total, by))
        })?,
    )?;
    t.set(
        "shutting",
        lua.create_function(|_, ()| Ok(shutting_down()))?,
    )?;
    Ok(t)
}
