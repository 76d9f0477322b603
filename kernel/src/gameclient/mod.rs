//! A game client in Rust: speaks the client protocol of docs/PROTOCOL.md to a Cirrus gate over
//! TCP or WebSocket, on the project's sproto codec. `cirrus-bench robot` drives thousands of
//! these; tests and tools can use one directly:
//!
//! ```no_run
//! # async fn demo() -> Result<(), cirrus::gameclient::ClientError> {
//! use cirrus::gameclient::{Client, Options};
//! use cirrus::sproto::Struct;
//! let (client, mut pushes) = Client::connect("127.0.0.1:8888", &Options::default()).await?;
//! let login = client.visitor_login("device-1").await?;
//! let rooms = client.request("room_list", Struct::new()).await?.check()?;
//! while let Some(push) = pushes.recv().await {
//!     println!("{} {:?}", push.name, push.ud);
//! }
//! # let _ = (login, rooms); Ok(()) }
//! ```
//!
//! - [`frame`]: 2-byte big-endian TCP frames and WebSocket binary messages;
//! - [`conn`]: the connection: sessions, pushes, kicks, the login queue, `ud` tracking;
//! - [`seq`]: `ud` continuity (gaps, duplicates);
//! - [`auth`]: the PBKDF2 / HMAC handshake and the derived-key cache;
//! - [`session`]: visitor login, register, password login, logout, reconnect;
//! - [`codes`]: error code names;
//! - [`peer`]: a scripted server end for tests of clients.

pub mod auth;
pub mod codes;
pub mod conn;
pub mod error;
pub mod frame;
pub mod peer;
pub mod seq;
pub mod session;

pub use auth::KeyCache;
pub use conn::{Client, ConnStats, Kick, Observer, Options, Push, Pushes, QueueWait, Response};
pub use error::{ClientError, Result};
pub use frame::Transport;
pub use seq::{SeqStats, SeqTracker};
pub use session::{Login, Resume};

use crate::sproto::Sproto;
use std::sync::{Arc, OnceLock};

/// The client protocol schemas, compiled into the binary so it runs from any directory.
pub const C2S_SCHEMA: &str = include_str!("../../../sproto/proto.c2s.sproto");
pub const S2C_SCHEMA: &str = include_str!("../../../sproto/proto.s2c.sproto");

pub struct Schemas {
    /// Requests the client sends.
    pub c2s: Arc<Sproto>,
    /// Pushes the server sends.
    pub s2c: Arc<Sproto>,
}

/// The parsed schemas, shared by every connection of the process.
pub fn schemas() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| Schemas {
        c2s: Arc::new(Sproto::parse(C2S_SCHEMA).expect("sproto/proto.c2s.sproto parses")),
        s2c: Arc::new(Sproto::parse(S2C_SCHEMA).expect("sproto/proto.s2c.sproto parses")),
    })
}
