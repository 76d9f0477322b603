//! Services as the kernel sees them: addresses, messages, mailboxes and the handle registry.
//! The Lua side of a service lives in `crate::lua`; native services implement [`Actor`].

pub mod message;
pub mod port;
pub mod registry;
pub mod slot;

pub use message::*;
pub use registry::Registry;
pub use slot::{Actor, Pushed, Slot};
