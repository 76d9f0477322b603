//! One `redis.connect` object: a shared multiplexed connection (concurrent coroutines pipeline
//! on it), a small pool of dedicated connections for MULTI/WATCH transactions, and reconnection.
//!
//! While the link is down every call fails at once with the reason; a background task redials
//! with backoff and the next call after it succeeds goes through.

use crate::service::{fmt_handle, Handle};
use ::redis::aio::MultiplexedConnection;
use ::redis::io::tcp::TcpSettings;
use ::redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
    RedisError,
};
use mlua::{Table, Value};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Dedicated transaction connections kept for reuse.
const MAX_IDLE_DEDICATED: usize = 8;
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Where and how to connect: `{host, port, db, auth, user, timeout, connect_timeout}`.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub db: i64,
    pub auth: Option<String>,
    pub user: Option<String>,
    /// How long one reply may take; `None` waits forever (blocking commands).
    pub timeout: Option<Duration>,
    pub connect_timeout: Duration,
}

fn seconds(v: Value, what: &str) -> mlua::Result<Option<Duration>> {
    let s = match v {
        Value::Nil => return Ok(None),
        Value::Integer(i) => i as f64,
        Value::Number(n) => n,
        other => {
            return Err(mlua::Error::runtime(format!(
                "redis conf `{what}` must be seconds, got {}",
                other.type_name()
            )))
        }
    };
    if !(s >= 0.0 && s.is_finite()) {
        return Err(mlua::Error::runtime(format!(
            "redis conf `{what}` must be a non-negative number of seconds"
        )));
    }
    Ok(Some(Duration::from_secs_f64(s)))
}

impl Config {
    pub fn from_lua(t: &Table) -> mlua::Result<Config> {
        let host: Option<String> = t.get("host")?;
        let port: Option<i64> = t.get("port")?;
        let port = match port.unwrap_or(6379) {
            p @ 1..=65535 => p as u16,
            p => {
                return Err(mlua::Error::runtime(format!(
                    "redis conf `port` out of range: {p}"
                )))
            }
        };
        let timeout = match seconds(t.get("timeout")?, "timeout")? {
            None => Some(Duration::from_secs(5)),
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
        };
        Ok(Config {
            host: host.unwrap_or_else(|| "127.0.0.1".into()),
            port,
            db: t.get::<Option<i64>>("db")?.unwrap_or(0),
            auth: t.get("auth")?,
            user: t.get("user")?,
            timeout,
            connect_timeout: seconds(t.get("connect_timeout")?, "connect_timeout")?
                .unwrap_or(Duration::from_secs(2)),
        })
    }

    /// `redis host:port/db`, the prefix of every message about this link.
    pub fn label(&self) -> String {
        format!("redis {}:{}/{}", self.host, self.port, self.db)
    }

    pub fn client(&self) -> Result<Client, String> {
        let mut redis = RedisConnectionInfo::default()
            .set_db(self.db)
            .set_skip_set_lib_name();
        if let Some(p) = &self.auth {
            redis = redis.set_password(p);
        }
        if let Some(u) = &self.user {
            redis = redis.set_username(u);
        }
        let info = ConnectionAddr::Tcp(self.host.clone(), self.port)
            .into_connection_info()
            .map_err(|e| format!("{}: {e}", self.label()))?
            .set_redis_settings(redis)
            // Small requests dominate; Nagle would add latency to every round trip.
            .set_tcp_settings(TcpSettings::default().set_nodelay(true));
        Client::open(info).map_err(|e| format!("{}: {e}", self.label()))
    }

    fn async_config(&self) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(self.timeout)
    }
}

/// The text Lua sees for a transport or protocol error.
pub fn describe(label: &str, e: &RedisError) -> String {
    if e.is_connection_refusal() {
        format!("{label}: connection refused")
    } else if e.is_timeout() {
        format!("{label}: timed out")
    } else {
        format!("{label}: {e}")
    }
}

/// Why a first connection (`redis.connect`, `redis.watch`) failed, in skynet's terms: its
/// socketchannel logs `Connect failed <reason> host port` (after `socket: auth failed <reply>`
/// when the server refused AUTH/SELECT) and raises `socketchannel.error`.
#[derive(Debug)]
pub enum ConnectFailure {
    /// The socket could not be opened: the system's reason, worded as strerror words it.
    Socket(String),
    /// The server answered AUTH or SELECT with an error: its own reply.
    Auth(String),
}

/// The system's wording of an I/O error ("Connection refused"), without Rust's
/// " (os error N)" suffix, as skynet's socket layer reports it.
fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(p) if e.raw_os_error().is_some() => text[..p].to_string(),
        _ if e.kind() == std::io::ErrorKind::TimedOut => "Connection timed out".into(),
        _ => text,
    }
}

impl ConnectFailure {
    pub fn from_redis(e: &RedisError) -> ConnectFailure {
        use std::error::Error;
        if let Some(io) = e.source().and_then(|s| s.downcast_ref::<std::io::Error>()) {
            return ConnectFailure::Socket(os_reason(io));
        }
        if e.is_connection_refusal() {
            return ConnectFailure::Socket("Connection refused".into());
        }
        if e.is_timeout() {
            return ConnectFailure::Socket("Connection timed out".into());
        }
        match (e.code(), e.detail()) {
            (Some(code), Some(d)) => ConnectFailure::Auth(format!("{code} {d}")),
            (Some(code), None) => ConnectFailure::Auth(code.to_string()),
            _ if e.kind() == ::redis::ErrorKind::AuthenticationFailed => {
                ConnectFailure::Auth(e.detail().map_or_else(|| e.to_string(), str::to_string))
            }
            _ => ConnectFailure::Socket(e.to_string()),
        }
    }

