//! The socket table: every socket of the node (listeners, streams, UDP, gate connections) under
//! one id space, so any service can write to any id (`socket.write(fd, ...)` on a gate
//! connection works as in skynet). Ids are positive i32s, reused only after wrapping.

use super::event;
use super::outbox::{Outbox, WriteError};
use super::signal::{Latch, Signal};
use crate::gate::Route;
use crate::service::Handle;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};

pub type SocketId = i32;

pub enum Kind {
    Listen,
    /// A stream owned by a service through `skynet.socket` (accepted or connected).
    Tcp,
    Udp(Udp),
    /// A connection of a native gate; its events go to the gate's watchdog and agents.
    Gate(Arc<Route>),
}

pub struct Udp {
    pub sock: Arc<tokio::net::UdpSocket>,
    /// Default destination set by `udp_connect`, used by plain writes.
    pub peer: Mutex<Option<SocketAddr>>,
    /// Datagrams the kernel did not take at once, sent in order by the socket's task;
    /// the count keeps later datagrams from overtaking them.
    pub(super) backlog: Mutex<usize>,
    pub(super) queue: tokio::sync::mpsc::UnboundedSender<(SocketAddr, Bytes)>,
}

pub struct Socket {
    pub id: SocketId,
    pub kind: Kind,
    pub peer: String,
    owner: AtomicU32,
    pub out: Option<Arc<Outbox>>,
    /// Ends listeners, UDP sockets and connects in progress.
    pub stop: Latch,
    started: AtomicBool,
    paused: AtomicBool,
    wake: Signal,
}

impl Socket {
    pub fn new(
        id: SocketId,
        kind: Kind,
        owner: Handle,
        peer: String,
        out: Option<Arc<Outbox>>,
        started: bool,
    ) -> Self {
        Socket {
            id,
            kind,
            peer,
            owner: AtomicU32::new(owner),
            out,
            stop: Latch::default(),
            started: AtomicBool::new(started),
            paused: AtomicBool::new(false),
            wake: Signal::default(),
        }
    }

    pub fn owner(&self) -> Handle {
        self.owner.load(Ordering::Acquire)
    }

    pub fn set_owner(&self, h: Handle) {
        self.owner.store(h, Ordering::Release)
    }

    /// Whether the socket's task should read now.
    pub fn reading(&self) -> bool {
        self.started.load(Ordering::Acquire) && !self.paused.load(Ordering::Acquire)
    }

    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    /// Start (or resume) reading. Returns true the first time.
    pub fn start(&self) -> bool {
        let first = !self.started.swap(true, Ordering::AcqRel);
        self.paused.store(false, Ordering::Release);
        self.wake.notify();
        first
    }

    pub fn pause(&self) {
        self.paused.store(true, Ordering::Release);
    }

    /// Resolves when `start` is called (the socket's task waits here while not reading).
    pub async fn wait_start(&self) {
        self.wake.wait().await
    }

    pub fn route(&self) -> Option<&Arc<Route>> {
        match &self.kind {
            Kind::Gate(r) => Some(r),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Listen => "LISTEN",
            Kind::Tcp => "TCP",
            Kind::Udp(_) => "UDP",
            Kind::Gate(r) if r.ws => "GATE-WS",
            Kind::Gate(_) => "GATE-TCP",
        }
    }

    /// Write raw bytes. A crossed warning mark is reported to whoever watches this socket.
    pub fn write(&self, data: Bytes) -> Result<(), WriteError> {
        if let Kind::Udp(u) = &self.kind {
            let peer = (*u.peer.lock()).ok_or(WriteError::Closed)?;
            super::udp::send_to(u, peer, data);
            return Ok(());
        }
        let out = self.out.as_ref().ok_or(WriteError::Closed)?;
        if let Some(pending) = out.send(data)? {
            self.warn(pending);
        }
        Ok(())
    }

