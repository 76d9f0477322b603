//! The debug console: a telnet-style line protocol (loopback by default) for operators.
//! `list`, `stat`, `mem`, `gc`, `kill`, `exit`, `ping`, `service`, `help`, `flows`,
//! `shutdown`, `freeze`, and code changes on a live node: `reload NAME`, `inject ADDR FILE`, `hotfix ADDR FILE [MODULE]`. Commands that
//! need a Lua service's view (task counts, gc, ping, inject, hotfix) use skynet's debug
//! protocol through a [`Port`].

use crate::lua::seri::{self, SValue, Writer};
use crate::node::node;
use crate::service::port::{Port, PortActor};
use crate::service::{fmt_handle, Actor, Handle, Message, Slot, PTYPE_DEBUG, PTYPE_LUA};
use anyhow::Context;
use bytes::Bytes;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Console {
    port: Arc<Port>,
    inner: PortActor,
    task: tokio::task::JoinHandle<()>,
}

impl Console {
    /// `args`: `[address] port`. Binds at once so a taken port is a launch error.
    pub fn start(args: &str) -> anyhow::Result<Console> {
        let words: Vec<&str> = args.split_whitespace().collect();
        let (ip, port) = match words.as_slice() {
            [port] => ("127.0.0.1", *port),
            [ip, port, ..] => (*ip, *port),
            [] => anyhow::bail!("console needs a port"),
        };
        let port: u16 = port
            .parse()
            .with_context(|| format!("console port '{port}'"))?;
        let std_listener = std::net::TcpListener::bind((ip, port))
            .with_context(|| format!("console bind {ip}:{port}"))?;
        std_listener.set_nonblocking(true)?;
        let p = Port::new();
        let p2 = p.clone();
        let _guard = node().io().enter();
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let task = node().io().spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                tracing::info!(%peer, "console connected");
                tokio::spawn(session(p2.clone(), stream));
            }
        });
        Ok(Console {
            port: p.clone(),
            inner: PortActor(p),
            task,
        })
    }

    pub fn bind(&self, h: Handle) {
        self.port.bind(h);
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Actor for Console {
    fn dispatch(&mut self, slot: &Arc<Slot>, msg: Message) {
        self.inner.dispatch(slot, msg)
    }
    fn on_kill(&mut self, slot: &Arc<Slot>) {
        self.inner.on_kill(slot)
    }
}

async fn session(port: Arc<Port>, stream: tokio::net::TcpStream) {
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let _ = w.write_all(b"Welcome to cirrus console\n").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.trim().to_string();
        if line.is_empty() {
            continue;
        }
        let out = match run(&port, &line).await {
            Ok(text) => format!("{text}<CMD OK>\n"),
            Err(e) => format!("{e}\n<CMD Error>\n"),
        };
        if w.write_all(out.as_bytes()).await.is_err() {
            break;
        }
    }
}

/// `CMD ADDR FILE ...`: the service, the file as given (relative to the node's working
/// directory) and the debug command `cmd` with the file's source and name; the caller adds
/// the rest.
fn file_command(
    words: &[&str],
    cmd: &[u8],
    usage: &str,
) -> anyhow::Result<(Handle, String, Writer)> {
    let h = addr_arg(words)?;
    let file = words
        .get(2)
        .ok_or_else(|| anyhow::anyhow!("usage: {usage}"))?;
    let src = std::fs::read(file).map_err(|e| anyhow::anyhow!("can't open {file}: {e}"))?;
    let mut w = Writer::new();
    w.string(cmd);
    w.string(&src);
    w.string(file.as_bytes());
    Ok((h, file.to_string(), w))
}

/// A debug command answered with `(ok, text)` (RUN, HOTFIX): text on success, error otherwise.
async fn debug_run(port: &Port, h: Handle, cmd: Bytes) -> anyhow::Result<String> {
    let r = port
        .call(h, PTYPE_DEBUG, cmd, CALL_TIMEOUT)
        .await
        .map_err(anyhow::Error::msg)?;
    let v = seri::unpack_svalues(&r).map_err(|e| anyhow::anyhow!("bad debug reply: {e}"))?;
    let text = v.get(1).map(show).unwrap_or_default();
    match v.first() {
        Some(SValue::Bool(true)) => Ok(text),
        _ => Err(anyhow::anyhow!("{text}")),
    }
}

