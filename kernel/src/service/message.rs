//! Messages between services and the protocol type numbers skynet users know.

use bytes::Bytes;

/// A service address: high byte is the node (harbor) id, low 24 bits the local index.
pub type Handle = u32;

pub const PTYPE_TEXT: u8 = 0;
pub const PTYPE_RESPONSE: u8 = 1;
pub const PTYPE_MULTICAST: u8 = 2;
pub const PTYPE_CLIENT: u8 = 3;
pub const PTYPE_SYSTEM: u8 = 4;
pub const PTYPE_HARBOR: u8 = 5;
pub const PTYPE_SOCKET: u8 = 6;
pub const PTYPE_ERROR: u8 = 7;
pub const PTYPE_QUEUE: u8 = 8;
pub const PTYPE_DEBUG: u8 = 9;
pub const PTYPE_LUA: u8 = 10;
pub const PTYPE_SNAX: u8 = 11;
pub const PTYPE_TRACE: u8 = 12;
/// Kernel-internal: the first message a new service receives; it runs the service's loader.
pub const PTYPE_INIT: u8 = 255;

/// One message in a mailbox. `session > 0` on a request means the sender waits for a reply
/// carrying the same session (PTYPE_RESPONSE, or PTYPE_ERROR when the call failed).
#[derive(Clone, Debug)]
pub struct Message {
    pub source: Handle,
    pub session: i32,
    pub ptype: u8,
    pub data: Bytes,
}

impl Message {
    pub fn new(source: Handle, session: i32, ptype: u8, data: Bytes) -> Self {
        Message {
            source,
            session,
            ptype,
            data,
        }
    }

    /// Whether the sender of this message waits for an answer.
    pub fn expects_reply(&self) -> bool {
        self.session > 0 && self.ptype != PTYPE_RESPONSE && self.ptype != PTYPE_ERROR
    }
}

/// `:0000000a`, the way skynet prints addresses.
pub fn fmt_handle(h: Handle) -> String {
    format!(":{h:08x}")
}
