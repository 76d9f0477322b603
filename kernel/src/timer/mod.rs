//! Timers: `skynet.timeout(ti)` in centiseconds. One thread keeps a heap ordered by deadline
//! (ties by insertion order, so equal timeouts fire in the order they were set) and delivers a
//! PTYPE_RESPONSE carrying the timer's session to the owning service.

use crate::node::node;
use crate::service::{Handle, Message, PTYPE_RESPONSE};
use bytes::Bytes;
use parking_lot::{Condvar, Mutex};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    at: Instant,
    seq: u64,
    handle: Handle,
    session: i32,
}

#[derive(Default)]
struct Wheel {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

#[derive(Default)]
pub struct Timer {
    wheel: Mutex<Wheel>,
    cv: Condvar,
}

impl Timer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Arrange for `handle` to receive a response with `session` after `cs` centiseconds.
    /// A zero or negative timeout is delivered at once.
    pub fn timeout(&self, handle: Handle, cs: i64, session: i32) {
        if cs <= 0 {
            deliver(handle, session);
            return;
        }
        let at = Instant::now() + Duration::from_millis(cs as u64 * 10);
        let mut w = self.wheel.lock();
        w.seq += 1;
        let seq = w.seq;
        let earliest = w.heap.peek().map(|Reverse(e)| at < e.at).unwrap_or(true);
        w.heap.push(Reverse(Entry {
            at,
            seq,
            handle,
            session,
        }));
        drop(w);
        if earliest {
            self.cv.notify_one();
        }
    }

    pub fn pending(&self) -> usize {
        self.wheel.lock().heap.len()
    }

    pub fn start(&'static self) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("cirrus-timer".into())
            .spawn(move || self.run())
            .expect("spawn timer thread")
    }

    fn run(&self) {
        let mut due = Vec::new();
        loop {
            {
                let mut w = self.wheel.lock();
                let now = Instant::now();
                while let Some(Reverse(e)) = w.heap.peek() {
                    if e.at > now {
                        break;
                    }
                    let Reverse(e) = w.heap.pop().expect("peeked");
                    due.push((e.handle, e.session));
                }
                if due.is_empty() {
                    if node().is_quitting() {
                        return;
                    }
                    let wait = w
                        .heap
                        .peek()
                        .map(|Reverse(e)| e.at.saturating_duration_since(now))
                        .unwrap_or(Duration::from_millis(100))
                        .min(Duration::from_millis(100));
                    self.cv.wait_for(&mut w, wait);
                    continue;
                }
            }
            for (h, s) in due.drain(..) {
                deliver(h, s);
            }
        }
    }
}

fn deliver(handle: Handle, session: i32) {
    // A service that exited before its timer fired simply doesn't get it.
    let _ = node().send(
        Message::new(0, session, PTYPE_RESPONSE, Bytes::new()),
        handle,
    );
}
