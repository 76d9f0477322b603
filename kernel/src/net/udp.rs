//! UDP for `skynet.socket`: datagrams arrive as UDP events carrying the sender's address
//! (`ip:port` text, which `socket.udp_address` splits); sends never block a worker.

use super::event::{self, post};
use super::table::{table, Kind, Socket, SocketId, Udp};
use super::tcp::{finish_simple, resolve_host, NetError};
use crate::node::node;
use crate::service::Handle;
use bytes::Bytes;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

const MAX_DATAGRAM: usize = 65535;

/// `socketdriver.udp`: bind (port 0 = any) and start receiving.
pub fn open(owner: Handle, host: &str, port: u16) -> Result<SocketId, NetError> {
    let addr = resolve_host(if host.is_empty() { "0.0.0.0" } else { host }, port)?;
    let std_sock =
        std::net::UdpSocket::bind(addr).map_err(|e| NetError::Io("bind", addr.to_string(), e))?;
    std_sock
        .set_nonblocking(true)
        .map_err(|e| NetError::Io("set_nonblocking", addr.to_string(), e))?;
    let _rt = node().io().enter();
    let us = Arc::new(
        tokio::net::UdpSocket::from_std(std_sock)
            .map_err(|e| NetError::Io("register", addr.to_string(), e))?,
    );
    let local = us.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let (queue, rx) = mpsc::unbounded_channel();
    let udp = Udp {
        sock: us.clone(),
        peer: Mutex::new(None),
        backlog: Mutex::new(0),
        queue,
    };
    let sock = table().insert(|id| Socket::new(id, Kind::Udp(udp), owner, local, None, true));
    let id = sock.id;
    node().io().spawn(run(sock, us, rx));
    Ok(id)
}

/// The socket's task: receive datagrams, and send those that could not go out at once.
async fn run(
    sock: Arc<Socket>,
    us: Arc<tokio::net::UdpSocket>,
    mut rx: mpsc::UnboundedReceiver<(SocketAddr, Bytes)>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        tokio::select! {
            _ = sock.stop.wait() => break,
            Some((to, data)) = rx.recv() => {
                if let Err(e) = us.send_to(&data, to).await {
                    tracing::debug!(socket = sock.id, "udp send to {to}: {e}");
                }
                if let Kind::Udp(u) = &sock.kind {
                    *u.backlog.lock() -= 1;
                }
            }
            r = us.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    // payload: data, then the sender address; ud = data size.
                    let from = from.to_string();
                    let mut payload = Vec::with_capacity(n + from.len());
                    payload.extend_from_slice(&buf[..n]);
                    payload.extend_from_slice(from.as_bytes());
                    if !post(sock.owner(), event::encode(event::UDP, sock.id, n as i32, &payload)) {
                        break;
                    }
                }
                // ICMP errors from earlier sends surface here; they do not end the socket.
                Err(e) => tracing::debug!(socket = sock.id, "udp recv: {e}"),
            },
        }
    }
    drop(us);
    finish_simple(&sock)
}

/// Send without blocking a worker: straight away when nothing is queued and the kernel takes
/// it, else queued behind earlier datagrams for the socket's task.
pub fn send_to(u: &Udp, to: SocketAddr, data: Bytes) {
    let mut backlog = u.backlog.lock();
    if *backlog == 0 {
        match u.sock.try_send_to(&data, to) {
            Ok(_) => return,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                tracing::debug!("udp send to {to}: {e}");
                return;
            }
        }
    }
    if u.queue.send((to, data)).is_ok() {
        *backlog += 1;
    }
}

/// Parse the `ip:port` text of an address handed out by a UDP event.
pub fn parse_addr(s: &str) -> Option<SocketAddr> {
    s.parse().ok()
}

pub fn set_peer(id: SocketId, host: &str, port: u16) -> Result<(), NetError> {
    let addr = resolve_host(host, port)?;
    match table().get(id).as_deref().map(|s| &s.kind) {
        Some(Kind::Udp(u)) => {
            *u.peer.lock() = Some(addr);
            Ok(())
        }
        _ => Err(NetError::NotUdp(id)),
    }
}
