//! Endless-loop detector: a thread that notices a worker stuck on one message for over 5 s and
//! names the service in a warning (and flags it for `skynet.stat "endless"`).

use crate::node::node;
use crate::service::fmt_handle;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ENDLESS_AFTER: Duration = Duration::from_secs(5);

#[derive(Default)]
struct WorkerState {
    version: AtomicU64,
    source: AtomicU32,
    dest: AtomicU32,
}

pub struct Monitor {
    workers: Vec<WorkerState>,
}

impl Monitor {
    pub fn new(threads: usize) -> Self {
        Monitor {
            workers: (0..threads).map(|_| WorkerState::default()).collect(),
        }
    }

    #[inline]
    pub fn enter(&self, idx: usize, source: u32, dest: u32) {
        let w = &self.workers[idx];
        w.source.store(source, Ordering::Relaxed);
        w.dest.store(dest, Ordering::Relaxed);
        w.version.fetch_add(1, Ordering::Release);
    }

    #[inline]
    pub fn leave(&self, idx: usize) {
        let w = &self.workers[idx];
        w.dest.store(0, Ordering::Relaxed);
        w.version.fetch_add(1, Ordering::Release);
    }

    pub fn start(&'static self) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("cirrus-monitor".into())
            .spawn(move || self.watch())
            .expect("spawn monitor thread")
    }

    fn watch(&self) {
        // (version seen, when first seen, already warned)
        let mut seen: Vec<(u64, Instant, bool)> = self
            .workers
            .iter()
            .map(|_| (0, Instant::now(), false))
            .collect();
        while !node().is_quitting() {
            std::thread::sleep(Duration::from_millis(200));
            for (w, s) in self.workers.iter().zip(seen.iter_mut()) {
                let v = w.version.load(Ordering::Acquire);
                if v != s.0 {
                    *s = (v, Instant::now(), false);
                    continue;
                }
                let dest = w.dest.load(Ordering::Relaxed);
                if dest != 0 && !s.2 && s.1.elapsed() >= ENDLESS_AFTER {
                    s.2 = true;
                    let source = w.source.load(Ordering::Relaxed);
                    if let Some(slot) = node().registry.get(dest) {
                        slot.stats.endless.store(true, Ordering::Relaxed);
                    }
                    tracing::warn!(
                        service = %fmt_handle(dest),
                        source = %fmt_handle(source),
                        "a message from {} to {} has run for over {} s (maybe an endless loop)",
                        fmt_handle(source),
                        fmt_handle(dest),
                        s.1.elapsed().as_secs()
                    );
                }
            }
        }
    }
}