fn debug_cmd(words: &[&str]) -> Bytes {
    let mut w = Writer::new();
    for s in words {
        w.string(s.as_bytes());
    }
    Bytes::from(w.finish())
}

fn addr_arg(words: &[&str]) -> anyhow::Result<Handle> {
    let a = words
        .get(1)
        .ok_or_else(|| anyhow::anyhow!("missing address"))?;
    let a = if a.starts_with(':') || a.starts_with('.') {
        a.to_string()
    } else {
        format!(":{a}")
    };
    node()
        .resolve(&a)
        .ok_or_else(|| anyhow::anyhow!("invalid address {a}"))
}

fn show(v: &SValue) -> String {
    match v {
        SValue::Nil => "nil".into(),
        SValue::Bool(b) => b.to_string(),
        SValue::Int(i) => i.to_string(),
        SValue::Real(f) => format!("{f}"),
        SValue::Str(s) => String::from_utf8_lossy(s).into_owned(),
        SValue::Ptr(p) => format!("0x{p:x}"),
        SValue::Table(t) => {
            let mut parts: Vec<String> = t.array.iter().map(show).collect();
            parts.extend(
                t.hash
                    .iter()
                    .map(|(k, v)| format!("{}={}", show(k), show(v))),
            );
            format!("{{{}}}", parts.join(","))
        }
    }
}

async fn debug_call(port: &Port, h: Handle, words: &[&str]) -> anyhow::Result<Vec<SValue>> {
    let r = port
        .call(h, PTYPE_DEBUG, debug_cmd(words), CALL_TIMEOUT)
        .await
        .map_err(anyhow::Error::msg)?;
    seri::unpack_svalues(&r).map_err(|e| anyhow::anyhow!("bad debug reply: {e}"))
}

fn is_lua(label: &str) -> bool {
    label.starts_with("snlua")
}

