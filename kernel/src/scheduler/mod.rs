//! Worker threads and the global run queue.
//!
//! A service with mail sits exactly once in the run queue. A worker pops it, runs a batch of its
//! messages (batch size grows with queue length, as skynet's weights do) and requeues it if mail
//! remains. Each worker also keeps a one-service "next" slot, filled when the running service
//! wakes another: a call/response pair then stays on one warm thread with no queue round trip
//! and no cross-thread wakeup. Displaced services go to the global queue, where idle workers
//! take them.

mod monitor;

use crate::node::node;
use crate::service::Slot;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
pub use monitor::Monitor;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages one batch may run before the service yields the thread to others.
const MAX_BATCH: usize = 1024;
/// Consecutive "next slot" runs before a worker looks at the global queue again (fairness).
const NEXT_STREAK: u32 = 32;

thread_local! {
    static NEXT: RefCell<Option<Arc<Slot>>> = const { RefCell::new(None) };
    static IS_WORKER: Cell<bool> = const { Cell::new(false) };
}

pub struct Scheduler {
    tx: Sender<Arc<Slot>>,
    rx: Receiver<Arc<Slot>>,
    threads: usize,
    pub monitor: Monitor,
}

impl Scheduler {
    pub fn new(threads: usize) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let threads = threads.max(1);
        Scheduler {
            tx,
            rx,
            threads,
            monitor: Monitor::new(threads),
        }
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Make a slot runnable. On a worker thread the slot takes the worker's next slot and the
    /// one it displaces goes to the global queue.
    pub fn schedule(&self, slot: Arc<Slot>) {
        let displaced = if IS_WORKER.with(|w| w.get()) {
            NEXT.with(|n| n.borrow_mut().replace(slot))
        } else {
            Some(slot)
        };
        if let Some(s) = displaced {
            // The receiver lives as long as the scheduler, so send cannot fail.
            let _ = self.tx.send(s);
        }
    }

    /// Schedule on the shared run queue, never this worker's next slot: for the logger, whose
    /// lines must come out even while the sender goes on running (a log line before an endless
    /// loop).
    pub fn schedule_shared(&self, slot: Arc<Slot>) {
        let _ = self.tx.send(slot);
    }

    /// Spawn the worker threads.
    pub fn start(&'static self) -> Vec<std::thread::JoinHandle<()>> {
        let mut v = Vec::new();
        for i in 0..self.threads {
            let h = std::thread::Builder::new()
                .name(format!("cirrus-worker-{i}"))
                .spawn(move || self.worker(i))
                .expect("spawn worker thread");
            v.push(h);
        }
        v.push(self.monitor.start());
        v
    }

    fn worker(&self, idx: usize) {
        IS_WORKER.with(|w| w.set(true));
        crate::net::outbox::enable_deferral();
        // Like skynet's weight table: the first workers drain whole queues, later ones smaller
        // slices, so one busy service can't hog every thread.
        let weight = (idx / 2).min(3) as u32;
        let mut streak = 0u32;
        let n = node();
        loop {
            let next = NEXT.with(|c| c.borrow_mut().take());
            let slot = match next {
                // Keep a warm pair on this thread unless others are waiting in the global queue.
                Some(s) if streak < NEXT_STREAK || self.rx.is_empty() => {
                    streak += 1;
                    s
                }
                Some(s) => {
                    streak = 0;
                    let _ = self.tx.send(s);
                    match self.rx.try_recv() {
                        Ok(s) => s,
                        Err(_) => continue,
                    }
                }
                None => {
                    streak = 0;
                    match self.rx.try_recv() {
                        Ok(s) => s,
                        Err(_) => {
                            if n.is_quitting() {
                                break;
                            }
                            match self.rx.recv_timeout(Duration::from_millis(50)) {
                                Ok(s) => s,
                                Err(RecvTimeoutError::Timeout) => continue,
                                Err(RecvTimeoutError::Disconnected) => break,
                            }
                        }
                    }
                }
            };
            if n.is_quitting() {
                break;
            }
            self.run(idx, weight, slot);
        }
        NEXT.with(|c| c.borrow_mut().take());
    }

    /// Run one batch of a service's messages.
    fn run(&self, idx: usize, weight: u32, slot: Arc<Slot>) {
        let n = node();
        let mut guard = slot.actor.lock();
        let Some(actor) = guard.as_mut() else {
            // Already retired; leftover mail was bounced by retire.
            slot.more_after_batch();
            return;
        };
        if slot.killed() {
            actor.on_kill(&slot);
            let a = guard.take();
            drop(guard);
            n.retire(&slot, a);
            return;
        }
        let batch = (slot.mqlen() >> weight).clamp(1, MAX_BATCH);
        let started = Instant::now();
        let mut done = 0u64;
        let mut retire = false;
        for _ in 0..batch {
            let Some(msg) = slot.pop() else { break };
            self.monitor.enter(idx, msg.source, slot.handle);
            let (source, session) = (msg.source, msg.session);
            // A panic in a native actor must not take the worker thread down with it: the
            // service is retired and the rest of the node keeps running.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                actor.dispatch(&slot, msg)
            }));
            self.monitor.leave(idx);
            if outcome.is_err() {
                tracing::error!(service = %slot.address(), source = %crate::service::fmt_handle(source), session, "service panicked; retiring it");
                slot.mark_killed();
            }
            done += 1;
            if slot.exit_requested() || slot.killed() {
                if slot.killed() && !slot.exit_requested() {
                    actor.on_kill(&slot);
                }
                retire = true;
                break;
            }
        }
        // Socket writes deferred during the batch go out now, coalesced per connection.
        crate::net::outbox::flush_deferred();
        slot.stats
            .messages
            .fetch_add(done, std::sync::atomic::Ordering::Relaxed);
        slot.stats.cpu_ns.fetch_add(
            started.elapsed().as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        slot.stats
            .memory
            .store(actor.memory(), std::sync::atomic::Ordering::Relaxed);
        if retire {
            let a = guard.take();
            drop(guard);
            n.retire(&slot, a);
            return;
        }
        drop(guard);
        if slot.more_after_batch() {
            self.requeue(slot);
        }
    }

    /// A service with mail left after its batch: it stays on this thread (next slot) when
    /// nothing else is waiting, as a service that just got a message from itself (a launch's
    /// first timeout, a fork) would otherwise hop to the other worker through the shared
    /// queue and wake it; else it goes to the back of the shared queue.
    fn requeue(&self, slot: Arc<Slot>) {
        let slot = NEXT.with(|n| {
            let mut n = n.borrow_mut();
            if n.is_none() && self.rx.is_empty() {
                *n = Some(slot);
                None
            } else {
                Some(slot)
            }
        });
        if let Some(s) = slot {
            let _ = self.tx.send(s);
        }
    }
}
