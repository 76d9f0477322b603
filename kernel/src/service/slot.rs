//! A service slot: mailbox, the actor that consumes it, and per-service counters.
//!
//! The `scheduled` flag guarantees a slot sits in the run queue at most once, so only one worker
//! at a time ever holds the actor: the actor lock is never contended.

use super::message::{fmt_handle, Handle, Message};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// What runs inside a service: a Lua state (snlua) or a native Rust service (logger, gate, ...).
pub trait Actor: Send {
    /// Handle one message. Ask for retirement with `slot.request_exit()`.
    fn dispatch(&mut self, slot: &Arc<Slot>, msg: Message);
    /// The service is being killed from outside: fail whatever callers still wait on it.
    fn on_kill(&mut self, _slot: &Arc<Slot>) {}
    /// Bytes of script-level memory, for `mem` and `stat`.
    fn memory(&self) -> usize {
        0
    }
}

const MQ_OVERLOAD: usize = 1024;

struct Mailbox {
    queue: VecDeque<Message>,
    scheduled: bool,
    closed: bool,
    overload_threshold: usize,
}

#[derive(Default)]
pub struct Stats {
    pub messages: AtomicU64,
    pub cpu_ns: AtomicU64,
    pub memory: AtomicUsize,
    pub endless: AtomicBool,
}

pub struct Slot {
    pub handle: Handle,
    /// How it was launched, e.g. `snlua launcher` or `logger`.
    pub label: String,
    mq: Mutex<Mailbox>,
    pub(crate) actor: Mutex<Option<Box<dyn Actor>>>,
    pub stats: Stats,
    exit_requested: AtomicBool,
    killed: AtomicBool,
    /// Mirrors the mailbox's closed flag so senders caching this slot can check it lock-free.
    retired: AtomicBool,
}

/// Outcome of a push, so the caller can react outside the mailbox lock.
pub enum Pushed {
    /// Queued; the slot must be put on the run queue.
    Schedule,
    Queued,
    /// Queued and the mailbox just crossed its overload threshold (length reported).
    Overload(usize, bool),
}

impl Slot {
    pub fn new(handle: Handle, label: String, actor: Box<dyn Actor>) -> Self {
        Slot {
            handle,
            label,
            mq: Mutex::new(Mailbox {
                queue: VecDeque::new(),
                scheduled: false,
                closed: false,
                overload_threshold: MQ_OVERLOAD,
            }),
            actor: Mutex::new(Some(actor)),
            stats: Stats::default(),
            exit_requested: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            retired: AtomicBool::new(false),
        }
    }

    /// Append a message. Returns it back when the service is already retired.
    pub fn push(&self, msg: Message) -> Result<Pushed, Message> {
        let mut mq = self.mq.lock();
        if mq.closed {
            return Err(msg);
        }
        mq.queue.push_back(msg);
        let len = mq.queue.len();
        let schedule = !mq.scheduled;
        mq.scheduled = true;
        if len > mq.overload_threshold {
            mq.overload_threshold *= 2;
            return Ok(Pushed::Overload(len, schedule));
        }
        Ok(if schedule {
            Pushed::Schedule
        } else {
            Pushed::Queued
        })
    }

    /// Ensure the slot is scheduled even with an empty mailbox (used by kill).
    pub fn poke(&self) -> bool {
        let mut mq = self.mq.lock();
        if mq.closed || mq.scheduled {
            return false;
        }
        mq.scheduled = true;
        true
    }

    pub fn pop(&self) -> Option<Message> {
        let mut mq = self.mq.lock();
        let m = mq.queue.pop_front();
        if mq.queue.is_empty() {
            mq.overload_threshold = MQ_OVERLOAD;
        }
        m
    }

    /// After a batch: either keep the slot scheduled (more mail) or clear the flag.
    pub fn more_after_batch(&self) -> bool {
        let mut mq = self.mq.lock();
        if mq.queue.is_empty() || mq.closed {
            mq.scheduled = false;
            false
        } else {
            true
        }
    }

    pub fn mqlen(&self) -> usize {
        self.mq.lock().queue.len()
    }

    /// Close the mailbox and hand back what was left in it.
    pub fn close(&self) -> VecDeque<Message> {
        let mut mq = self.mq.lock();
        mq.closed = true;
        self.retired.store(true, Ordering::Release);
        std::mem::take(&mut mq.queue)
    }

    pub fn is_closed(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    pub fn with_actor<R>(&self, f: impl FnOnce(&mut Box<dyn Actor>) -> R) -> Option<R> {
        self.actor.lock().as_mut().map(f)
    }

    pub fn take_actor(&self) -> Option<Box<dyn Actor>> {
        self.actor.lock().take()
    }

    pub fn request_exit(&self) {
        self.exit_requested.store(true, Ordering::Release);
    }

    pub fn exit_requested(&self) -> bool {
        self.exit_requested.load(Ordering::Acquire)
    }

    pub fn mark_killed(&self) {
        self.killed.store(true, Ordering::Release);
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    pub fn address(&self) -> String {
        fmt_handle(self.handle)
    }
}