async fn run(port: &Port, line: &str) -> anyhow::Result<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let n = node();
    let mut out = String::new();
    match words[0] {
        "help" => {
            for (c, d) in [
                ("help", "this help"),
                ("list", "list all services"),
                (
                    "stat",
                    "messages, cpu, mailbox length and tasks of every service",
                ),
                ("mem", "Lua memory of every service"),
                ("gc", "collect garbage in every Lua service"),
                ("kill ADDR", "kill a service"),
                ("exit ADDR", "ask a service to exit"),
                ("ping ADDR", "round trip to a service"),
                ("service", "list unique services"),
                ("netstat", "sockets opened through skynet.socket"),
                (
                    "drain",
                    "gate node: send every client to another gate, exit when empty",
                ),
                ("flows", "business flows open now, per service and name"),
                (
                    "shutdown",
                    "graceful stop: intake closed, open flows finish, onshutdown hooks, exit 0",
                ),
                (
                    "freeze",
                    "flows finish, skynet.freeze hooks' state to snapshot_file, exit 0 (then --restore)",
                ),
                ("start NAME [ARGS]", "launch a Lua service"),
                (
                    "reload NAME",
                    "services NAME launched from now on run the file on disk (code cache rebuilt)",
                ),
                (
                    "inject ADDR FILE",
                    "run a Lua file inside a service (print goes to the console)",
                ),
                (
                    "hotfix ADDR FILE [MODULE]",
                    "replace a service's functions with FILE's, keeping its state",
                ),
            ] {
                let _ = writeln!(out, "{c:<26} {d}");
            }
        }
        "list" => {
            for s in n.registry.all() {
                let names = n.registry.names_of(s.handle).join(" ");
                let _ = writeln!(out, "{}\t{}\t{}", s.address(), s.label, names);
            }
        }
        "stat" => {
            for s in n.registry.all() {
                use std::sync::atomic::Ordering::Relaxed;
                let task = if is_lua(&s.label) {
                    match debug_call(port, s.handle, &["TASK"]).await {
                        Ok(v) => v.first().map(show).unwrap_or_default(),
                        Err(e) => format!("({e})"),
                    }
                } else {
                    "0".into()
                };
                let _ = writeln!(
                    out,
                    "{}\tcpu:{:.4} message:{} mqlen:{} task:{}\t{}",
                    s.address(),
                    s.stats.cpu_ns.load(Relaxed) as f64 / 1e9,
                    s.stats.messages.load(Relaxed),
                    s.mqlen(),
                    task,
                    s.label
                );
            }
        }
        "mem" | "gc" => {
            let gc = words[0] == "gc";
            let mut total = 0.0;
            for s in n.registry.all() {
                if !is_lua(&s.label) {
                    continue;
                }
                let cmd = if gc { "GC" } else { "MEM" };
                let kb = match debug_call(port, s.handle, &[cmd]).await {
                    Ok(v) => match v.first() {
                        Some(SValue::Real(f)) => *f,
                        Some(SValue::Int(i)) => *i as f64,
                        _ => 0.0,
                    },
                    Err(e) => {
                        let _ = writeln!(out, "{}\t({e})\t{}", s.address(), s.label);
                        continue;
                    }
                };
                total += kb;
                let _ = writeln!(out, "{}\t{:.2} Kb\t{}", s.address(), kb, s.label);
            }
            let _ = writeln!(out, "total\t{total:.2} Kb");
        }
        "kill" => {
            let h = addr_arg(&words)?;
            if !n.kill(h) {
                anyhow::bail!("no service {}", fmt_handle(h));
            }
            let _ = writeln!(out, "killed {}", fmt_handle(h));
        }
        "exit" => {
            let h = addr_arg(&words)?;
            n.send(
                Message::new(port.handle(), 0, PTYPE_DEBUG, debug_cmd(&["EXIT"])),
                h,
            )?;
            let _ = writeln!(out, "asked {} to exit", fmt_handle(h));
        }
        "ping" => {
            let h = addr_arg(&words)?;
            let t = Instant::now();
            debug_call(port, h, &["PING"]).await?;
            let _ = writeln!(
                out,
                "{}\t{:.3} ms",
                fmt_handle(h),
                t.elapsed().as_secs_f64() * 1000.0
            );
        }
        "start" => {
            let name = words
                .get(1)
                .ok_or_else(|| anyhow::anyhow!("usage: start NAME [ARGS...]"))?;
            let launcher = n
                .resolve(".launcher")
                .ok_or_else(|| anyhow::anyhow!("no .launcher"))?;
            let mut w = Writer::new();
            w.string(b"LAUNCH");
            w.string(b"snlua");
            w.string(name.as_bytes());
            for a in &words[2..] {
                w.string(a.as_bytes());
            }
            let r = port
                .call(launcher, PTYPE_LUA, Bytes::from(w.finish()), CALL_TIMEOUT)
                .await
                .map_err(anyhow::Error::msg)?;
            let v = seri::unpack_svalues(&r).map_err(|e| anyhow::anyhow!("bad reply: {e}"))?;
            match v.first() {
                Some(SValue::Int(h)) => {
                    let _ = writeln!(out, "{}", fmt_handle(*h as Handle));
                }
                _ => anyhow::bail!("start {name} failed (see log)"),
            }
        }
        "reload" => {
            let name = words
                .get(1)
                .ok_or_else(|| anyhow::anyhow!("usage: reload NAME"))?;
            let r = crate::lua::loader::reload(&n.paths.luaservice, name).map_err(|e| {
                tracing::warn!("console reload {name}: {e}");
                anyhow::anyhow!(e)
            })?;
            tracing::info!(
                "console reload {name}: {} files recompiled, {} changed",
                r.files,
                r.changed.len()
            );
            let _ = writeln!(
                out,
                "reloaded {name} ({}): {} files recompiled, {} changed",
                r.path.display(),
                r.files,
                r.changed.len()
            );
            for p in &r.changed {
                let _ = writeln!(out, "changed {}", p.display());
            }
        }
        "inject" => {
            let (h, file, mut w) = file_command(&words, b"RUN", "inject ADDR FILE [ARGS...]")?;
            for a in &words[3..] {
                w.string(a.as_bytes());
            }
            let text = debug_run(port, h, Bytes::from(w.finish())).await?;
            tracing::info!("console inject {file} into {}", fmt_handle(h));
            out.push_str(&text);
            if !text.is_empty() && !text.ends_with('\n') {
                out.push('\n');
            }
        }
        "hotfix" => {
            let (h, file, mut w) = file_command(&words, b"HOTFIX", "hotfix ADDR FILE [MODULE]")?;
            let real = std::fs::canonicalize(&file)
                .map_err(|e| anyhow::anyhow!("can't open {file}: {e}"))?;
            w.string(real.to_string_lossy().as_bytes());
            if let Some(m) = words.get(3) {
                w.string(m.as_bytes());
            }
            let text = debug_run(port, h, Bytes::from(w.finish())).await?;
            let _ = writeln!(out, "{text}");
        }
        "netstat" => {
            for sock in crate::net::table::table().all() {
                let pending = sock.out.as_ref().map(|o| o.pending()).unwrap_or(0);
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\towner {}\tpending {} bytes",
                    sock.id,
                    sock.kind_name(),
                    sock.peer,
                    fmt_handle(sock.owner()),
                    pending
                );
            }
        }
        "drain" => {
            let wd = n
                .resolve(".watchdog")
                .ok_or_else(|| anyhow::anyhow!("no gate tier (.watchdog) on this node"))?;
            let mut w = Writer::new();
            w.string(b"drain");
            let r = port
                .call(wd, PTYPE_LUA, Bytes::from(w.finish()), CALL_TIMEOUT)
                .await
                .map_err(anyhow::Error::msg)?;
            let vals = seri::unpack_svalues(&r).map_err(|e| anyhow::anyhow!("bad reply: {e}"))?;
            let _ = writeln!(out, "{}", vals.first().map(show).unwrap_or_default());
        }
        "flows" => {
            let open = crate::lifecycle::flow::describe();
            let _ = writeln!(
                out,
                "{} flows open{}",
                crate::lifecycle::flow::total(),
                if crate::lifecycle::flow::shutting_down() {
                    " (shutting down: new flows refused)"
                } else {
                    ""
                }
            );
            out.push_str(&open);
        }
        "shutdown" => {
            if crate::lifecycle::shutdown::started() {
                anyhow::bail!("already shutting down (a second SIGTERM stops the node now)");
            }
            tracing::info!("console: shutdown");
            crate::lifecycle::shutdown::request("console shutdown");
            let _ = writeln!(
                out,
                "shutting down: {} flows open",
                crate::lifecycle::flow::total()
            );
        }
        "freeze" => {
            crate::lifecycle::freeze::request("console freeze").map_err(anyhow::Error::msg)?;
            tracing::info!("console: freeze");
            let _ = writeln!(
                out,
                "freezing to {}: {} flows open",
                crate::lifecycle::freeze::snapshot_path().display(),
                crate::lifecycle::flow::total()
            );
        }
        "service" => {
            let mgr = n
                .resolve(".service")
                .ok_or_else(|| anyhow::anyhow!("no .service manager"))?;
            let mut w = Writer::new();
            w.string(b"LIST");
            let r = port
                .call(mgr, PTYPE_LUA, Bytes::from(w.finish()), CALL_TIMEOUT)
                .await
                .map_err(anyhow::Error::msg)?;
            let vals = seri::unpack_svalues(&r).map_err(|e| anyhow::anyhow!("bad reply: {e}"))?;
            if let Some(SValue::Table(t)) = vals.first() {
                for (k, v) in &t.hash {
                    let _ = writeln!(out, "{}\t{}", show(k), show(v));
                }
            }
        }
        other => anyhow::bail!("Invalid command {other}, type help for command list"),
    }
    Ok(out)
}
