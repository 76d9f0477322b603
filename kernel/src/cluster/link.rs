//! One outgoing connection per remote node: pipelined requests matched to responses by
//! session, reconnect with backoff, fail-fast calls while the node is down, and a bounded
//! queue for pushes made while the link reconnects.

use super::wire::{self, Addr, ResponseReader};
use crate::metrics::{self, Counter, Gauge};
use bytes::{Bytes, BytesMut};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// Pushes kept while a link is down; beyond this they are dropped with a log line.
const MAX_QUEUED_PUSHES: usize = 10_000;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub type Reply = Result<Bytes, String>;

pub enum Op {
    Call {
        addr: Addr,
        msg: Bytes,
        reply: oneshot::Sender<Reply>,
    },
    Push {
        addr: Addr,
        msg: Bytes,
    },
}

#[derive(Clone)]
pub struct Link {
    tx: mpsc::UnboundedSender<Op>,
    pub metrics: Arc<PeerMetrics>,
}

/// Per peer node, for `/metrics`.
pub struct PeerMetrics {
    pub up: Arc<Gauge>,
    pub calls: Arc<Counter>,
    pub failures: Arc<Counter>,
    pub pushes: Arc<Counter>,
}

impl PeerMetrics {
    fn new(node: &str) -> PeerMetrics {
        let l = [("peer", node)];
        PeerMetrics {
            up: metrics::gauge(
                "cirrus_cluster_link_up",
                "1 while the link to a peer node is connected, 0 while it is down.",
                &l,
            ),
            calls: metrics::counter(
                "cirrus_cluster_calls_total",
                "cluster.call requests sent to a peer node.",
                &l,
            ),
            failures: metrics::counter(
                "cirrus_cluster_call_failures_total",
                "cluster.call requests to a peer that failed (link down, remote error).",
                &l,
            ),
            pushes: metrics::counter(
                "cirrus_cluster_sends_total",
                "cluster.send messages submitted to a peer node.",
                &l,
            ),
        }
    }
}

impl Link {
    /// Start the link task for `node`; `resolve` gives its current address (config can change).
    pub fn spawn(
        node: String,
        resolve: impl Fn() -> Option<String> + Send + Sync + 'static,
        connect_timeout: Duration,
    ) -> Link {
        let (tx, rx) = mpsc::unbounded_channel();
        let metrics = Arc::new(PeerMetrics::new(&node));
        let up = metrics.up.clone();
        crate::node::node()
            .io()
            .spawn(run(node, resolve, connect_timeout, rx, up));
        Link { tx, metrics }
    }

    pub fn submit(&self, op: Op) -> Result<(), Op> {
        self.tx.send(op).map_err(|e| e.0)
    }
}

struct Conn {
    stream: TcpStream,
    pending: HashMap<u32, oneshot::Sender<Reply>>,
    reader: ResponseReader,
    rbuf: BytesMut,
}

