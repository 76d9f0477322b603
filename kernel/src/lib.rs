//! Cirrus: a skynet-style game-server microkernel. Services are Lua states (or native Rust
//! actors) with mailboxes, run by a worker pool; IO runs on tokio and comes back as messages.

pub mod cluster;
pub mod config;
pub mod console;
pub mod crypt;
pub mod gameclient;
pub mod gate;
pub mod lifecycle;
pub mod logger;
pub mod lua;
pub mod metrics;
pub mod net;
pub mod node;
pub mod process;
pub mod scheduler;
pub mod service;
pub mod sharedata;
pub mod sproto;
pub mod store;
pub mod timer;
pub mod tls;
