//! TCP for `skynet.socket`: listeners, accepted and connected streams. Each stream has one
//! task on the IO runtime that reads (when started and not paused), flushes queued output and
//! reports DATA / CLOSE / ERROR to the owning service as PTYPE_SOCKET messages.

use super::event::{self, post};
use super::outbox::{Limits, Outbox};
use super::table::{table, Kind, Socket, SocketId};
use crate::node::node;
use crate::service::{fmt_handle, Handle};
use bytes::{BufMut, BytesMut};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// Smallest and largest read sizes; the read size adapts to traffic as skynet's does.
const MIN_READ: usize = 256;
const MAX_READ: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, String),
    #[error("{0} {1}: {2}")]
    Io(&'static str, String, std::io::Error),
    #[error("socket {0} is not a UDP socket")]
    NotUdp(i32),
}

/// Resolve a listen/bind host. IP literals, "" / "*" (any) and "localhost" need no DNS;
/// other names use the system resolver.
pub fn resolve_host(host: &str, port: u16) -> Result<SocketAddr, NetError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host == "*" {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    if host == "localhost" {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (host, port)
        .to_socket_addrs()
        .map_err(|e| NetError::Resolve(host.to_string(), e.to_string()))?
        .next()
        .ok_or_else(|| NetError::Resolve(host.to_string(), "no address".into()))
}

/// Bind a TCP listener on the IO runtime.
pub fn bind(addr: SocketAddr, backlog: u32) -> Result<TcpListener, NetError> {
    super::raise_nofile();
    let _rt = node().io().enter();
    let io = |what, e| NetError::Io(what, addr.to_string(), e);
    let sock = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(|e| io("socket", e))?;
    sock.set_reuseaddr(true).map_err(|e| io("setsockopt", e))?;
    sock.bind(addr).map_err(|e| io("bind", e))?;
    sock.listen(backlog).map_err(|e| io("listen", e))
}

/// `socketdriver.listen`: bind now (errors go back to the caller), accept once started.
pub fn listen(
    owner: Handle,
    host: &str,
    port: u16,
    backlog: u32,
) -> Result<(SocketId, SocketAddr), NetError> {
    let listener = bind(resolve_host(host, port)?, backlog)?;
    let local = listener
        .local_addr()
        .map_err(|e| NetError::Io("getsockname", host.to_string(), e))?;
    let sock =
        table().insert(|id| Socket::new(id, Kind::Listen, owner, local.to_string(), None, false));
    let id = sock.id;
    node().io().spawn(accept_loop(sock, listener));
    Ok((id, local))
}

async fn accept_loop(sock: Arc<Socket>, listener: TcpListener) {
    accept_until_stopped(&sock, &listener).await;
    // Stop listening before the owner hears CLOSE: its next connect must be refused.
    drop(listener);
    finish_simple(&sock)
}

async fn accept_until_stopped(sock: &Arc<Socket>, listener: &TcpListener) {
    while !sock.is_started() {
        tokio::select! {
            _ = sock.stop.wait() => return,
            _ = sock.wait_start() => {}
        }
    }
    loop {
        let r = tokio::select! {
            _ = sock.stop.wait() => break,
            r = listener.accept() => r,
        };
        match r {
            Ok((stream, peer)) => {
                let owner = sock.owner();
                let conn = table().insert(|id| {
                    Socket::new(
                        id,
                        Kind::Tcp,
                        owner,
                        peer.to_string(),
                        Some(Outbox::new(Limits::default())),
                        false,
                    )
                });
                let ev =
                    event::encode(event::ACCEPT, sock.id, conn.id, peer.to_string().as_bytes());
                if !post(owner, ev) {
                    table().remove(conn.id);
                    break;
                }
                tokio::spawn(run_stream(conn, stream));
            }
            Err(e) => {
                // Out of descriptors and similar: report, back off, keep listening.
                tracing::warn!(socket = sock.id, owner = %fmt_handle(sock.owner()), "accept failed: {e}");
                post(
                    sock.owner(),
                    event::encode(event::ERROR, sock.id, 0, e.to_string().as_bytes()),
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Remove a listener or UDP socket and tell its owner it is closed.
pub(crate) fn finish_simple(sock: &Socket) {
    table().remove(sock.id);
    post(sock.owner(), event::encode(event::CLOSE, sock.id, 0, &[]));
}

/// `socketdriver.connect`: returns the id at once; CONNECT or ERROR follows.
pub fn connect(owner: Handle, host: String, port: u16, timeout: Duration) -> SocketId {
    let peer = format!("{host}:{port}");
    let sock = table().insert(|id| {
        Socket::new(
            id,
            Kind::Tcp,
            owner,
            peer,
            Some(Outbox::new(Limits::default())),
            true,
        )
    });
    let id = sock.id;
    node().io().spawn(async move {
        let r = tokio::select! {
            _ = sock.stop.wait() => Err("connect cancelled".to_string()),
            r = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), port))) => match r {
                Ok(Ok(s)) => Ok(s),
                Ok(Err(e)) => Err(format!("connect {host}:{port}: {e}")),
                Err(_) => Err(format!("connect {host}:{port}: timed out after {} ms", timeout.as_millis())),
            },
        };
        match r {
            Ok(stream) => {
                let addr = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
                if post(sock.owner(), event::encode(event::CONNECT, sock.id, 0, addr.as_bytes())) {
                    run_stream(sock, stream).await;
                } else {
                    table().remove(sock.id);
                }
            }
            Err(e) => {
                table().remove(sock.id);
                post(sock.owner(), event::encode(event::ERROR, sock.id, 0, e.as_bytes()));
            }
        }
    });
    id
}

enum End {
    Eof,
    Closed,
    Error(String),
}

/// The task of one stream socket.
pub async fn run_stream(sock: Arc<Socket>, stream: TcpStream) {
    let out = sock.out.clone().expect("stream sockets have an outbox");
    let (mut rd, wr) = stream.into_split();
    out.attach(wr);
    let flush = out.flush_tcp();
    let (done, stop) = (out.done.wait(), sock.stop.wait());
    tokio::pin!(flush, done, stop);
    let mut size = MIN_READ;
    let mut buf = BytesMut::new();
    // A chunk read just as the socket was paused (abandon, flow control): it goes to whoever
    // starts the socket next, so a hand-over between services loses nothing.
    let mut held: Option<bytes::Bytes> = None;
    let end = loop {
        let reading = sock.reading() && !out.is_closing();
        if reading {
            if let Some(chunk) = held.take() {
                if !post(sock.owner(), chunk) {
                    break End::Closed;
                }
            }
        }
        if reading && buf.capacity() < event::HEADER + size {
            buf.reserve(event::HEADER + size);
        }
        if reading {
            buf.put_bytes(0, event::HEADER);
        }
        tokio::select! {
            biased;
            _ = &mut done => break match out.abort_reason() {
                Some(why) => End::Error(why),
                None => End::Closed,
            },
            _ = &mut stop => break End::Closed,
            r = &mut flush => break match r {
                Ok(()) => End::Closed,
                Err(e) => End::Error(e),
            },
            _ = sock.wait_start(), if !reading => continue,
            r = rd.read_buf(&mut buf), if reading => match r {
                Ok(0) => break End::Eof,
                Ok(n) => {
                    event::fill_header(&mut buf, event::DATA, sock.id, n as i32);
                    let chunk = buf.split().freeze();
                    if !sock.reading() {
                        held = Some(chunk);
                    } else if !post(sock.owner(), chunk) {
                        break End::Closed;
                    }
                    size = if n == size { (size * 2).min(MAX_READ) } else if n < size / 2 { (size / 2).max(MIN_READ) } else { size };
                    continue;
                }
                Err(e) => break End::Error(e.to_string()),
            },
        }
    };
    table().remove(sock.id);
    let owner = sock.owner();
    match end {
        End::Eof | End::Closed => {}
        End::Error(e) => {
            tracing::debug!(socket = sock.id, owner = %fmt_handle(owner), "socket error: {e}");
            post(owner, event::encode(event::ERROR, sock.id, 0, e.as_bytes()));
        }
    }
    post(owner, event::encode(event::CLOSE, sock.id, 0, &[]));
}

/// `socketdriver.stdin`: the process's standard input as a read-only stream socket (skynet's
/// `socket.stdin()`, used by its `console` service). Reads once started; CLOSE at end of input.
pub fn stdin(owner: Handle) -> SocketId {
    let sock = table().insert(|id| Socket::new(id, Kind::Tcp, owner, "stdin".into(), None, false));
    let id = sock.id;
    node().io().spawn(async move {
        let mut input = tokio::io::stdin();
        let mut buf = BytesMut::new();
        let end = loop {
            if !sock.reading() {
                tokio::select! {
                    _ = sock.stop.wait() => break None,
                    _ = sock.wait_start() => continue,
                }
            }
            buf.reserve(event::HEADER + MIN_READ);
            buf.put_bytes(0, event::HEADER);
            let r = tokio::select! {
                _ = sock.stop.wait() => break None,
                r = input.read_buf(&mut buf) => r,
            };
            match r {
                Ok(0) => break None,
                Ok(n) => {
                    event::fill_header(&mut buf, event::DATA, sock.id, n as i32);
                    if !post(sock.owner(), buf.split().freeze()) {
                        break None;
                    }
                }
                Err(e) => break Some(e.to_string()),
            }
        };
        table().remove(sock.id);
        if let Some(e) = end {
            post(
                sock.owner(),
                event::encode(event::ERROR, sock.id, 0, e.as_bytes()),
            );
        }
        post(sock.owner(), event::encode(event::CLOSE, sock.id, 0, &[]));
    });
    id
}
