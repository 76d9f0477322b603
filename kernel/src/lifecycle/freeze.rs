//! Freeze and restore (SIGHUP or console `freeze`; `cirrus CONFIG --restore`).
//!
//! Freeze: new flows are refused and the open ones finish (as for a shutdown; a refused
//! settlement is kept for the restored node, `flow.freezing()`); every Lua service with a
//! `skynet.freeze(fn)` hook returns its state; the node writes one snapshot file
//! (`snapshot_file`, default `cirrus.snapshot`) and exits 0. A gate tier running in the same
//! process (`.watchdog`, the all-in-one node) cannot keep its connections: once the states are
//! taken its clients get `kick` reason 3 as on a shutdown.
//!
//! The snapshot is one `skynet.pack` sequence: `"cirrus-snapshot", 1 (version), unix time,
//! n, then n pairs (service key, packed state)`. A service key is its launch line ("snlua room
//! 1 1") and `#i`, its rank among live services with the same line, so the services a restored
//! node launches the same way find their state again.
//!
//! Restore: the snapshot is read at boot; `skynet.restore(fn)` in a service calls
//! `fn(state...)` with the state saved under its key (once). The file is renamed
//! `*.restored` once loaded, so a later plain restart does not restore stale state.

use super::{flow, shutdown};
use crate::lua::msgbuf::ctx_of;
use crate::lua::seri::{self, SValue};
use crate::node::node;
use crate::service::{fmt_handle, Handle, PTYPE_DEBUG};
use mlua::{Lua, Table};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MAGIC: &[u8] = b"cirrus-snapshot";
pub const VERSION: i64 = 1;

fn restored() -> &'static Mutex<HashMap<String, Vec<u8>>> {
    static R: OnceLock<Mutex<HashMap<String, Vec<u8>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// Where the snapshot lives: `snapshot_file` from the config.
pub fn snapshot_path() -> PathBuf {
    PathBuf::from(
        node()
            .env
            .get("snapshot_file")
            .unwrap_or_else(|| "cirrus.snapshot".into()),
    )
}

/// The key of a live service: its launch line and rank among services with the same line.
fn key_of(h: Handle) -> Option<String> {
    let all = node().registry.all();
    let me = all.iter().find(|s| s.handle == h)?;
    let rank = all
        .iter()
        .filter(|s| s.label == me.label && s.handle < h)
        .count();
    Some(format!("{}#{rank}", me.label))
}

/// Read the snapshot for `--restore` (boot calls this before any service starts).
pub fn load(path: &std::path::Path) -> Result<usize, String> {
    let data =
        std::fs::read(path).map_err(|e| format!("cannot read snapshot {}: {e}", path.display()))?;
    let v = seri::unpack_svalues(&data)
        .map_err(|e| format!("snapshot {}: not a snapshot: {e}", path.display()))?;
    match (v.first(), v.get(1)) {
        (Some(SValue::Str(m)), Some(SValue::Int(ver))) if m.as_ref() == MAGIC => {
            if *ver != VERSION {
                return Err(format!(
                    "snapshot {}: version {ver}, this node reads version {VERSION}",
                    path.display()
                ));
            }
        }
        _ => return Err(format!("snapshot {}: not a snapshot", path.display())),
    }
    let mut map = restored().lock();
    let mut it = v.into_iter().skip(4);
    while let (Some(SValue::Str(k)), Some(SValue::Str(s))) = (it.next(), it.next()) {
        map.insert(String::from_utf8_lossy(&k).into_owned(), s.to_vec());
    }
    let n = map.len();
    let mut done = path.as_os_str().to_owned();
    done.push(".restored");
    std::fs::rename(path, &done)
        .map_err(|e| format!("cannot rename snapshot {}: {e}", path.display()))?;
    Ok(n)
}

/// SIGHUP or console `freeze`. Refused once a shutdown or freeze has begun.
pub fn request(why: &str) -> Result<(), String> {
    if !shutdown::claim() {
        return Err("a shutdown or freeze is already under way".into());
    }
    let why = why.to_string();
    node().io().spawn(async move { run(&why).await });
    Ok(())
}

