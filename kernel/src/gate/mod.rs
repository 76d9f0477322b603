//! The native gate: a listener (TCP with 2-byte big-endian length frames, or WebSocket with
//! binary messages) whose connections are served entirely on the IO runtime. Frames go to the
//! watchdog as skynet's gate sends them (`"socket", "data", fd, msg`) or, after `forward`,
//! straight to an agent as PTYPE_CLIENT messages (session = fd), so no Lua service sits on the
//! hot path. Commands arrive as lua messages: open, close, kick, accept, forward, send.
//! `service/gate.lua` wraps it for `skynet.newservice("gate")`.

mod conn;

use crate::lua::seri::{self, STable, SValue};
use crate::metrics::{self, Counter, Gauge};
use crate::net::outbox::Limits;
use crate::net::table::{table, Socket, SocketId};
use crate::node::node;
use crate::service::{
    fmt_handle, Actor, Handle, Message, Slot, PTYPE_CLIENT, PTYPE_ERROR, PTYPE_LUA, PTYPE_RESPONSE,
};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("gate config: {0}")]
    Config(String),
    #[error("gate is already open")]
    AlreadyOpen,
    #[error("gate is not open")]
    NotOpen,
    #[error("no connection {0}")]
    NoConnection(i64),
    #[error("unknown gate command {0:?}")]
    Unknown(String),
    #[error("bad arguments to {0}")]
    Args(&'static str),
    #[error(transparent)]
    Net(#[from] crate::net::tcp::NetError),
    #[error(transparent)]
    Frame(#[from] crate::net::table::FrameError),
}

/// Gate figures per transport, for `/metrics` (one atomic add per frame).
pub struct GateMetrics {
    pub accepted: Arc<Counter>,
    pub refused: Arc<Counter>,
    pub open: Arc<Gauge>,
    pub frames_in: Arc<Counter>,
    pub bytes_in: Arc<Counter>,
    pub frames_out: Arc<Counter>,
    pub bytes_out: Arc<Counter>,
}

/// The metrics of the TCP (`ws` false) or WebSocket gates of this node.
pub fn metrics(ws: bool) -> &'static GateMetrics {
    static M: [OnceLock<GateMetrics>; 2] = [OnceLock::new(), OnceLock::new()];
    M[ws as usize].get_or_init(|| {
        let t = [("transport", if ws { "ws" } else { "tcp" })];
        GateMetrics {
            accepted: metrics::counter(
                "cirrus_gate_connections_accepted_total",
                "Client connections a gate accepted.",
                &t,
            ),
            refused: metrics::counter(
                "cirrus_gate_connections_refused_total",
                "Client connections refused because the gate was at maxclient.",
                &t,
            ),
            open: metrics::gauge(
                "cirrus_gate_connections",
                "Client connections open on the gates.",
                &t,
            ),
            frames_in: metrics::counter(
                "cirrus_gate_frames_received_total",
                "Frames (TCP) or messages (WebSocket) received from clients.",
                &t,
            ),
            bytes_in: metrics::counter(
                "cirrus_gate_received_bytes_total",
                "Payload bytes received from clients (without framing).",
                &t,
            ),
            frames_out: metrics::counter(
                "cirrus_gate_frames_sent_total",
                "Frames (TCP) or messages (WebSocket) sent to clients.",
                &t,
            ),
            bytes_out: metrics::counter(
                "cirrus_gate_sent_bytes_total",
                "Payload bytes sent to clients (without framing).",
                &t,
            ),
        }
    })
}

const WAITING: u8 = 0;
const WATCHDOG: u8 = 1;
const FORWARD: u8 = 2;

/// Where one connection's frames go, and when it last sent one.
pub struct Route {
    pub ws: bool,
    gate: Handle,
    watchdog: Handle,
    agent: AtomicU32,
    client: AtomicU32,
    mode: AtomicU8,
    last_ms: AtomicU64,
}

fn s(v: &str) -> SValue {
    SValue::Str(Bytes::copy_from_slice(v.as_bytes()))
}

fn now_ms() -> u64 {
    node().elapsed().as_millis() as u64
}

impl Route {
    fn new(ws: bool, gate: Handle, watchdog: Handle) -> Self {
        Route {
            ws,
            gate,
            watchdog,
            agent: AtomicU32::new(0),
            client: AtomicU32::new(0),
            mode: AtomicU8::new(WAITING),
            last_ms: AtomicU64::new(now_ms()),
        }
    }

    /// A `"socket", event, fd, ...` lua message to the watchdog.
    fn notify(&self, event: &str, fd: SocketId, extra: Option<SValue>) {
        let mut v = vec![s("socket"), s(event), SValue::Int(fd as i64)];
        v.extend(extra);
        let msg = Message::new(self.gate, 0, PTYPE_LUA, Bytes::from(seri::pack_svalues(&v)));
        // A watchdog that is gone cannot be told; the connection still closes normally.
        let _ = node().send(msg, self.watchdog);
    }

    /// Pending output crossed the warning mark (`kb` kilobytes, as skynet reports it).
    pub fn warning(&self, fd: SocketId, kb: i32) {
        self.notify("warning", fd, Some(SValue::Int(kb as i64)));
    }

    fn idle_for(&self, now: u64) -> u64 {
        now.saturating_sub(self.last_ms.load(Ordering::Relaxed))
    }

    /// Hand one frame on. `false` if its destination is gone.
    fn deliver(&self, fd: SocketId, frame: Bytes) -> bool {
        self.last_ms.store(now_ms(), Ordering::Relaxed);
        match self.mode.load(Ordering::Acquire) {
            FORWARD => {
                let (agent, client) = (
                    self.agent.load(Ordering::Acquire),
                    self.client.load(Ordering::Acquire),
                );
                node()
                    .send(Message::new(client, fd, PTYPE_CLIENT, frame), agent)
                    .is_ok()
            }
            _ => {
                let v = [
                    s("socket"),
                    s("data"),
                    SValue::Int(fd as i64),
                    SValue::Str(frame),
                ];
                let msg =
                    Message::new(self.gate, 0, PTYPE_LUA, Bytes::from(seri::pack_svalues(&v)));
                node().send(msg, self.watchdog).is_ok()
            }
        }
    }
}

/// `open` settings (skynet's gate conf plus Cirrus' limits).
#[derive(Clone, Debug)]
pub struct Config {
    pub address: String,
    pub port: u16,
    pub maxclient: usize,
    pub nodelay: bool,
    pub ws: bool,
    /// Largest frame (TCP) or message (WebSocket) a client may send.
    pub maxpacket: usize,
    /// Close connections that send no frame for this long.
    pub idle: Option<Duration>,
    pub limits: Limits,
    pub backlog: u32,
    pub watchdog: Handle,
}

fn field<'a>(t: &'a STable, key: &str) -> Option<&'a SValue> {
    t.hash
        .iter()
        .find(|(k, _)| matches!(k, SValue::Str(s) if &s[..] == key.as_bytes()))
        .map(|(_, v)| v)
}

