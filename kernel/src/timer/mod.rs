//! Timers: `skynet.timeout(ti)` in centiseconds. As in skynet, time runs in ticks of 1 cs from
//! the node's start (`skynet.now()` reads the same clock) and a timeout of `ti` fires on the
//! tick `now + ti`. One thread keeps a heap ordered by deadline tick (ties by insertion order,
//! so equal timeouts fire in the order they were set), wakes once per tick that has timers due
//! and delivers a PTYPE_RESPONSE carrying each timer's session to its service. Quantizing to
//! ticks is what lets a burst of timers go out as one batch per tick instead of one wakeup each.

use crate::node::node;
use crate::service::{Handle, Message, PTYPE_RESPONSE};
use bytes::Bytes;
use parking_lot::{Condvar, Mutex};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    tick: u64,
    seq: u64,
    handle: Handle,
    session: i32,
}

#[derive(Default)]
struct Wheel {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

pub struct Timer {
    wheel: Mutex<Wheel>,
    cv: Condvar,
    start: Instant,
}

impl Default for Timer {
    fn default() -> Self {
        Timer {
            wheel: Mutex::default(),
            cv: Condvar::new(),
            start: Instant::now(),
        }
    }
}

impl Timer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Centiseconds since the node started.
    pub fn now_tick(&self) -> u64 {
        (self.start.elapsed().as_millis() / 10) as u64
    }

    /// Arrange for `handle` to receive a response with `session` after `cs` centiseconds.
    /// A zero or negative timeout is delivered at once.
    pub fn timeout(&self, handle: Handle, cs: i64, session: i32) {
        if cs <= 0 {
            deliver(handle, session);
            return;
        }
        let tick = self.now_tick() + cs as u64;
        let mut w = self.wheel.lock();
        w.seq += 1;
        let seq = w.seq;
        let earliest = w
            .heap
            .peek()
            .map(|Reverse(e)| tick < e.tick)
            .unwrap_or(true);
        w.heap.push(Reverse(Entry {
            tick,
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
                let now = self.now_tick();
                while let Some(Reverse(e)) = w.heap.peek() {
                    if e.tick > now {
                        break;
                    }
                    let Reverse(e) = w.heap.pop().expect("peeked");
                    due.push((e.handle, e.session));
                }
                if due.is_empty() {
                    if node().is_quitting() {
                        return;
                    }
                    // Until the start of the first tick with timers due (at most 100 ms, to
                    // notice quitting).
                    let wait = w
                        .heap
                        .peek()
                        .map(|Reverse(e)| {
                            (self.start + Duration::from_millis(e.tick * 10))
                                .saturating_duration_since(Instant::now())
                        })
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
