//! One connection to a gate: requests matched to their responses by session (any number in
//! flight), pushes queued in arrival order, `ud` continuity and kicks tracked as packets arrive.
//!
//! A reader task owns the receiving half and decodes every packet under a short lock; requests
//! encode under the same lock (the sproto host keeps the session table) and write under a
//! separate async lock, so a slow write never stalls reading.

use super::error::{ClientError, Result};
use super::frame::{self, FrameReader, FrameWriter, Transport};
use super::schemas;
use super::seq::{SeqStats, SeqTracker};
use crate::sproto::{Host, Message, Sproto, Struct, Value};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

/// Requests whose successful answer starts the logged-in part of the stream.
const LOGIN_REQUESTS: &[&str] = &["login", "visitor_login", "reconnect"];

/// Called with every response as it arrives (before the requester sees it): latency
/// histograms and the like.
pub type Observer = Arc<dyn Fn(&Response) + Send + Sync>;

#[derive(Clone)]
pub struct Options {
    pub transport: Transport,
    pub connect_timeout: Duration,
    /// How long a request waits for its answer. A login waiting in the server's queue waits
    /// this long after each `queue_wait` push.
    pub request_timeout: Duration,
    pub observer: Option<Observer>,
    /// Resuming a session (reconnect): the `ud` of the last packet received before.
    pub resume_from: Option<i64>,
    /// The first request session of this connection. Sessions must not repeat within one
    /// login (the server answers a repeated one from its replay window), so a reconnecting
    /// client goes on from the old connection's [`Client::next_session`].
    pub first_session: Option<i64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            transport: Transport::Tcp,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            observer: None,
            resume_from: None,
            first_session: None,
        }
    }
}

/// A server's answer to one request.
#[derive(Debug, Clone)]
pub struct Response {
    pub name: String,
    pub session: i64,
    /// Field 0 of every response; 0 = ok.
    pub code: i64,
    pub body: Struct,
    pub ud: Option<i64>,
    /// From handing the request to the socket to decoding the answer.
    pub latency: Duration,
}

impl Response {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    /// `Err(ClientError::Code)` unless the code is 0.
    pub fn check(self) -> Result<Response> {
        if self.ok() {
            Ok(self)
        } else {
            Err(ClientError::Code {
                request: self.name,
                code: self.code,
            })
        }
    }

    pub fn int(&self, field: &str) -> Option<i64> {
        self.body.get(field).and_then(Value::as_integer)
    }
}

/// A packet the server sent unasked.
#[derive(Debug, Clone)]
pub struct Push {
    pub name: String,
    pub body: Struct,
    pub ud: Option<i64>,
}

impl Push {
    pub fn int(&self, field: &str) -> Option<i64> {
        self.body.get(field).and_then(Value::as_integer)
    }
}

/// Pushes in arrival order; ends when the connection closes.
pub struct Pushes {
    rx: mpsc::UnboundedReceiver<Push>,
}

impl Pushes {
    pub async fn recv(&mut self) -> Option<Push> {
        self.rx.recv().await
    }

