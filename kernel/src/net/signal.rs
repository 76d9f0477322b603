//! Wakeups for a socket's own task. Each connection loop polls its signals on every turn, so
//! they must be cheap to poll: an atomic flag plus an `AtomicWaker` (one waiter), instead of
//! tokio's `Notify` or a `CancellationToken`, which take a lock on each poll.

use futures_util::task::AtomicWaker;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// A wakeup that is consumed by the wait that sees it (like `Notify::notify_one` with its
/// stored permit).
#[derive(Default)]
pub struct Signal {
    set: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    pub fn notify(&self) {
        self.set.store(true, Ordering::Release);
        self.waker.wake();
    }

    fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.set.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.set.swap(false, Ordering::AcqRel) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    pub async fn wait(&self) {
        poll_fn(|cx| self.poll_wait(cx)).await
    }
}

/// A one-way switch: once set, every wait completes at once.
#[derive(Default)]
pub struct Latch {
    set: AtomicBool,
    waker: AtomicWaker,
}

impl Latch {
    pub fn set(&self) {
        self.set.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_set() {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.is_set() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    pub async fn wait(&self) {
        poll_fn(|cx| self.poll_wait(cx)).await
    }
}
