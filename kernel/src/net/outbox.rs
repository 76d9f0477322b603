//! The write side of a stream socket. Any worker thread may write: when nothing is queued the
//! bytes go straight to the kernel with a non-blocking write (as skynet's direct write does),
//! so the common case costs one syscall and no task wakeup. What the kernel does not take is
//! queued and flushed by the socket's task. Pending bytes are counted for the high-water
//! warning and the slow-reader cap.
//!
//! On scheduler worker threads the first write to an idle socket is deferred to the end of
//! the service's message batch ([`flush_deferred`]), so an agent answering several frames of
//! one client in a batch sends them with one syscall instead of one each.

use super::signal::{Latch, Signal};
use bytes::{Buf, Bytes};
use parking_lot::Mutex;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{ErrorKind, IoSlice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::net::tcp::OwnedWriteHalf;

/// Slices handed to one vectored write.
const MAX_IOV: usize = 64;
/// Connections with deferred output before a worker flushes in the middle of a batch.
const MAX_DEFERRED: usize = 128;

thread_local! {
    /// Set on threads that call [`flush_deferred`] after every batch (scheduler workers).
    static DEFERS: Cell<bool> = const { Cell::new(false) };
    static DEFERRED: RefCell<Vec<Arc<Outbox>>> = const { RefCell::new(Vec::new()) };
}

/// Mark this thread as one that calls [`flush_deferred`] after every batch (a scheduler
/// worker); only such threads defer writes at all.
pub fn enable_deferral() {
    DEFERS.with(|d| d.set(true));
}

/// Write what this thread deferred during the batch that just ended.
pub fn flush_deferred() {
    let list = DEFERRED.with(|l| {
        let mut l = l.borrow_mut();
        // The common case on the dispatch hot path: nothing was written during the batch.
        (!l.is_empty()).then(|| std::mem::take(&mut *l))
    });
    let Some(mut list) = list else { return };
    for out in &list {
        out.flush_now();
    }
    // Keep the allocation for the next batch.
    DEFERRED.with(|l| {
        let mut l = l.borrow_mut();
        if l.is_empty() {
            list.clear();
            *l = list;
        }
    });
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// First pending size that triggers a warning (doubles after each); 0 = never.
    pub warn: usize,
    /// Pending size that closes the connection (a client that stopped reading); 0 = no cap.
    pub cap: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // skynet warns at 1 MiB; a plain socket has no cap, as in skynet.
        Limits {
            warn: 1 << 20,
            cap: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("socket is closed")]
    Closed,
    #[error("pending output of {0} bytes is over the cap of {1} bytes")]
    OverCap(usize, usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Closing {
    Open,
    /// Flush what is queued, then close.
    Flush,
    /// Close now, dropping what is queued.
    Now,
}

struct State {
    q: VecDeque<Bytes>,
    /// Queued bytes wait for the deferring thread's end-of-batch flush.
    deferred: bool,
    pending: usize,
    closing: Closing,
    abort: Option<String>,
    warn_at: usize,
}

pub struct Outbox {
    st: Mutex<State>,
    wake: Signal,
    tcp: OnceLock<Arc<OwnedWriteHalf>>,
    limits: Limits,
    closing: AtomicBool,
    /// Cancelled when the connection must end now (abort, write error, slow reader).
    pub done: Latch,
}

enum Flushed {
    Empty,
    Blocked,
}

impl Outbox {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Outbox {
            st: Mutex::new(State {
                q: VecDeque::new(),
                deferred: false,
                pending: 0,
                closing: Closing::Open,
                abort: None,
                warn_at: limits.warn,
            }),
            wake: Signal::default(),
            tcp: OnceLock::new(),
            limits,
            closing: AtomicBool::new(false),
            done: Latch::default(),
        })
    }

    /// Give the outbox its TCP stream (after accept or connect); queued bytes then flow.
    pub fn attach(&self, w: OwnedWriteHalf) {
        let _ = self.tcp.set(Arc::new(w));
        self.wake.notify();
    }

    pub fn set_nodelay(&self) {
        if let Some(w) = self.tcp.get() {
            let _ = w.as_ref().as_ref().set_nodelay(true);
        }
    }

    pub fn is_attached(&self) -> bool {
        self.tcp.get().is_some()
    }

    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    pub fn pending(&self) -> usize {
        self.st.lock().pending
    }

    /// Why the connection was cut, if the outbox cut it.
    pub fn abort_reason(&self) -> Option<String> {
        self.st.lock().abort.clone()
    }

    /// Queue (or directly write) bytes. `Ok(Some(n))` means `n` pending bytes just crossed the
    /// warning mark.
    pub fn send(self: &Arc<Self>, mut b: Bytes) -> Result<Option<usize>, WriteError> {
        if b.is_empty() {
            return Ok(None);
        }
        let mut st = self.st.lock();
        if st.closing != Closing::Open {
            return Err(WriteError::Closed);
        }
        let was_empty = st.q.is_empty();
        let defer = was_empty && self.tcp.get().is_some() && DEFERS.with(|d| d.get());
        if was_empty && !defer {
            if let Some(w) = self.tcp.get() {
                match w.try_write(&b) {
                    Ok(n) if n == b.len() => return Ok(None),
                    Ok(n) => b.advance(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => {
                        self.abort_locked(&mut st, format!("write failed: {e}"));
                        return Err(WriteError::Closed);
                    }
                }
            }
        }
        st.pending += b.len();
        st.q.push_back(b);
        let pending = st.pending;
        if self.limits.cap > 0 && pending > self.limits.cap {
            let e = WriteError::OverCap(pending, self.limits.cap);
            self.abort_locked(&mut st, e.to_string());
            return Err(e);
        }
        let warn = if st.warn_at > 0 && pending >= st.warn_at {
            while st.warn_at <= pending {
                st.warn_at *= 2;
            }
            Some(pending)
        } else {
            None
        };
        if defer {
            st.deferred = true;
        }
        drop(st);
        if defer {
            let full = DEFERRED.with(|l| {
                let mut l = l.borrow_mut();
                l.push(self.clone());
                l.len() >= MAX_DEFERRED
            });
            if full {
                // A long batch must not hold replies back: flush what is deferred now.
                flush_deferred();
            }
        } else if was_empty {
            self.wake.notify();
        }
        Ok(warn)
    }

    /// End-of-batch flush of deferred bytes: write now; what the kernel does not take goes to
    /// the socket's task.
    fn flush_now(&self) {
        let Some(w) = self.tcp.get() else { return };
        let r = {
            let mut st = self.st.lock();
            if !st.deferred {
                return;
            }
            st.deferred = false;
            self.write_locked(&mut st, w)
        };
        match r {
            Ok(Flushed::Empty) => {}
            Ok(Flushed::Blocked) => self.wake.notify(),
            Err(e) => self.abort(format!("write failed: {e}")),
        }
    }

    /// Close after flushing (`now == false`) or at once, dropping queued bytes.
    pub fn close(&self, now: bool) {
        let mut st = self.st.lock();
        self.closing.store(true, Ordering::Release);
        if now {
            st.closing = Closing::Now;
            st.q.clear();
            st.pending = 0;
            drop(st);
            self.done.set();
        } else if st.closing == Closing::Open {
            st.closing = Closing::Flush;
            drop(st);
            self.wake.notify();
        }
    }

    /// Cut the connection now and remember why (logged and reported by the socket's task).
    pub fn abort(&self, why: String) {
        let mut st = self.st.lock();
        self.abort_locked(&mut st, why);
    }

    fn abort_locked(&self, st: &mut State, why: String) {
        if st.abort.is_none() && st.closing != Closing::Now {
            st.abort = Some(why);
        }
        st.closing = Closing::Now;
        st.q.clear();
        st.pending = 0;
        self.closing.store(true, Ordering::Release);
        self.done.set();
    }

    fn write_queued(&self, w: &OwnedWriteHalf) -> std::io::Result<Flushed> {
        let mut st = self.st.lock();
        st.deferred = false;
        self.write_locked(&mut st, w)
    }

    fn write_locked(&self, st: &mut State, w: &OwnedWriteHalf) -> std::io::Result<Flushed> {
        while !st.q.is_empty() {
            let iov: Vec<IoSlice> = st.q.iter().take(MAX_IOV).map(|b| IoSlice::new(b)).collect();
            let n = match w.try_write_vectored(&iov) {
                Ok(0) => {
                    return Err(std::io::Error::new(
                        ErrorKind::WriteZero,
                        "socket wrote zero bytes",
                    ))
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
                Err(e) => return Err(e),
            };
            drop(iov);
            st.pending -= n;
            let mut left = n;
            while left > 0 {
                let front = st.q.front_mut().expect("written bytes came from the queue");
                if front.len() <= left {
                    left -= front.len();
                    st.q.pop_front();
                } else {
                    front.advance(left);
                    left = 0;
                }
            }
        }
        st.warn_at = self.limits.warn;
        Ok(Flushed::Empty)
    }

    fn flush_requested(&self) -> bool {
        let st = self.st.lock();
        st.closing == Closing::Flush && st.q.is_empty()
    }

    /// The TCP writer: runs inside the socket's task until a requested flush-close is done
    /// (`Ok`) or the stream fails (`Err`).
    pub async fn flush_tcp(&self) -> Result<(), String> {
        loop {
            match self.tcp.get() {
                Some(w) => match self.write_queued(w) {
                    Ok(Flushed::Empty) => {
                        if self.flush_requested() {
                            return Ok(());
                        }
                    }
                    Ok(Flushed::Blocked) => {
                        w.writable()
                            .await
                            .map_err(|e| format!("write failed: {e}"))?;
                        continue;
                    }
                    Err(e) => return Err(format!("write failed: {e}")),
                },
                None if self.flush_requested() => return Ok(()),
                None => {}
            }
            self.wake.wait().await;
        }
    }

    /// For sockets whose task writes through a framing layer (WebSocket): wait for queued
    /// bytes; `true` in the result means "close once these are out".
    pub async fn next_batch(&self) -> (Vec<Bytes>, bool) {
        loop {
            {
                let mut st = self.st.lock();
                let fin = st.closing == Closing::Flush;
                if !st.q.is_empty() || fin {
                    return (st.q.drain(..).collect(), fin);
                }
            }
            self.wake.wait().await;
        }
    }

    /// The framing layer finished writing `n` bytes taken by `next_batch`.
    pub fn sent(&self, n: usize) {
        let mut st = self.st.lock();
        st.pending = st.pending.saturating_sub(n);
        if st.pending == 0 {
            st.warn_at = self.limits.warn;
        }
    }
}