fn num(t: &STable, key: &str) -> Result<Option<f64>, GateError> {
    match field(t, key) {
        None | Some(SValue::Nil) => Ok(None),
        Some(SValue::Int(i)) => Ok(Some(*i as f64)),
        Some(SValue::Real(f)) => Ok(Some(*f)),
        Some(SValue::Str(s)) => String::from_utf8_lossy(s)
            .parse()
            .map(Some)
            .map_err(|_| GateError::Config(format!("`{key}` must be a number"))),
        Some(_) => Err(GateError::Config(format!("`{key}` must be a number"))),
    }
}

fn text(t: &STable, key: &str) -> Option<String> {
    match field(t, key) {
        Some(SValue::Str(s)) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    }
}

fn address_value(v: &SValue) -> Option<Handle> {
    match v {
        SValue::Int(i) => Some(*i as Handle),
        SValue::Real(f) => Some(*f as Handle),
        SValue::Str(s) => node().resolve(&String::from_utf8_lossy(s)),
        _ => None,
    }
}

impl Config {
    pub fn parse(t: &STable, source: Handle) -> Result<Config, GateError> {
        let port = num(t, "port")?.ok_or_else(|| GateError::Config("`port` is required".into()))?;
        if !(0.0..=65535.0).contains(&port) {
            return Err(GateError::Config(format!("invalid port {port}")));
        }
        let ws = match text(t, "protocol").as_deref() {
            None | Some("tcp") => false,
            Some("ws") | Some("websocket") => true,
            Some(other) => {
                return Err(GateError::Config(format!(
                    "unknown protocol {other:?} (tcp or ws)"
                )))
            }
        };
        let maxpacket = num(t, "maxpacket")?
            .map(|v| v as usize)
            .unwrap_or(u16::MAX as usize);
        if !ws && maxpacket > u16::MAX as usize {
            return Err(GateError::Config(
                "`maxpacket` over 65535 cannot be framed with 2 bytes".into(),
            ));
        }
        let watchdog = match field(t, "watchdog") {
            None | Some(SValue::Nil) => source,
            Some(v) => address_value(v)
                .ok_or_else(|| GateError::Config("invalid `watchdog` address".into()))?,
        };
        let nodelay = matches!(field(t, "nodelay"), Some(SValue::Bool(true)));
        Ok(Config {
            address: text(t, "address").unwrap_or_else(|| "0.0.0.0".into()),
            port: port as u16,
            maxclient: num(t, "maxclient")?.map(|v| v as usize).unwrap_or(1024),
            nodelay,
            ws,
            maxpacket,
            idle: num(t, "idle")?
                .filter(|v| *v > 0.0)
                .map(Duration::from_secs_f64),
            limits: Limits {
                warn: num(t, "warnpending")?
                    .map(|v| v as usize)
                    .unwrap_or(64 * 1024),
                cap: num(t, "maxpending")?.map(|v| v as usize).unwrap_or(1 << 20),
            },
            backlog: num(t, "backlog")?.map(|v| v as u32).unwrap_or(1024),
            watchdog,
        })
    }
}

