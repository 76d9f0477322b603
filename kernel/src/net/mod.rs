//! Networking for services: the socket layer behind `skynet.socket` (TCP, UDP) and HTTP.
//! Everything runs on the node's tokio runtime; results and events come back to services as
//! messages, so no Lua worker thread ever blocks on IO. Gate connections (`crate::gate`) share
//! the socket table, so any service can write to any socket id.

pub mod buffer;
pub mod event;
pub mod http;
pub mod lua;
pub mod outbox;
pub mod signal;
pub mod table;
pub mod tcp;
pub mod udp;

use std::sync::Once;

/// Lift the soft RLIMIT_NOFILE to the hard limit once, before the first listener: a gate
/// holding thousands of clients needs a descriptor each.
pub fn raise_nofile() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain libc calls on a stack struct.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
                let old = lim.rlim_cur;
                lim.rlim_cur = lim.rlim_max;
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                    tracing::debug!("RLIMIT_NOFILE raised from {old} to {}", lim.rlim_max);
                }
            }
        }
    });
}
