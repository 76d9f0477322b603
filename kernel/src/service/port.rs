//! A port lets async Rust code (console, cluster, gate) call services and await the answer:
//! it is a native service whose only job is to route responses back to waiting futures.

use super::{Actor, Handle, Message, Slot, PTYPE_ERROR, PTYPE_RESPONSE};
use crate::node::node;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;

type Reply = Result<Bytes, String>;

#[derive(Default)]
pub struct Port {
    handle: AtomicU32,
    next: AtomicI32,
    pending: Mutex<HashMap<i32, oneshot::Sender<Reply>>>,
}

impl Port {
    pub fn new() -> Arc<Self> {
        Arc::new(Port::default())
    }

    pub fn handle(&self) -> Handle {
        self.handle.load(Ordering::Acquire)
    }

    pub fn bind(&self, h: Handle) {
        self.handle.store(h, Ordering::Release)
    }

    fn genid(&self) -> i32 {
        loop {
            let s = self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if s > 0 {
                return s;
            }
            self.next.store(0, Ordering::Relaxed);
        }
    }

    /// Send a request and wait for its response (or the error the callee or kernel sends).
    pub async fn call(
        &self,
        dest: Handle,
        ptype: u8,
        data: Bytes,
        timeout: std::time::Duration,
    ) -> Reply {
        let session = self.genid();
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(session, tx);
        if let Err(e) = node().send(Message::new(self.handle(), session, ptype, data), dest) {
            self.pending.lock().remove(&session);
            return Err(e.to_string());
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err("port closed".into()),
            Err(_) => {
                self.pending.lock().remove(&session);
                Err(format!("call to {} timed out", super::fmt_handle(dest)))
            }
        }
    }

    /// Route a response message to its waiter.
    pub fn complete(&self, msg: Message) {
        let r = match msg.ptype {
            PTYPE_RESPONSE => Ok(msg.data),
            PTYPE_ERROR => Err(if msg.data.is_empty() {
                "call failed".to_string()
            } else {
                String::from_utf8_lossy(&msg.data).into_owned()
            }),
            _ => return,
        };
        if let Some(tx) = self.pending.lock().remove(&msg.session) {
            let _ = tx.send(r);
        }
    }

    /// Fail everything still waiting (the port's service is going away).
    pub fn fail_all(&self, why: &str) {
        for (_, tx) in self.pending.lock().drain() {
            let _ = tx.send(Err(why.to_string()));
        }
    }
}

/// The native service behind a port.
pub struct PortActor(pub Arc<Port>);

impl Actor for PortActor {
    fn dispatch(&mut self, _slot: &Arc<Slot>, msg: Message) {
        self.0.complete(msg);
    }
    fn on_kill(&mut self, _slot: &Arc<Slot>) {
        self.0.fail_all("service killed");
    }
}