/// State shared by the gate actor and its IO tasks.
pub(crate) struct Shared {
    pub handle: Handle,
    pub cfg: Config,
    pub conns: Mutex<HashMap<SocketId, Arc<Socket>>>,
    /// Stops accepting (`close`).
    pub listen: CancellationToken,
    /// The gate is gone (handshakes and the idle sweeper stop; connections are closed by Drop).
    pub closed: CancellationToken,
    pub refused: AtomicU64,
    /// Set by the accept loop once the listener is dropped, so `close` can return only when
    /// new connections are really refused.
    pub unbound: (parking_lot::Mutex<bool>, parking_lot::Condvar),
}

impl Shared {
    fn conn(&self, fd: i64) -> Result<Arc<Socket>, GateError> {
        let fd32 = i32::try_from(fd).map_err(|_| GateError::NoConnection(fd))?;
        self.conns
            .lock()
            .get(&fd32)
            .cloned()
            .ok_or(GateError::NoConnection(fd))
    }

    pub fn address(&self) -> String {
        fmt_handle(self.handle)
    }
}

/// Launch arguments of the native gate: an optional owner address.
pub fn owner_arg(args: &str) -> anyhow::Result<Option<Handle>> {
    match args.split_whitespace().next() {
        None => Ok(None),
        Some(a) => node()
            .resolve(a)
            .map(Some)
            .ok_or_else(|| anyhow::anyhow!("gate: invalid owner address {a}")),
    }
}

