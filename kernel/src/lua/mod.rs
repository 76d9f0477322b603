//! The Lua bridge ("snlua"): one Lua state per service (5.5 by default, 5.4 as a feature; docs/LUA.md), the `skynet.core` module under
//! `lualib/skynet.lua`, message buffers, code loading and the IO bridge for async Rust work.

pub mod core;
pub mod ctx;
mod fast;
pub mod io;
pub mod json;
pub mod loader;
pub mod msgbuf;
mod pool;
pub mod protoshare;
pub mod seri;

use crate::node::node;
use crate::service::{Actor, Handle, Message, Slot, PTYPE_INIT, PTYPE_LUA};
use bytes::Bytes;
use ctx::LuaCtx;
use mlua::{Function, Lua};
use std::rc::Rc;
use std::sync::Arc;

/// Native modules a Lua state can `require` (found by the searcher loader.rs installs).
type Opener = fn(&Lua) -> mlua::Result<mlua::Table>;
pub fn native_modules() -> &'static [(&'static str, Opener)] {
    &[
        ("skynet.core", open_core),
        ("skynet.sharedata.core", crate::sharedata::lua::open),
        ("skynet.stm", crate::sharedata::stm::open),
        ("skynet.cluster.core", crate::cluster::lua_open),
        ("sproto.core", crate::sproto::lua::open_core),
        ("skynet.socketdriver", crate::net::lua::open),
        ("http.core", crate::net::http::open),
        ("skynet.db.redis.core", crate::store::redis::open),
        ("skynet.db.memory.core", crate::store::memory::open),
        ("skynet.db.sql.core", crate::store::sql::open),
        ("cirrus.crypt.core", crate::crypt::open),
        ("skynet.crypt.core", crate::crypt::skynet::open),
        ("ltls.c", crate::tls::lua::open),
        ("ltls.init.c", crate::tls::lua::open_init),
        ("cirrus.process", crate::process::open),
        ("cirrus.json", json::open),
        ("cirrus.code", loader::open_code),
        ("cirrus.metrics", crate::metrics::lua::open),
        ("skynet.flow.core", crate::lifecycle::flow::lua_open),
        ("cirrus.snapshot", crate::lifecycle::freeze::lua_open),
    ]
}

/// `skynet.core` for the service whose context the state holds.
fn open_core(lua: &Lua) -> mlua::Result<mlua::Table> {
    let ctx = lua
        .app_data_ref::<Rc<LuaCtx>>()
        .map(|c| c.clone())
        .ok_or_else(|| mlua::Error::runtime("skynet.core: not a service state"))?;
    core::open(lua, ctx)
}

/// The opener of a native module.
pub(crate) fn native_module(name: &str) -> Option<Opener> {
    native_modules()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, open)| *open)
}

struct Loaded {
    lua: Lua,
    ctx: Rc<LuaCtx>,
    callback: Option<Function>,
    callback_version: u32,
}

/// A Lua service. Created empty; its first message (PTYPE_INIT) builds the state and runs the
/// script on a worker thread, so launching never blocks the launcher on script work.
pub struct SnLua {
    boot: Option<String>,
    state: Option<Loaded>,
}

// SAFETY: a Lua state is single-threaded, not thread-bound. The state and every Rc/handle that
// points into it are owned by this actor, and the scheduler gives the actor to one worker at a
// time (the slot's actor mutex plus the `scheduled` flag), with the mutex providing the
// happens-before edge between workers. Nothing Lua-related escapes the actor.
unsafe impl Send for SnLua {}

impl SnLua {
    /// `args` is skynet's launch string: `name arg1 arg2 ...`.
    pub fn new(args: &str) -> Self {
        SnLua {
            boot: Some(args.to_string()),
            state: None,
        }
    }

    fn init(&mut self, slot: &Arc<Slot>) {
        let Some(boot) = self.boot.take() else { return };
        let mut words = boot.split_whitespace();
        let name = words.next().unwrap_or_default().to_string();
        let args: Vec<String> = words.map(str::to_string).collect();
        match self.load(slot.handle, &name, &args) {
            Ok(()) => {}
            Err(e) => {
                let text = format!("lua loader error : {}", error_text(&e));
                core::log(slot.handle, text.clone());
                // Tell the launcher so `skynet.newservice` raises instead of waiting forever.
                if let Some(launcher) = node().registry.find_name(".launcher") {
                    let mut w = seri::Writer::new();
                    w.string(b"ERROR");
                    w.string(text.as_bytes());
                    let _ = node().send(
                        Message::new(slot.handle, 0, PTYPE_LUA, Bytes::from(w.finish())),
                        launcher,
                    );
                }
                core::log(slot.handle, "KILL self");
                slot.request_exit();
            }
        }
    }

