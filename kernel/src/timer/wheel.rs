//! The timer wheel proper, without threads or clocks: slots for the next [`NEAR`] ticks and a
//! heap for the deadlines beyond them.

use crate::service::Handle;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Ticks (centiseconds) covered by the slots: 2.56 s; skynet's timeouts are mostly shorter.
pub const NEAR: u64 = 256;

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Far {
    tick: u64,
    seq: u64,
    handle: Handle,
    session: i32,
}

pub struct Wheel {
    /// `slots[t % NEAR]`: the timers of tick `t`, for `base <= t < base + NEAR`.
    slots: Vec<Vec<(Handle, i32)>>,
    far: BinaryHeap<Reverse<Far>>,
    /// The first tick not fired yet.
    base: u64,
    seq: u64,
    len: usize,
}

impl Wheel {
    pub fn new(base: u64) -> Self {
        Wheel {
            slots: (0..NEAR).map(|_| Vec::new()).collect(),
            far: BinaryHeap::new(),
            base,
            seq: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The tick the timer thread must wake for next.
    pub fn next_tick(&self) -> u64 {
        self.base
    }

    /// A timer for `tick`; one already past fires with the next batch.
    pub fn insert(&mut self, tick: u64, handle: Handle, session: i32) {
        let tick = tick.max(self.base);
        self.len += 1;
        if tick < self.base + NEAR {
            self.slots[(tick % NEAR) as usize].push((handle, session));
        } else {
            self.seq += 1;
            self.far.push(Reverse(Far {
                tick,
                seq: self.seq,
                handle,
                session,
            }));
        }
    }

    /// Fire every tick up to `now`: their timers are appended to `due`, in order.
    pub fn advance(&mut self, now: u64, due: &mut Vec<(Handle, i32)>) {
        if self.len == 0 {
            // Nothing pending: jump ahead (the slots are all empty).
            self.base = self.base.max(now + 1);
            return;
        }
        while self.base <= now && self.len > 0 {
            let slot = &mut self.slots[(self.base % NEAR) as usize];
            self.len -= slot.len();
            due.append(slot);
            self.base += 1;
            // The tick that just came into range takes its timers from the heap; they were
            // all set before anything went into its slot, so they go first.
            let edge = self.base + NEAR - 1;
            while let Some(Reverse(f)) = self.far.peek() {
                if f.tick > edge {
                    break;
                }
                let Reverse(f) = self.far.pop().expect("peeked");
                self.slots[(f.tick % NEAR) as usize].push((f.handle, f.session));
            }
        }
        if self.len == 0 {
            self.base = self.base.max(now + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire(w: &mut Wheel, now: u64) -> Vec<i32> {
        let mut due = Vec::new();
        w.advance(now, &mut due);
        due.into_iter().map(|(_, s)| s).collect()
    }

    #[test]
    fn fires_on_its_tick_in_the_order_set() {
        let mut w = Wheel::new(0);
        w.insert(5, 1, 1);
        w.insert(3, 1, 2);
        w.insert(5, 1, 3);
        assert_eq!(fire(&mut w, 2), Vec::<i32>::new());
        assert_eq!(fire(&mut w, 3), vec![2]);
        assert_eq!(fire(&mut w, 4), Vec::<i32>::new());
        assert_eq!(fire(&mut w, 10), vec![1, 3]);
        assert!(w.is_empty());
    }

    #[test]
    fn far_timers_move_in_before_later_near_ones() {
        let mut w = Wheel::new(0);
        let t = NEAR + 40;
        w.insert(t, 1, 1); // far now
        w.insert(t + 1000, 1, 2); // very far
        assert_eq!(fire(&mut w, 100), Vec::<i32>::new());
        w.insert(t, 1, 3); // near by now, set after 1
        assert_eq!(fire(&mut w, t - 1), Vec::<i32>::new());
        assert_eq!(fire(&mut w, t), vec![1, 3]);
        assert_eq!(w.len(), 1);
        assert_eq!(fire(&mut w, t + 999), Vec::<i32>::new());
        assert_eq!(fire(&mut w, t + 1000), vec![2]);
        assert!(w.is_empty());
    }

    #[test]
    fn a_late_wakeup_fires_everything_due_and_past_deadlines_fire_next() {
        let mut w = Wheel::new(0);
        for i in 0..1000 {
            w.insert(1 + (i % 700) as u64, 1, i);
        }
        let got = fire(&mut w, 5000);
        assert_eq!(got.len(), 1000);
        // grouped by tick, each tick in insertion order
        let mut want: Vec<i32> = (0..1000).collect();
        want.sort_by_key(|i| 1 + (*i % 700));
        assert_eq!(got, want);
        // a deadline already past (the clock moved on) fires with the next batch
        w.insert(10, 1, 7);
        assert_eq!(fire(&mut w, 5001), vec![7]);
    }

    #[test]
    fn idle_wheel_jumps_ahead() {
        let mut w = Wheel::new(0);
        assert_eq!(fire(&mut w, 1_000_000), Vec::<i32>::new());
        w.insert(1_000_050, 1, 9);
        assert_eq!(fire(&mut w, 1_000_049), Vec::<i32>::new());
        assert_eq!(fire(&mut w, 1_000_050), vec![9]);
    }
}