pub struct Gate {
    handle: Handle,
    shared: Option<Arc<Shared>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Gate {
    /// `owner`: a service this gate lives and dies with (the Lua wrapper in service/gate.lua).
    pub fn new(handle: Handle, owner: Option<Handle>) -> Gate {
        let mut g = Gate {
            handle,
            shared: None,
            tasks: Vec::new(),
        };
        if let Some(owner) = owner {
            g.tasks.push(node().io().spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if node().registry.get(owner).is_none() {
                        node().kill(handle);
                        return;
                    }
                }
            }));
        }
        g
    }

    fn command(&mut self, source: Handle, data: &[u8]) -> Result<Vec<SValue>, GateError> {
        let args = seri::unpack_svalues(data)
            .map_err(|_| GateError::Args("gate command (not lua-packed)"))?;
        let cmd = match args.first() {
            Some(SValue::Str(c)) => String::from_utf8_lossy(c).into_owned(),
            _ => return Err(GateError::Args("gate command (missing name)")),
        };
        let int = |i: usize, what| match args.get(i) {
            Some(SValue::Int(v)) => Ok(*v),
            Some(SValue::Real(f)) => Ok(*f as i64),
            _ => Err(GateError::Args(what)),
        };
        match cmd.as_str() {
            "open" => {
                if self.shared.is_some() {
                    return Err(GateError::AlreadyOpen);
                }
                let Some(SValue::Table(t)) = args.get(1) else {
                    return Err(GateError::Args("open (conf table)"));
                };
                let cfg = Config::parse(t, source)?;
                let (shared, port, tasks) = conn::open(self.handle, cfg)?;
                self.tasks.extend(tasks);
                self.shared = Some(shared);
                Ok(vec![SValue::Int(port as i64)])
            }
            "close" => {
                let sh = self.shared.as_ref().ok_or(GateError::NotOpen)?;
                sh.listen.cancel();
                // The accept loop drops the listener on an IO thread within microseconds; wait
                // for it (bounded) so a connect right after `close` is refused, as in skynet.
                let (lock, cv) = &sh.unbound;
                let mut unbound = lock.lock();
                if !*unbound {
                    cv.wait_for(&mut unbound, std::time::Duration::from_secs(1));
                }
                Ok(vec![])
            }
            "kick" => {
                let fd = int(1, "kick (fd)")?;
                if let Some(sh) = &self.shared {
                    if let Ok(c) = sh.conn(fd) {
                        c.close(false);
                    }
                }
                Ok(vec![])
            }
            "accept" | "forward" => {
                let fd = int(1, "accept/forward (fd)")?;
                let sh = self.shared.as_ref().ok_or(GateError::NotOpen)?;
                let c = sh.conn(fd)?;
                let route = c.route().expect("gate sockets have a route");
                if cmd == "forward" {
                    let client = args.get(2).and_then(address_value).unwrap_or(0);
                    let agent = match args.get(3) {
                        None | Some(SValue::Nil) => source,
                        Some(v) => {
                            address_value(v).ok_or(GateError::Args("forward (agent address)"))?
                        }
                    };
                    route.client.store(client, Ordering::Release);
                    route.agent.store(agent, Ordering::Release);
                    route.mode.store(FORWARD, Ordering::Release);
                } else {
                    route.mode.store(WATCHDOG, Ordering::Release);
                }
                c.start();
                Ok(vec![])
            }
            "send" => {
                let fd = int(1, "send (fd)")?;
                let Some(SValue::Str(msg)) = args.get(2) else {
                    return Err(GateError::Args("send (fd, msg)"));
                };
                let fd32 = i32::try_from(fd).map_err(|_| GateError::NoConnection(fd))?;
                let c = table().get(fd32).ok_or(GateError::NoConnection(fd))?;
                c.write_frame(msg)?;
                Ok(vec![])
            }
            "info" => {
                let sh = self.shared.as_ref().ok_or(GateError::NotOpen)?;
                Ok(vec![
                    SValue::Int(sh.conns.lock().len() as i64),
                    SValue::Int(sh.refused.load(Ordering::Relaxed) as i64),
                ])
            }
            other => Err(GateError::Unknown(other.to_string())),
        }
    }
}

impl Actor for Gate {
    fn dispatch(&mut self, _slot: &Arc<Slot>, msg: Message) {
        if msg.ptype != PTYPE_LUA {
            if msg.expects_reply() {
                node().bounce(&msg, "the gate only takes lua commands");
            }
            return;
        }
        let r = self.command(msg.source, &msg.data);
        if msg.expects_reply() {
            let reply = match r {
                Ok(vals) => Message::new(
                    self.handle,
                    msg.session,
                    PTYPE_RESPONSE,
                    Bytes::from(seri::pack_svalues(&vals)),
                ),
                Err(e) => Message::new(
                    self.handle,
                    msg.session,
                    PTYPE_ERROR,
                    Bytes::from(e.to_string()),
                ),
            };
            let _ = node().send(reply, msg.source);
        } else if let Err(e) = r {
            tracing::warn!(service = %fmt_handle(self.handle), "gate command from {}: {e}", fmt_handle(msg.source));
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        if let Some(sh) = &self.shared {
            sh.listen.cancel();
            sh.closed.cancel();
            // Each connection task waits on its own outbox: end them one by one.
            for c in sh.conns.lock().values() {
                c.close(true);
            }
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}
