//! The listening side: each incoming connection gets a port (a native service) through which
//! its requests reach local services; answers go back pipelined, matched by session.

use super::wire::{self, Addr, Request, RequestReader};
use crate::node::node;
use crate::service::port::{Port, PortActor};
use crate::service::{fmt_handle, Handle, Message, PTYPE_LUA};
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// No deadline of our own on a served call: the remote caller decides how long to wait.
const SERVE_CALL_LIMIT: Duration = Duration::from_secs(24 * 3600);

pub async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((s, peer)) => {
                let _ = s.set_nodelay(true);
                tracing::info!(%peer, "cluster peer connected");
                tokio::spawn(serve(s, peer.to_string()));
            }
            Err(e) => {
                tracing::warn!("cluster accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn resolve(addr: &Addr) -> Result<Handle, String> {
    match addr {
        Addr::Handle(h) => Ok(*h),
        Addr::Name(n) if n.starts_with('.') => {
            node().resolve(n).ok_or_else(|| format!("no service {n}"))
        }
        Addr::Name(n) => super::cluster()
            .registered(n.trim_start_matches('@'))
            .ok_or_else(|| format!("no cluster name {n}")),
    }
}

async fn serve(stream: TcpStream, peer: String) {
    let port = Port::new();
    let p2 = port.clone();
    let slot = node().spawn(format!("clusteragent {peer}"), move |h| {
        p2.bind(h);
        Box::new(PortActor(p2))
    });
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<BytesMut>();
    let writer = tokio::spawn(async move {
        while let Some(mut out) = rx.recv().await {
            while let Ok(more) = rx.try_recv() {
                out.extend_from_slice(&more);
            }
            if wr.write_all(&out).await.is_err() {
                break;
            }
        }
    });
    let mut reader = RequestReader::default();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    'read: loop {
        match rd.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        while let Some(f) = wire::take_frame(&mut buf) {
            match reader.feed(&f) {
                Ok(Some(req)) => handle(&port, req, &tx),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(%peer, "cluster peer sent a bad frame, closing: {e}");
                    break 'read;
                }
            }
        }
    }
    tracing::info!(%peer, "cluster peer disconnected");
    drop(tx);
    let _ = writer.await;
    port.fail_all("cluster peer disconnected");
    node().kill(slot.handle);
}

fn reply(tx: &mpsc::UnboundedSender<BytesMut>, session: u32, r: Result<Bytes, String>) {
    let mut out = BytesMut::new();
    match r {
        Ok(b) => wire::pack_response(&mut out, session, true, &b),
        Err(e) => wire::pack_response(&mut out, session, false, e.as_bytes()),
    }
    let _ = tx.send(out);
}

fn handle(port: &Arc<Port>, req: Request, tx: &mpsc::UnboundedSender<BytesMut>) {
    // Address 0 asks for a registered name: the answer is its handle, skynet-packed.
    if req.addr == Addr::Handle(0) {
        let r = match crate::lua::seri::unpack_svalues(&req.msg) {
            Ok(v) => match v.first() {
                Some(crate::lua::seri::SValue::Str(name)) => {
                    let name = String::from_utf8_lossy(name);
                    match super::cluster().registered(name.trim_start_matches('@')) {
                        Some(h) => Ok(Bytes::from(crate::lua::seri::pack_svalues(&[
                            crate::lua::seri::SValue::Int(h as i64),
                        ]))),
                        None => Err(format!("cluster name {name} not registered")),
                    }
                }
                _ => Err("bad name query".to_string()),
            },
            Err(e) => Err(format!("bad name query: {e}")),
        };
        if !req.push {
            reply(tx, req.session, r);
        }
        return;
    }
    let dest = match resolve(&req.addr) {
        Ok(h) => h,
        Err(e) => {
            if !req.push {
                reply(tx, req.session, Err(e));
            }
            return;
        }
    };
    if req.push {
        let _ = node().send(Message::new(port.handle(), 0, PTYPE_LUA, req.msg), dest);
        return;
    }
    let port = port.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        let r = port.call(dest, PTYPE_LUA, req.msg, SERVE_CALL_LIMIT).await;
        let r = r.map_err(|e| {
            if e.is_empty() {
                format!("call {} failed", fmt_handle(dest))
            } else {
                e
            }
        });
        reply(&tx, req.session, r);
    });
}