    pub fn try_recv(&mut self) -> Option<Push> {
        self.rx.try_recv().ok()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnStats {
    pub packets_in: u64,
    pub packets_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub pushes: u64,
    pub queue_waits: u64,
    /// Packets that did not unpack or decode (logged in `Client::last_bad_packet`).
    pub bad_packets: u64,
    /// Responses that came after their request timed out.
    pub late_responses: u64,
    /// Responses without the `code` field every response must have.
    pub no_code: u64,
    pub seq: SeqStats,
}

impl ConnStats {
    pub fn add(&mut self, o: &ConnStats) {
        self.packets_in += o.packets_in;
        self.packets_out += o.packets_out;
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
        self.pushes += o.pushes;
        self.queue_waits += o.queue_waits;
        self.bad_packets += o.bad_packets;
        self.late_responses += o.late_responses;
        self.no_code += o.no_code;
        self.seq.add(&o.seq);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kick {
    pub reason: i64,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueWait {
    pub position: i64,
    pub wait_seconds: i64,
}

struct Pending {
    name: String,
    sent: Instant,
    tx: oneshot::Sender<Response>,
}

struct State {
    host: Host,
    next_session: i64,
    pending: HashMap<i64, Pending>,
    seq: SeqTracker,
    stats: ConnStats,
    kick: Option<Kick>,
    queue: Option<QueueWait>,
    closed: bool,
    close_error: Option<String>,
    last_bad: Option<String>,
}

struct Shared {
    c2s: Arc<Sproto>,
    state: Mutex<State>,
    writer: tokio::sync::Mutex<Option<FrameWriter>>,
    /// Counts `queue_wait` pushes, so a waiting login can extend its deadline.
    queue_tx: watch::Sender<u64>,
    closed_tx: watch::Sender<bool>,
    observer: Option<Observer>,
    request_timeout: Duration,
}

/// Stops the reader task when the last `Client` clone goes away.
struct ReaderGuard(tokio::task::AbortHandle);

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A connection to a gate. Clones share it; dropping the last one closes it.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    _reader: Arc<ReaderGuard>,
}

impl Client {
    pub async fn connect(addr: &str, opts: &Options) -> Result<(Client, Pushes)> {
        let (rd, wr) = frame::connect(addr, opts.transport, opts.connect_timeout).await?;
        Ok(Self::start(rd, wr, opts))
    }

    fn start(rd: FrameReader, wr: FrameWriter, opts: &Options) -> (Client, Pushes) {
        let sch = schemas();
        let host = Host::new(sch.s2c.clone(), "package").expect("s2c schema has package");
        let seq = match opts.resume_from {
            Some(last) => SeqTracker::resuming(last),
            None => SeqTracker::new(),
        };
        let shared = Arc::new(Shared {
            c2s: sch.c2s.clone(),
            state: Mutex::new(State {
                host,
                next_session: opts.first_session.unwrap_or(1).max(1),
                pending: HashMap::new(),
                seq,
                stats: ConnStats::default(),
                kick: None,
                queue: None,
                closed: false,
                close_error: None,
                last_bad: None,
            }),
            writer: tokio::sync::Mutex::new(Some(wr)),
            queue_tx: watch::channel(0).0,
            closed_tx: watch::channel(false).0,
            observer: opts.observer.clone(),
            request_timeout: opts.request_timeout,
        });
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(read_loop(shared.clone(), rd, push_tx));
        let client = Client {
            shared,
            _reader: Arc::new(ReaderGuard(task.abort_handle())),
        };
        (client, Pushes { rx: push_rx })
    }

    /// Send a request and wait for its answer (any code) for the configured timeout.
    pub async fn request(&self, name: &str, body: Struct) -> Result<Response> {
        self.call(name, body, self.shared.request_timeout, false)
            .await
    }

    /// Like [`Client::request`] with another timeout.
    pub async fn request_timeout(
        &self,
        name: &str,
        body: Struct,
        timeout: Duration,
    ) -> Result<Response> {
        self.call(name, body, timeout, false).await
    }

    /// A request that may wait in the login queue: every `queue_wait` push restarts the timeout.
    pub async fn request_queued(&self, name: &str, body: Struct) -> Result<Response> {
        self.call(name, body, self.shared.request_timeout, true)
            .await
    }

    async fn call(
        &self,
        name: &str,
        body: Struct,
        timeout: Duration,
        queued: bool,
    ) -> Result<Response> {
        let mut queue = self.shared.queue_tx.subscribe();
        let (tx, mut rx) = oneshot::channel();
        let (session, packet) = {
            let mut st = self.shared.state.lock();
            if st.closed {
                return Err(self.closed_error(&st, name));
            }
            let session = st.next_session;
            st.next_session += 1;
            let packet = st
                .host
                .request(&self.shared.c2s, name, Some(&body), Some(session), None)
                .map_err(|source| ClientError::Encode {
                    request: name.to_string(),
                    source,
                })?;
            st.pending.insert(
                session,
                Pending {
                    name: name.to_string(),
                    sent: Instant::now(),
                    tx,
                },
            );
            st.stats.packets_out += 1;
            st.stats.bytes_out += packet.len() as u64;
            (session, packet)
        };
        if let Err(e) = self.write(name, &packet).await {
            self.shared.state.lock().pending.remove(&session);
            return Err(e);
        }
        let mut deadline = tokio::time::Instant::now() + timeout;
        loop {
            tokio::select! {
                r = &mut rx => {
                    return r.map_err(|_| self.closed_error(&self.shared.state.lock(), name));
                }
                _ = tokio::time::sleep_until(deadline) => {
                    self.shared.state.lock().pending.remove(&session);
                    return Err(ClientError::Timeout {
                        request: name.to_string(),
                        secs: timeout.as_secs_f64(),
                    });
                }
                Ok(()) = queue.changed(), if queued => {
                    deadline = tokio::time::Instant::now() + timeout;
                }
            }
        }
    }

    async fn write(&self, name: &str, packet: &[u8]) -> Result<()> {
        let mut w = self.shared.writer.lock().await;
        match w.as_mut() {
            Some(w) => w.send(packet).await,
            None => Err(ClientError::Closed {
                request: name.to_string(),
            }),
        }
    }

    fn closed_error(&self, st: &State, name: &str) -> ClientError {
        match &st.kick {
            Some(k) => ClientError::Kicked {
                reason: k.reason,
                message: k.message.clone(),
            },
            None => ClientError::Closed {
                request: name.to_string(),
            },
        }
    }

    /// Close our side and wait (up to 2 s) for the server to close its side.
    pub async fn close(&self) {
        let w = self.shared.writer.lock().await.take();
        if let Some(mut w) = w {
            w.close().await;
        }
        self.wait_closed(Duration::from_secs(2)).await;
    }

    /// Wait until the server closed the connection; false if it is still open after `timeout`.
    pub async fn wait_closed(&self, timeout: Duration) -> bool {
        let mut rx = self.shared.closed_tx.subscribe();
        let closed = tokio::time::timeout(timeout, rx.wait_for(|c| *c)).await;
        closed.is_ok()
    }

    pub fn is_closed(&self) -> bool {
        self.shared.state.lock().closed
    }

    /// Why the connection ended, when it was not a clean close.
    pub fn close_error(&self) -> Option<String> {
        self.shared.state.lock().close_error.clone()
    }

    /// The decoding error of the last packet that could not be read.
    pub fn last_bad_packet(&self) -> Option<String> {
        self.shared.state.lock().last_bad.clone()
    }

    pub fn kicked(&self) -> Option<Kick> {
        self.shared.state.lock().kick.clone()
    }

    /// The last `queue_wait` the server sent.
    pub fn queue(&self) -> Option<QueueWait> {
        self.shared.state.lock().queue
    }

    /// The session the next request will use.
    pub fn next_session(&self) -> i64 {
        self.shared.state.lock().next_session
    }

    /// The `ud` of the last packet in sequence, for `reconnect.last_seq`.
    pub fn last_seq(&self) -> Option<i64> {
        self.shared.state.lock().seq.last()
    }

    /// A reconnect answered `resumed = false`: the sequence continues from the server's `seq`.
    pub fn reset_seq(&self, seq: i64) {
        self.shared.state.lock().seq.reset(seq);
    }

    pub fn logged_in(&self) -> bool {
        self.shared.state.lock().seq.logged_in()
    }

    pub fn stats(&self) -> ConnStats {
        let st = self.shared.state.lock();
        let mut s = st.stats.clone();
        s.seq = st.seq.stats().clone();
        s
    }
}

async fn read_loop(shared: Arc<Shared>, mut rd: FrameReader, pushes: mpsc::UnboundedSender<Push>) {
    let error = loop {
        match rd.next().await {
            Ok(Some(packet)) => shared.on_packet(&packet, &pushes),
            Ok(None) => break None,
            Err(e) => break Some(e.to_string()),
        }
    };
    let mut st = shared.state.lock();
    st.closed = true;
    st.close_error = error;
    // Dropping the senders fails every request still waiting.
    st.pending.clear();
    drop(st);
    shared.closed_tx.send_replace(true);
}

fn integer(v: Option<Value>) -> Option<i64> {
    v.as_ref().and_then(Value::as_integer)
}

impl Shared {
    fn on_packet(&self, packet: &[u8], pushes: &mpsc::UnboundedSender<Push>) {
        let now = Instant::now();
        let mut st = self.state.lock();
        st.stats.packets_in += 1;
        st.stats.bytes_in += packet.len() as u64;
        let msg = match st.host.dispatch(packet) {
            Ok(m) => m,
            Err(crate::sproto::RpcError::UnknownSession(_)) => {
                // An answer to a request of an earlier connection, replayed after a
                // reconnect, or a resent answer: in sequence, but nobody waits for it.
                if let Ok(h) = st.host.header(packet) {
                    st.seq.observe(h.ud);
                }
                st.stats.late_responses += 1;
                return;
            }
            Err(e) => {
                st.stats.bad_packets += 1;
                st.last_bad = Some(e.to_string());
                return;
            }
        };
        match msg {
            Message::Response(r) => {
                let ud = integer(r.ud);
                st.seq.observe(ud);
                let Some(p) = st.pending.remove(&r.session) else {
                    st.stats.late_responses += 1;
                    return;
                };
                let body = r.args.unwrap_or_default();
                let code = match body.get("code").and_then(Value::as_integer) {
                    Some(c) => c,
                    None => {
                        st.stats.no_code += 1;
                        0
                    }
                };
                if code == 0 && LOGIN_REQUESTS.contains(&p.name.as_str()) {
                    st.seq.set_logged_in();
                } else if code == 0 && p.name == "logout" {
                    st.seq.set_logged_out();
                }
                drop(st);
                let resp = Response {
                    name: p.name,
                    session: r.session,
                    code,
                    body,
                    ud,
                    latency: now.saturating_duration_since(p.sent),
                };
                if let Some(o) = &self.observer {
                    o(&resp);
                }
                let _ = p.tx.send(resp);
            }
            Message::Request(q) => {
                let ud = integer(q.ud);
                st.seq.observe(ud);
                st.stats.pushes += 1;
                let body = q.args.unwrap_or_default();
                match q.name.as_str() {
                    "kick" => {
                        st.kick = Some(Kick {
                            reason: body.get("reason").and_then(Value::as_integer).unwrap_or(0),
                            message: body
                                .get("message")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                        })
                    }
                    "queue_wait" => {
                        st.queue = Some(QueueWait {
                            position: body
                                .get("position")
                                .and_then(Value::as_integer)
                                .unwrap_or(0),
                            wait_seconds: body
                                .get("wait_seconds")
                                .and_then(Value::as_integer)
                                .unwrap_or(0),
                        });
                        st.stats.queue_waits += 1;
                        self.queue_tx.send_modify(|n| *n += 1);
                    }
                    _ => {}
                }
                drop(st);
                let _ = pushes.send(Push {
                    name: q.name,
                    body,
                    ud,
                });
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