    /// Write one message framed for this connection: a binary message on WebSocket, a
    /// 2-byte big-endian length prefix otherwise.
    pub fn write_frame(&self, msg: &[u8]) -> Result<(), FrameError> {
        let gate_ws = match &self.kind {
            Kind::Gate(r) => Some(r.ws),
            _ => None,
        };
        if gate_ws == Some(true) {
            self.write(Bytes::copy_from_slice(msg))?;
        } else {
            if msg.len() > u16::MAX as usize {
                return Err(FrameError::TooLong(msg.len()));
            }
            let mut b = Vec::with_capacity(2 + msg.len());
            b.extend_from_slice(&(msg.len() as u16).to_be_bytes());
            b.extend_from_slice(msg);
            self.write(Bytes::from(b))?;
        }
        if let Some(ws) = gate_ws {
            let m = crate::gate::metrics(ws);
            m.frames_out.inc();
            m.bytes_out.add(msg.len() as u64);
        }
        Ok(())
    }

    fn warn(&self, pending: usize) {
        let kb = (pending / 1024) as i32;
        match &self.kind {
            Kind::Gate(r) => r.warning(self.id, kb),
            _ => {
                event::post(
                    self.owner(),
                    event::encode(event::WARNING, self.id, kb, &[]),
                );
            }
        }
    }

    /// Close: flush queued output first unless `now`.
    pub fn close(&self, now: bool) {
        match &self.out {
            Some(out) => {
                out.close(now);
                if now || !out.is_attached() {
                    self.stop.set();
                }
            }
            None => self.stop.set(),
        }
        // A socket that never started reading must still wake to notice.
        self.wake.notify();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("message of {0} bytes does not fit a 2-byte length frame")]
    TooLong(usize),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Socket ids are small sequential integers: one multiply spreads them over the hash bits.
#[derive(Default)]
pub struct IdHash(u64);

impl std::hash::Hasher for IdHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ *b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_i32(&mut self, i: i32) {
        self.0 = (i as u32 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Map = HashMap<SocketId, Arc<Socket>, std::hash::BuildHasherDefault<IdHash>>;

/// Shards keep workers writing to different sockets off each other's lock cache lines.
const SHARDS: usize = 16;

pub struct Table {
    shards: [RwLock<Map>; SHARDS],
    next: AtomicI32,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| Table {
    shards: std::array::from_fn(|_| RwLock::new(Map::default())),
    next: AtomicI32::new(0),
});

pub fn table() -> &'static Table {
    &TABLE
}

impl Table {
    fn shard(&self, id: SocketId) -> &RwLock<Map> {
        &self.shards[id as usize % SHARDS]
    }

    /// Allocate an id and insert the socket built for it.
    pub fn insert(&self, build: impl FnOnce(SocketId) -> Socket) -> Arc<Socket> {
        loop {
            let mut id = self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if id <= 0 {
                self.next.store(0, Ordering::Relaxed);
                id = 1;
            }
            let mut map = self.shard(id).write();
            if let std::collections::hash_map::Entry::Vacant(e) = map.entry(id) {
                let s = Arc::new(build(id));
                e.insert(s.clone());
                return s;
            }
        }
    }

    pub fn get(&self, id: SocketId) -> Option<Arc<Socket>> {
        self.shard(id).read().get(&id).cloned()
    }

    /// Run `f` on a socket without taking a reference count (the write path).
    pub fn with<R>(&self, id: SocketId, f: impl FnOnce(&Socket) -> R) -> Option<R> {
        self.shard(id).read().get(&id).map(|s| f(s))
    }

    pub fn remove(&self, id: SocketId) {
        self.shard(id).write().remove(&id);
    }

    pub fn all(&self) -> Vec<Arc<Socket>> {
        let mut v: Vec<_> = self
            .shards
            .iter()
            .flat_map(|m| m.read().values().cloned().collect::<Vec<_>>())
            .collect();
        v.sort_by_key(|s| s.id);
        v
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|m| m.read().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