    /// The reply of a failed first connection: `true, "socket"|"auth", reason` (a success is
    /// a bare `true`), which redis.lua turns into skynet's log lines and error.
    pub fn packet(&self) -> Vec<u8> {
        let mut w = crate::store::ok_writer();
        let (kind, why) = match self {
            ConnectFailure::Socket(why) => ("socket", why),
            ConnectFailure::Auth(why) => ("auth", why),
        };
        w.string(kind.as_bytes());
        w.string(why.as_bytes());
        w.finish()
    }
}

/// Errors after which the connection can't be trusted and is replaced.
pub fn is_fatal(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() || e.is_timeout()
}

struct State {
    conn: Option<MultiplexedConnection>,
    /// Bumped on every new connection so a stale failure can't tear down a fresh link.
    generation: u64,
    down: String,
    reconnecting: bool,
}

pub struct Link {
    cfg: Config,
    pub label: String,
    owner: Handle,
    client: Client,
    state: Mutex<State>,
    idle: Mutex<Vec<MultiplexedConnection>>,
    closed: AtomicBool,
}

impl Link {
    pub fn new(cfg: Config, owner: Handle) -> Result<Arc<Link>, String> {
        let client = cfg.client()?;
        Ok(Arc::new(Link {
            label: cfg.label(),
            cfg,
            owner,
            client,
            state: Mutex::new(State {
                conn: None,
                generation: 0,
                down: "not connected yet".into(),
                reconnecting: false,
            }),
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }))
    }

    async fn dial(&self) -> Result<MultiplexedConnection, RedisError> {
        self.client
            .get_multiplexed_async_connection_with_config(&self.cfg.async_config())
            .await
    }

    /// The first connection; `redis.connect` raises if it fails.
    pub async fn open(&self) -> Result<(), ConnectFailure> {
        let conn = self
            .dial()
            .await
            .map_err(|e| ConnectFailure::from_redis(&e))?;
        let mut st = self.state.lock();
        st.conn = Some(conn);
        st.generation += 1;
        tracing::debug!(service = %fmt_handle(self.owner), link = %self.label, "connected");
        Ok(())
    }

    /// The shared connection, or at once the reason it is unavailable.
    pub fn conn(&self) -> Result<(MultiplexedConnection, u64), String> {
        if self.closed.load(Ordering::Acquire) {
            return Err(format!("{}: connection closed", self.label));
        }
        let st = self.state.lock();
        match &st.conn {
            Some(c) => Ok((c.clone(), st.generation)),
            None => Err(format!(
                "{} is unreachable ({}); reconnecting",
                self.label, st.down
            )),
        }
    }

    /// Report a failed call. A transport failure drops the connection and starts redialing.
    pub fn failed(self: &Arc<Self>, generation: u64, e: &RedisError) {
        if !is_fatal(e) || self.closed.load(Ordering::Acquire) {
            return;
        }
        let start = {
            let mut st = self.state.lock();
            if st.generation != generation || st.conn.is_none() {
                return;
            }
            st.conn = None;
            st.down = describe("connection lost", e);
            !std::mem::replace(&mut st.reconnecting, true)
        };
        self.idle.lock().clear();
        tracing::warn!(service = %fmt_handle(self.owner), link = %self.label, "connection lost: {e}; reconnecting");
        if start {
            let weak = Arc::downgrade(self);
            crate::node::node().io().spawn(redial(weak));
        }
    }

    /// A connection for one transaction: reused from the idle pool or freshly dialed.
    pub async fn dedicated(&self) -> Result<MultiplexedConnection, String> {
        self.conn()?;
        if let Some(c) = self.idle.lock().pop() {
            return Ok(c);
        }
        self.dial().await.map_err(|e| describe(&self.label, &e))
    }

    /// Return a dedicated connection whose session state (MULTI, WATCH) is clean.
    pub fn give_back(&self, c: MultiplexedConnection) {
        if self.closed.load(Ordering::Acquire) || self.state.lock().conn.is_none() {
            return;
        }
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE_DEDICATED {
            idle.push(c);
        }
    }

    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.state.lock().conn = None;
        self.idle.lock().clear();
    }
}

/// Redial with backoff until connected, closed, or the link is dropped by its owner.
async fn redial(weak: Weak<Link>) {
    let mut backoff = BACKOFF_START;
    let mut attempts = 0u32;
    loop {
        tokio::time::sleep(backoff).await;
        let Some(link) = weak.upgrade() else { return };
        if link.closed.load(Ordering::Acquire) {
            link.state.lock().reconnecting = false;
            return;
        }
        attempts += 1;
        match link.dial().await {
            Ok(conn) => {
                let mut st = link.state.lock();
                st.conn = Some(conn);
                st.generation += 1;
                st.reconnecting = false;
                drop(st);
                tracing::info!(service = %fmt_handle(link.owner), link = %link.label, attempts, "reconnected");
                return;
            }
            Err(e) => {
                link.state.lock().down = describe("reconnect failed", &e);
                if attempts == 1 || attempts.is_power_of_two() {
                    tracing::warn!(service = %fmt_handle(link.owner), link = %link.label, attempts, "reconnect failed: {e}");
                }
            }
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}