async fn run(
    node: String,
    resolve: impl Fn() -> Option<String> + Sync,
    timeout: Duration,
    mut rx: mpsc::UnboundedReceiver<Op>,
    up: Arc<Gauge>,
) {
    let mut session: u32 = 0;
    let mut backoff = Duration::from_millis(100);
    let mut retry_at = Instant::now();
    let mut last_error = String::new();
    let mut queued: VecDeque<(Addr, Bytes)> = VecDeque::new();
    let mut conn: Option<Conn> = None;
    let mut held: Option<Op> = None;
    loop {
        if conn.is_none() && Instant::now() >= retry_at {
            match connect(&node, &resolve, timeout).await {
                Ok(c) => {
                    backoff = Duration::from_millis(100);
                    conn = Some(c);
                    up.set(1.0);
                }
                Err(e) => {
                    last_error = e;
                    retry_at = Instant::now() + backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        let Some(c) = conn.as_mut() else {
            // Down: calls fail at once with the reason (after one fresh connect attempt once the
            // backoff has passed); pushes wait, bounded, for the link to come back.
            let op = match held.take() {
                Some(op) => op,
                None => {
                    let wait = retry_at.saturating_duration_since(Instant::now());
                    tokio::select! {
                        op = rx.recv() => match op { Some(op) => op, None => return },
                        _ = tokio::time::sleep(wait), if !queued.is_empty() => continue,
                    }
                }
            };
            match op {
                Op::Call { .. } if Instant::now() >= retry_at => held = Some(op),
                Op::Call { reply, .. } => {
                    let _ = reply.send(Err(last_error.clone()));
                }
                Op::Push { addr, msg } => {
                    if queued.len() >= MAX_QUEUED_PUSHES {
                        tracing::error!(node = %node, "cluster push dropped: {MAX_QUEUED_PUSHES} already queued while the link is down");
                    } else {
                        queued.push_back((addr, msg));
                    }
                }
            }
            continue;
        };
        let mut out = BytesMut::new();
        while let Some((addr, msg)) = queued.pop_front() {
            session = next(session);
            if let Err(e) = wire::pack_request(&mut out, &addr, session, &msg, true) {
                tracing::error!(node = %node, "cluster push dropped: {e}");
            }
        }
        let first = match held.take() {
            Some(op) => Some(op),
            None if !out.is_empty() => None,
            None => {
                tokio::select! {
                    op = rx.recv() => match op { Some(op) => Some(op), None => return },
                    r = c.stream.read_buf(&mut c.rbuf) => {
                        let why = match r {
                            Ok(0) => Some("connection closed".to_string()),
                            Err(e) => Some(e.to_string()),
                            Ok(_) => read_responses(c).err(),
                        };
                        if let Some(why) = why {
                            drop_conn(&node, &mut conn, &why);
                            up.set(0.0);
                            last_error = format!("cluster node {node}: link dropped ({why})");
                            retry_at = Instant::now() + backoff;
                        }
                        continue;
                    }
                }
            }
        };
        // Pipeline whatever else is already waiting into one write.
        let mut batch: Vec<Op> = first.into_iter().collect();
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        for op in batch {
            session = next(session);
            match op {
                Op::Call { addr, msg, reply } => {
                    match wire::pack_request(&mut out, &addr, session, &msg, false) {
                        Ok(()) => {
                            c.pending.insert(session, reply);
                        }
                        Err(e) => {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                }
                Op::Push { addr, msg } => {
                    if let Err(e) = wire::pack_request(&mut out, &addr, session, &msg, true) {
                        tracing::error!(node = %node, "cluster push dropped: {e}");
                    }
                }
            }
        }
        if let Err(e) = c.stream.write_all(&out).await {
            let why = format!("write failed: {e}");
            drop_conn(&node, &mut conn, &why);
            up.set(0.0);
            last_error = format!("cluster node {node}: link dropped ({why})");
            retry_at = Instant::now() + backoff;
        }
    }
}

async fn connect(
    node: &str,
    resolve: &impl Fn() -> Option<String>,
    timeout: Duration,
) -> Result<Conn, String> {
    let addr =
        resolve().ok_or_else(|| format!("cluster node {node} is not in the cluster config"))?;
    match tokio::time::timeout(timeout, TcpStream::connect(&addr)).await {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            tracing::info!(node = %node, %addr, "cluster link up");
            Ok(Conn {
                stream: s,
                pending: HashMap::new(),
                reader: ResponseReader::default(),
                rbuf: BytesMut::with_capacity(64 * 1024),
            })
        }
        Ok(Err(e)) => Err(format!("cluster node {node} ({addr}) unreachable: {e}")),
        Err(_) => Err(format!(
            "cluster node {node} ({addr}): connect timed out after {timeout:?}"
        )),
    }
}

/// Complete every whole response in the read buffer.
fn read_responses(c: &mut Conn) -> Result<(), String> {
    while let Some(f) = wire::take_frame(&mut c.rbuf) {
        if let Some(resp) = c.reader.feed(&f).map_err(|e| e.to_string())? {
            if let Some(tx) = c.pending.remove(&resp.session) {
                let r = if resp.ok {
                    Ok(resp.msg)
                } else {
                    Err(String::from_utf8_lossy(&resp.msg).into_owned())
                };
                let _ = tx.send(r);
            }
        }
    }
    Ok(())
}

fn next(s: u32) -> u32 {
    match s.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// Tear down a link: every call in flight fails at once.
fn drop_conn(node: &str, conn: &mut Option<Conn>, why: &str) {
    if let Some(c) = conn.take() {
        tracing::warn!(node = %node, "cluster link down: {why}");
        for (_, tx) in c.pending {
            let _ = tx.send(Err(format!("cluster node {node}: link dropped ({why})")));
        }
    }
}
