//! Fresh service states, built ahead of the spawns that need them.
//!
//! Every service state starts from the same base: Lua's standard libraries, mlua's own setup,
//! the `require` searcher (native modules and cached code) and `print`. That base is ~40% of
//! the instructions of a spawn, and none of it depends on the service, so a builder thread
//! keeps [`READY`] of them made and `newservice` takes one instead of building it on the
//! launching chain. A burst of spawns then runs the services' own code on the workers while
//! the builder, on another core, makes the next states; when the pool is empty (a burst
//! faster than the builder) the worker builds its state itself, as before.

use super::{core, loader, protoshare};
use crossbeam_channel::{Receiver, Sender};
use mlua::{Lua, LuaOptions, StdLib};
use std::sync::OnceLock;

/// States kept ready. A base state is ~25 KB, so an idle node holds ~200 KB of them.
const READY: usize = 8;

/// A base state in transit from the builder to a worker.
struct Base(Lua);

// SAFETY: a base state has never run code and nothing outside it points into it: the only
// handle is this `Lua`, moved whole through the channel (which orders the builder's writes
// before the worker's reads). From then on it belongs to one service, as SnLua's state does.
unsafe impl Send for Base {}

struct Pool {
    rx: Receiver<Base>,
}

fn pool() -> &'static Pool {
    static P: OnceLock<Pool> = OnceLock::new();
    P.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::bounded(READY);
        std::thread::Builder::new()
            .name("cirrus-lua-pool".into())
            .spawn(move || builder(tx))
            .expect("spawn the Lua state builder");
        Pool { rx }
    })
}

/// Builds states until the pool is full, then waits for a spawn to take one. Ends when the
/// process does (it holds nothing that needs closing).
fn builder(tx: Sender<Base>) {
    loop {
        match build() {
            Ok(lua) => {
                if tx.send(Base(lua)).is_err() {
                    return;
                }
            }
            Err(e) => {
                // Out of memory, most likely: leave it to the spawns, which build their own.
                tracing::warn!(error = %e, "Lua state builder stopped");
                return;
            }
        }
    }
}

/// `CIRRUS_LUA_POOL=0` turns the pool off (to profile spawning on one thread, or to save its
/// ~200 KB).
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("CIRRUS_LUA_POOL").map_or(true, |v| v != "0"))
}

/// A base state for a new service: from the pool if one is ready, else built now.
pub fn take() -> mlua::Result<Lua> {
    if !enabled() {
        return build();
    }
    match pool().rx.try_recv() {
        Ok(Base(lua)) => Ok(lua),
        Err(_) => build(),
    }
}

/// Build a base state.
fn build() -> mlua::Result<Lua> {
    // Before the state exists, so that it starts on the strings the code cache shares.
    protoshare::prepare(&super::shared_names());
    // SAFETY: the debug library is needed for tracebacks; scripts are trusted server code.
    let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL_SAFE | StdLib::DEBUG, LuaOptions::new()) };
    // As skynet's snlua: no collection while the service loads (it makes little garbage and
    // would trace its whole new heap); the service restarts it when its main chunk returns.
    lua.gc_stop();
    loader::install_searcher(&lua)?;
    lua.globals()
        .set("print", lua.create_function(core::print)?)?;
    Ok(lua)
}
