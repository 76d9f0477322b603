//! The gate's IO tasks: the accept loop (maxclient), one task per connection (deframing,
//! routing, flushing output) and the idle sweeper. Anything wrong with one connection ends
//! that connection only, with a log line and an `error` event to the watchdog.

use super::{now_ms, s, GateError, Route, Shared};
use crate::net::outbox::Outbox;
use crate::net::table::{table, Kind, Socket};
use crate::net::tcp;
use crate::node::node;
use crate::service::Handle;
use bytes::{Buf, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tokio_util::sync::CancellationToken;

/// Spare room kept in a connection's read buffer before each read.
const MIN_SPARE: usize = 512;
const READ_CHUNK: usize = 2048;
const WS_BUFFER: usize = 4096;
/// How long a client may take to complete the WebSocket handshake.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

type Opened = (Arc<Shared>, u16, Vec<JoinHandle<()>>);

/// Bind the listener and start the accept loop (and the idle sweeper when configured).
pub(super) fn open(handle: Handle, cfg: super::Config) -> Result<Opened, GateError> {
    // The gate series exist (at 0) from the first listener on.
    super::metrics(cfg.ws);
    let addr = tcp::resolve_host(&cfg.address, cfg.port)?;
    let listener = tcp::bind(addr, cfg.backlog)?;
    let local = listener
        .local_addr()
        .map_err(|e| tcp::NetError::Io("getsockname", addr.to_string(), e))?;
    let shared = Arc::new(Shared {
        handle,
        cfg,
        conns: Mutex::new(HashMap::new()),
        listen: CancellationToken::new(),
        closed: CancellationToken::new(),
        refused: AtomicU64::new(0),
        unbound: Default::default(),
    });
    tracing::info!(
        service = %shared.address(),
        "gate listening on {local} ({}, maxclient {})",
        if shared.cfg.ws { "websocket" } else { "tcp" },
        shared.cfg.maxclient
    );
    let mut tasks = vec![node().io().spawn(accept_loop(shared.clone(), listener))];
    if let Some(idle) = shared.cfg.idle {
        tasks.push(node().io().spawn(sweep(shared.clone(), idle)));
    }
    Ok((shared, local.port(), tasks))
}

async fn accept_loop(g: Arc<Shared>, listener: TcpListener) {
    loop {
        let r = tokio::select! {
            _ = g.listen.cancelled() => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match r {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and the like: existing clients keep working.
                tracing::warn!(service = %g.address(), "gate accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let m = super::metrics(g.cfg.ws);
        if g.conns.lock().len() >= g.cfg.maxclient {
            m.refused.inc();
            let n = g.refused.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() || n.is_multiple_of(1000) {
                tracing::warn!(service = %g.address(), "gate full ({} clients): refused {peer} ({n} refused so far)", g.cfg.maxclient);
            }
            drop(stream);
            continue;
        }
        if g.cfg.nodelay {
            let _ = stream.set_nodelay(true);
        }
        let route = Arc::new(Route::new(g.cfg.ws, g.handle, g.cfg.watchdog));
        let sock = table().insert(|id| {
            Socket::new(
                id,
                Kind::Gate(route.clone()),
                g.handle,
                peer.to_string(),
                Some(Outbox::new(g.cfg.limits)),
                false,
            )
        });
        g.conns.lock().insert(sock.id, sock.clone());
        m.accepted.inc();
        m.open.add(1.0);
        if g.cfg.ws {
            tokio::spawn(run_ws(g.clone(), sock, stream));
        } else {
            route.notify("open", sock.id, Some(s(&sock.peer)));
            tokio::spawn(run_tcp(g.clone(), sock, stream));
        }
    }
    drop(listener);
    let (lock, cv) = &g.unbound;
    *lock.lock() = true;
    cv.notify_all();
    tracing::info!(service = %g.address(), "gate stopped listening");
}

/// Close connections that sent no frame for `idle`.
async fn sweep(g: Arc<Shared>, idle: Duration) {
    let tick = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let limit = idle.as_millis() as u64;
    loop {
        tokio::select! {
            _ = g.closed.cancelled() => return,
            _ = tokio::time::sleep(tick) => {}
        }
        let now = now_ms();
        let conns: Vec<Arc<Socket>> = g.conns.lock().values().cloned().collect();
        for c in conns {
            let (Some(r), Some(out)) = (c.route(), &c.out) else {
                continue;
            };
            let quiet = r.idle_for(now);
            if quiet > limit {
                out.abort(format!(
                    "idle for {:.1} s without a frame",
                    quiet as f64 / 1000.0
                ));
            }
        }
    }
}

enum End {
    /// The client closed.
    Eof,
    /// Closed from our side (kick, close, shutdown) or the gate went away.
    Closed,
    /// Cut by a limit (slow reader, idle) or a write error.
    Cut(String),
    /// The client broke the protocol (oversized frame).
    Bad(String),
    /// A read error (reset by peer, ...).
    Io(String),
}

fn end_of_outbox(out: &Outbox) -> End {
    match out.abort_reason() {
        Some(why) => End::Cut(why),
        None => End::Closed,
    }
}

/// Forget a connection and tell the watchdog how it ended.
fn finish(g: &Shared, sock: &Socket, route: &Route, end: End) {
    table().remove(sock.id);
    g.conns.lock().remove(&sock.id);
    super::metrics(g.cfg.ws).open.add(-1.0);
    let fd = sock.id;
    let peer = &sock.peer;
    match end {
        End::Eof | End::Closed => route.notify("close", fd, None),
        End::Cut(why) | End::Bad(why) => {
            tracing::warn!(service = %g.address(), fd, %peer, "gate closed connection: {why}");
            route.notify("error", fd, Some(s(&why)));
        }
        End::Io(why) => {
            tracing::debug!(service = %g.address(), fd, %peer, "gate connection error: {why}");
            route.notify("error", fd, Some(s(&why)));
        }
    }
}

/// Cut complete 2-byte-length frames out of `buf` and route them.
fn deframe(
    g: &Shared,
    sock: &Socket,
    route: &Route,
    out: &Outbox,
    buf: &mut BytesMut,
) -> Result<(), String> {
    let max = g.cfg.maxpacket;
    let m = super::metrics(false);
    while buf.len() >= 2 {
        let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
        if len > max {
            return Err(format!("frame of {len} bytes is over maxpacket {max}"));
        }
        if buf.len() < 2 + len {
            buf.reserve(2 + len - buf.len());
            break;
        }
        buf.advance(2);
        let frame = buf.split_to(len).freeze();
        m.frames_in.inc();
        m.bytes_in.add(len as u64);
        // After kick/close nothing more is delivered.
        if !out.is_closing() && !route.deliver(sock.id, frame) {
            tracing::debug!(service = %g.address(), fd = sock.id, "frame dropped: its destination is gone");
        }
    }
    Ok(())
}

async fn run_tcp(g: Arc<Shared>, sock: Arc<Socket>, stream: TcpStream) {
    let route = sock.route().expect("gate socket").clone();
    let out = sock.out.clone().expect("gate socket");
    let (mut rd, wr) = stream.into_split();
    out.attach(wr);
    let flush = out.flush_tcp();
    // Polled on every turn of the loop: pinned once.
    let done = out.done.wait();
    tokio::pin!(flush, done);
    let mut buf = BytesMut::new();
    let end = loop {
        let reading = sock.reading() && !out.is_closing();
        if reading && buf.capacity() - buf.len() < MIN_SPARE {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            biased;
            _ = &mut done => break end_of_outbox(&out),
            r = &mut flush => break match r {
                Ok(()) => End::Closed,
                Err(e) => End::Cut(e),
            },
            _ = sock.wait_start(), if !reading => {}
            r = tokio::io::AsyncReadExt::read_buf(&mut rd, &mut buf), if reading => match r {
                Ok(0) => break End::Eof,
                Ok(_) => {
                    if let Err(e) = deframe(&g, &sock, &route, &out, &mut buf) {
                        break End::Bad(e);
                    }
                }
                Err(e) => break End::Io(e.to_string()),
            },
        }
    };
    finish(&g, &sock, &route, end);
}

/// Remove a connection whose WebSocket handshake never completed (the watchdog never saw it).
fn drop_unopened(g: &Shared, sock: &Socket, why: &str) {
    table().remove(sock.id);
    g.conns.lock().remove(&sock.id);
    super::metrics(g.cfg.ws).open.add(-1.0);
    tracing::warn!(service = %g.address(), peer = %sock.peer, "gate refused connection: {why}");
}

async fn run_ws(g: Arc<Shared>, sock: Arc<Socket>, stream: TcpStream) {
    let route = sock.route().expect("gate socket").clone();
    let out = sock.out.clone().expect("gate socket");
    let max = g.cfg.maxpacket;
    // tungstenite's 128 KiB default buffers would cost ~250 KiB per idle client.
    let cfg = WebSocketConfig::default()
        .read_buffer_size(WS_BUFFER)
        .write_buffer_size(WS_BUFFER)
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    let limit = g.cfg.idle.unwrap_or(HANDSHAKE_LIMIT).min(HANDSHAKE_LIMIT);
    let ws = tokio::select! {
        _ = g.closed.cancelled() => return drop_unopened(&g, &sock, "gate closed during handshake"),
        _ = out.done.wait() => return drop_unopened(&g, &sock, "closed during handshake"),
        r = tokio::time::timeout(limit, tokio_tungstenite::accept_async_with_config(stream, Some(cfg))) => match r {
            Ok(Ok(ws)) => ws,
            Ok(Err(e)) => return drop_unopened(&g, &sock, &format!("not a WebSocket handshake: {e}")),
            Err(_) => return drop_unopened(&g, &sock, "WebSocket handshake timed out"),
        },
    };
    route.notify("open", sock.id, Some(s(&sock.peer)));
    let (mut sink, mut incoming) = ws.split();
    let flush = async {
        loop {
            let (batch, fin) = out.next_batch().await;
            let n: usize = batch.iter().map(Bytes::len).sum();
            for b in batch {
                sink.feed(WsMessage::Binary(b))
                    .await
                    .map_err(|e| format!("write failed: {e}"))?;
            }
            sink.flush()
                .await
                .map_err(|e| format!("write failed: {e}"))?;
            out.sent(n);
            if fin {
                let _ = sink.close().await;
                return Ok::<(), String>(());
            }
        }
    };
    let done = out.done.wait();
    tokio::pin!(flush, done);
    let end = loop {
        let reading = sock.reading() && !out.is_closing();
        tokio::select! {
            biased;
            _ = &mut done => break end_of_outbox(&out),
            r = &mut flush => break match r {
                Ok(()) => End::Closed,
                Err(e) => End::Cut(e),
            },
            _ = sock.wait_start(), if !reading => {}
            m = incoming.next(), if reading => {
                let data = match m {
                    None | Some(Ok(WsMessage::Close(_))) => break End::Eof,
                    Some(Ok(WsMessage::Binary(b))) => b,
                    Some(Ok(WsMessage::Text(t))) => Bytes::from(t),
                    Some(Ok(_)) => continue,
                    Some(Err(WsError::Capacity(e))) => break End::Bad(format!("message over maxpacket {max}: {e}")),
                    Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => break End::Eof,
                    Some(Err(WsError::Protocol(e))) => break End::Bad(format!("websocket protocol error: {e}")),
                    Some(Err(e)) => break End::Io(e.to_string()),
                };
                let m = super::metrics(true);
                m.frames_in.inc();
                m.bytes_in.add(data.len() as u64);
                if !out.is_closing() && !route.deliver(sock.id, data) {
                    tracing::debug!(service = %g.address(), fd = sock.id, "frame dropped: its destination is gone");
                }
            }
        }
    };
    finish(&g, &sock, &route, end);
}
