//! Boot, launch and shutdown: turns a config file into a running node, starts native and Lua
//! services by module name (as `skynet.launch` does), and stops the node on signal or abort
//! (gracefully: [`shutdown`], waiting for the open [`flow`]s).

pub mod flow;
pub mod freeze;
pub mod shutdown;

use crate::config::{self, Env};
use crate::lua::{loader, SnLua};
use crate::node::{node, LuaPaths, Node};
use crate::service::{Handle, Message, PTYPE_INIT};
use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use std::path::Path;

/// Why boot failed; config problems exit with code 2.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Start a service by module name: `snlua <script> args...` for Lua, or a native module.
pub fn launch(module: &str, args: &str) -> anyhow::Result<Handle> {
    let n = node();
    let slot = match module {
        "snlua" => {
            let name = args
                .split_whitespace()
                .next()
                .ok_or_else(|| anyhow!("snlua needs a script name"))?;
            // A missing script fails the launch at once, so `skynet.launch` returns nil.
            loader::search(&n.paths.luaservice, name)
                .map_err(|tried| anyhow!("service '{name}' not found:{tried}"))?;
            let boot = args.to_string();
            n.spawn(format!("snlua {args}"), move |_| {
                Box::new(SnLua::new(&boot))
            })
        }
        "logger" => n.spawn("logger".into(), |_| Box::new(crate::logger::Logger)),
        "console" => {
            let actor = crate::console::Console::start(args)?;
            n.spawn(format!("console {args}"), move |h| {
                actor.bind(h);
                Box::new(actor)
            })
        }
        "gate" => {
            let owner = crate::gate::owner_arg(args)?;
            n.spawn(format!("gate {args}"), move |h| {
                Box::new(crate::gate::Gate::new(h, owner))
            })
        }
        other => bail!("unknown service module '{other}'"),
    };
    // skynet's line for every new service, logged as that service (not the logger's own: as on
    // skynet, nothing logs before the logger is up)
    let line = if args.is_empty() {
        format!("LAUNCH {module}")
    } else {
        format!("LAUNCH {module} {args}")
    };
    if module != "logger" {
        crate::lua::core::log(slot.handle, line);
    }
    n.deliver(&slot, Message::new(0, 0, PTYPE_INIT, Bytes::new()));
    Ok(slot.handle)
}

fn get_usize(
    cfg: &std::collections::BTreeMap<String, String>,
    file: &str,
    key: &str,
    default: usize,
) -> Result<usize, BootError> {
    match cfg.get(key) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| {
            BootError::Config(format!(
                "{file}: key `{key}`: expected a number, got \"{v}\""
            ))
        }),
    }
}

/// Load the config, start the node and its bootstrap service. Returns once services run.
pub fn boot(config_path: &Path) -> Result<&'static Node, BootError> {
    boot_with(config_path, false)
}