    fn load(&mut self, handle: Handle, name: &str, args: &[String]) -> mlua::Result<()> {
        let n = node();
        let lua = pool::take()?;
        let ctx = Rc::new(LuaCtx::new(handle));
        lua.set_app_data(ctx.clone());
        let package: mlua::Table = lua.globals().get("package")?;
        let (path, pattern) = loader::search(&n.paths.luaservice, name)
            .map_err(|tried| mlua::Error::runtime(format!("module '{name}' not found:{tried}")))?;
        let mut lua_path = n.paths.lua_path.clone();
        // Like skynet's loader: `service/?/main.lua` lets the service require its siblings.
        if pattern.contains("?/") {
            if let Some(dir) = path.parent() {
                lua_path = format!("{}/?.lua;{lua_path}", dir.display());
            }
        }
        package.set("path", lua_path.as_str())?;
        let g = lua.globals();
        g.set("SERVICE_NAME", name)?;
        g.set(
            "SERVICE_PATH",
            path.parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )?;
        g.set("LUA_PATH", n.paths.lua_path.as_str())?;
        g.set("LUA_SERVICE", n.paths.luaservice.as_str())?;
        if let Some(pre) = &n.paths.preload {
            loader::load_file(&lua, std::path::Path::new(pre))?.call::<()>(())?;
        }
        let main = loader::load_file(&lua, &path)?;
        // Kept for `hotfix` of the main file, which runs the new chunk with the same arguments.
        lua.set_named_registry_value("cirrus.args", args.to_vec())?;
        let argv = mlua::Variadic::from_iter(args.iter().map(|s| s.as_str()));
        self.state = Some(Loaded {
            lua,
            ctx,
            callback: None,
            callback_version: 0,
        });
        let r = main.call::<()>(argv);
        if let Some(st) = &self.state {
            protoshare::gc_restart(&st.lua);
        }
        r
    }
}

/// Names every service state gets from the host before its code loads (preload keys,
/// globals, registry keys): shared from the start, so that the first service to load a chunk
/// that mentions one can use the shared prototypes too (see protoshare).
fn shared_names() -> Vec<&'static str> {
    let mut names = vec![
        "",
        ":native:",
        "SERVICE_NAME",
        "SERVICE_PATH",
        "LUA_PATH",
        "LUA_SERVICE",
        "cirrus.args",
    ];
    names.extend(native_modules().iter().map(|(name, _)| *name));
    names
}

/// The message of an mlua error without its Rust-side decoration.
pub fn error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { traceback, cause } => {
            format!("{}\n{traceback}", error_text(cause))
        }
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

impl Actor for SnLua {
    fn dispatch(&mut self, slot: &Arc<Slot>, msg: Message) {
        if msg.ptype == PTYPE_INIT {
            self.init(slot);
            return;
        }
        let Some(st) = self.state.as_mut() else {
            node().bounce(&msg, &format!("service {} is not loaded", slot.address()));
            return;
        };
        if st.callback_version != st.ctx.callback_version.get() {
            st.callback = st.ctx.callback.borrow().clone();
            st.callback_version = st.ctx.callback_version.get();
        }
        let Some(cb) = st.callback.as_ref() else {
            node().bounce(
                &msg,
                &format!("service {} has no dispatch function", slot.address()),
            );
            return;
        };
        let (ptype, session, source) = (msg.ptype, msg.session, msg.source);
        let (ptr, sz) = (msg.data.as_ptr(), msg.data.len());
        *st.ctx.current.borrow_mut() = msg.data;
        st.ctx.dispatch_start.set(Some(std::time::Instant::now()));
        let r = core::call_callback(cb, ptype, ptr, sz, session, source);
        *st.ctx.current.borrow_mut() = Bytes::new();
        if let Err(e) = r {
            core::log(
                slot.handle,
                format!(
                    "lua call [{:x} to :{:x} : {} msgsz = {}] error : {}",
                    source,
                    slot.handle,
                    session,
                    sz,
                    error_text(&e)
                ),
            );
        }
        if st.ctx.exit.get() {
            slot.request_exit();
        }
    }

    fn on_kill(&mut self, slot: &Arc<Slot>) {
        let Some(st) = self.state.as_ref() else {
            return;
        };
        let hook = st.ctx.exit_hook.borrow().clone();
        if let Some(h) = hook {
            if let Err(e) = h.call::<()>(()) {
                core::log(slot.handle, format!("exit hook error : {}", error_text(&e)));
            }
        }
    }

    fn memory(&self) -> usize {
        self.state
            .as_ref()
            .map(|s| s.lua.used_memory())
            .unwrap_or(0)
    }
}