async fn run(why: &str) {
    let n = node();
    let timeout = shutdown::timeout_setting();
    let deadline = Instant::now() + timeout;
    let open = flow::close_intake(true);
    tracing::info!("{why}: freezing: new flows refused, {open} open");
    let port = shutdown::port();
    // A game node in a cluster: every gate node holds the traffic routed here first.
    if let Some(g) = n.resolve(".gamenode") {
        match port
            .call(
                g,
                crate::service::PTYPE_LUA,
                shutdown::lua_cmd("freeze_hold"),
                Duration::from_secs(10),
            )
            .await
            .map(|b| seri::unpack_svalues(&b))
        {
            Ok(Ok(v)) => {
                let (acks, asked) = (v.first(), v.get(1));
                if let (Some(SValue::Int(a)), Some(SValue::Int(b))) = (acks, asked) {
                    if *b > 0 {
                        tracing::info!(service = %fmt_handle(g), "freeze: {a} of {b} gate nodes hold this node's traffic");
                    }
                }
            }
            Ok(Err(e)) => tracing::warn!(service = %fmt_handle(g), "freeze hold: bad reply: {e}"),
            Err(e) => tracing::warn!(service = %fmt_handle(g), "freeze hold: {e}"),
        }
    }
    if !shutdown::wait_flows(deadline, timeout).await {
        return;
    }
    // Every Lua service with a freeze hook hands over its state.
    let services: Vec<Handle> = n
        .registry
        .all()
        .into_iter()
        .filter(|s| s.label.starts_with("snlua"))
        .map(|s| s.handle)
        .collect();
    let keys: Vec<Option<String>> = services.iter().map(|&h| key_of(h)).collect();
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(1));
    let calls = services.iter().map(|&h| {
        let port = port.clone();
        async move {
            port.call(h, PTYPE_DEBUG, shutdown::lua_cmd("FREEZE"), left)
                .await
        }
    });
    let mut entries = Vec::new();
    let mut failed = 0;
    let replies = futures_util::future::join_all(calls).await;
    for ((h, key), r) in services.iter().zip(keys).zip(replies) {
        match r.map(|b| seri::unpack_svalues(&b)) {
            Ok(Ok(v)) => match (v.first(), v.get(1), key) {
                (Some(SValue::Bool(true)), Some(SValue::Str(state)), Some(key)) => {
                    tracing::info!(service = %fmt_handle(*h), "frozen {key}: {} bytes", state.len());
                    entries.push((key, state.to_vec()));
                }
                (Some(SValue::Bool(false)), Some(SValue::Str(err)), _) => {
                    failed += 1;
                    tracing::error!(service = %fmt_handle(*h), "freeze hook failed: {}", String::from_utf8_lossy(err));
                }
                _ => {}
            },
            Ok(Err(e)) => {
                failed += 1;
                tracing::error!(service = %fmt_handle(*h), "bad freeze reply: {e}");
            }
            Err(e) if e.contains("exited") || e.contains("no service") => {}
            Err(e) => {
                failed += 1;
                tracing::error!(service = %fmt_handle(*h), "freeze: {e}");
            }
        }
    }
    // The states are taken: a gate tier in this process closes now (its clients are kicked
    // with reason 3; kicked before, they would have gone offline and the desks played on).
    shutdown::stop_gate_tier(&port, deadline).await;
    if n.is_quitting() {
        return;
    }
    if failed > 0 {
        tracing::error!(
            "freeze: {failed} services could not hand over their state: no snapshot, exit {}",
            shutdown::EXIT_FLOWS_OPEN
        );
        n.shutdown(shutdown::EXIT_FLOWS_OPEN);
        return;
    }
    let path = snapshot_path();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut vals = vec![
        SValue::Str(MAGIC.to_vec().into()),
        SValue::Int(VERSION),
        SValue::Int(now),
        SValue::Int(entries.len() as i64),
    ];
    for (k, s) in entries.iter() {
        vals.push(SValue::Str(k.as_bytes().to_vec().into()));
        vals.push(SValue::Str(s.clone().into()));
    }
    let data = seri::pack_svalues(&vals);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let written = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
    .and_then(|_| std::fs::write(&tmp, &data))
    .and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        tracing::error!("freeze: cannot write snapshot {}: {e}", path.display());
        n.shutdown(1);
        return;
    }
    tracing::info!(
        "freeze: snapshot of {} services ({} bytes) written to {}",
        entries.len(),
        data.len(),
        path.display()
    );
    let (pools, links) = crate::store::close_all().await;
    tracing::info!("freeze: {pools} SQL pools and {links} Redis connections closed: exit 0");
    n.shutdown(0);
}

/// `cirrus.snapshot`: take() -> the packed state saved for this service (once), or nil.
pub fn lua_open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "take",
        lua.create_function(|lua, ()| {
            let me = ctx_of(lua)?.handle;
            let Some(key) = key_of(me) else {
                return Ok(None);
            };
            match restored().lock().remove(&key) {
                Some(s) => Ok(Some(lua.create_string(&s)?)),
                None => Ok(None),
            }
        })?,
    )?;
    Ok(t)
}
