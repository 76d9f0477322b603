//! Timers: `skynet.timeout(ti)` in centiseconds. As in skynet, time runs in ticks of 1 cs from
//! the node's start (`skynet.now()` reads the same clock) and a timeout of `ti` fires on the
//! tick `now + ti`. Timers due within [`NEAR`] ticks sit in one slot per tick (setting one and
//! taking a tick's batch are O(1) under the lock, which the setting worker and the timer
//! thread share); later ones wait in a heap and move into their slot as it comes near. Timers
//! of one tick fire in the order they were set. The timer thread wakes once per tick while
//! timers are pending and delivers a PTYPE_RESPONSE carrying each timer's session to its
//! service, a tick's timers as one batch.

mod wheel;

use crate::node::node;
use crate::service::{Handle, Message, PTYPE_RESPONSE};
use bytes::Bytes;
use parking_lot::{Condvar, Mutex};
use std::time::{Duration, Instant};
use wheel::Wheel;

pub struct Timer {
    wheel: Mutex<Wheel>,
    cv: Condvar,
    start: Instant,
}

impl Default for Timer {
    fn default() -> Self {
        Timer {
            wheel: Mutex::new(Wheel::new(0)),
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
        let was_idle = {
            let mut w = self.wheel.lock();
            let idle = w.is_empty();
            w.insert(tick, handle, session);
            idle
        };
        // A busy timer thread wakes every tick anyway; an idle one may be in a long wait.
        if was_idle {
            self.cv.notify_one();
        }
    }

    pub fn pending(&self) -> usize {
        self.wheel.lock().len()
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
                w.advance(self.now_tick(), &mut due);
                if due.is_empty() {
                    if node().is_quitting() {
                        return;
                    }
                    // Until the next tick while timers are pending (at most 100 ms when none
                    // are, to notice quitting).
                    let wait = if w.is_empty() {
                        Duration::from_millis(100)
                    } else {
                        (self.start + Duration::from_millis(w.next_tick() * 10))
                            .saturating_duration_since(Instant::now())
                    };
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