/// [`boot`], restoring the services' state from the snapshot of a frozen node when `restore`
/// (`cirrus CONFIG --restore`).
pub fn boot_with(config_path: &Path, restore: bool) -> Result<&'static Node, BootError> {
    let file = config_path.display().to_string();
    let cfg = config::load_file(config_path).map_err(|e| BootError::Config(e.to_string()))?;
    let threads = get_usize(&cfg, &file, "thread", 8)?;
    if threads == 0 {
        return Err(BootError::Config(format!(
            "{file}: key `thread`: must be at least 1"
        )));
    }
    let harbor = get_usize(&cfg, &file, "harbor", 0)?;
    if harbor > 255 {
        return Err(BootError::Config(format!(
            "{file}: key `harbor`: must be 0..255"
        )));
    }
    let paths = LuaPaths {
        lua_path: cfg
            .get("lua_path")
            .cloned()
            .unwrap_or_else(|| "./lualib/?.lua;./lualib/?/init.lua".into()),
        luaservice: cfg
            .get("luaservice")
            .cloned()
            .unwrap_or_else(|| "./service/?.lua;./service/?/main.lua".into()),
        preload: cfg.get("preload").cloned(),
    };
    let start = cfg.get("start").cloned().unwrap_or_else(|| "main".into());
    if let Err(tried) = loader::search(&paths.luaservice, &start) {
        let tried = tried.replace("\n\t", " ");
        return Err(BootError::Config(format!(
            "{file}: key `start`: service '{start}' not found ({})",
            tried.trim()
        )));
    }
    if let Err(tried) = loader::search(&paths.luaservice, "bootstrap") {
        return Err(BootError::Config(format!(
            "{file}: key `luaservice`: Cirrus' service/bootstrap.lua not found ({})",
            tried.replace("\n\t", " ").trim()
        )));
    }
    let log_file = cfg.get("logger").map(|l| match cfg.get("logpath") {
        Some(dir) if !Path::new(l).is_absolute() => format!("{}/{l}", dir.trim_end_matches('/')),
        _ => l.clone(),
    });
    crate::logger::init(log_file.as_deref())
        .with_context(|| format!("open log file {log_file:?}"))?;
    crate::logger::init_tracing();
    for notice in config::notices(&cfg) {
        tracing::info!("{notice}");
    }
    let mut env = cfg.clone();
    env.entry("start".into()).or_insert(start);
    env.entry("thread".into()).or_insert(threads.to_string());
    let n = Node::install(Env::from_map(env), paths, threads, harbor as u8)?;
    n.timer.start();
    n.scheduler.start();

    let logger = launch("logger", "")?;
    n.set_logger(logger);
    n.registry
        .bind_name("logger", logger)
        .map_err(anyhow::Error::from)?;
    n.registry
        .bind_name(".logger", logger)
        .map_err(anyhow::Error::from)?;
    if let Some(port) = cfg.get("metrics_port") {
        let port: u16 = port.parse().map_err(|_| {
            BootError::Config(format!(
                "{file}: key `metrics_port`: '{port}' is not a port number"
            ))
        })?;
        let address = cfg
            .get("metrics_address")
            .map(String::as_str)
            .unwrap_or("127.0.0.1");
        // Port 0 picks a free one; the log line names it.
        crate::metrics::serve(address, port)?;
    }
    let snapshot = freeze::snapshot_path();
    if restore {
        let n = freeze::load(&snapshot).map_err(BootError::Config)?;
        tracing::info!(
            "restoring from {}: state of {n} services",
            snapshot.display()
        );
    } else if snapshot.exists() {
        // Started without --restore: that state is stale from now on, never restore it later.
        let mut unused = snapshot.as_os_str().to_owned();
        unused.push(".unused");
        match std::fs::rename(&snapshot, &unused) {
            Ok(()) => tracing::warn!(
                "started without --restore: snapshot {} set aside as {}",
                snapshot.display(),
                std::path::Path::new(&unused).display()
            ),
            Err(e) => tracing::warn!("snapshot {}: {e}", snapshot.display()),
        }
    }
    launch("snlua", "bootstrap")?;
    install_signals();
    tracing::info!(threads, harbor, "cirrus node started from {file}");
    Ok(n)
}

fn install_signals() {
    node().io().spawn(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return;
        };
        loop {
            let why = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
                _ = hup.recv() => "SIGHUP",
            };
            tracing::info!("{why} received");
            if why == "SIGHUP" {
                if let Err(e) = freeze::request(why) {
                    tracing::warn!("SIGHUP: not freezing: {e}");
                }
            } else {
                shutdown::request(why);
            }
        }
    });
}

/// Block until the node is asked to stop; returns the exit code.
pub fn wait() -> i32 {
    let n = node();
    while !n.is_quitting() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Let workers finish the message they are on before the process goes.
    std::thread::sleep(std::time::Duration::from_millis(60));
    crate::logger::drain();
    if let Some(c) = crate::cluster::try_cluster() {
        // Leave the discovery registry so peers drop this node now, not after a missed heartbeat.
        let _ = n.io().block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(1), c.leave()).await
        });
    }
    n.exit_code()
}
