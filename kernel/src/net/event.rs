//! PTYPE_SOCKET messages, the way `skynet.socket` receives them: a 9-byte header
//! `[type u8][id i32 LE][ud i32 LE]` followed by the payload (data, address or error text).

use crate::node::node;
use crate::service::{Handle, Message, PTYPE_SOCKET};
use bytes::{BufMut, Bytes, BytesMut};

/// Event types, numbered as skynet_socket.h numbers them.
pub const DATA: u8 = 1;
pub const CONNECT: u8 = 2;
pub const CLOSE: u8 = 3;
pub const ACCEPT: u8 = 4;
pub const ERROR: u8 = 5;
pub const UDP: u8 = 6;
pub const WARNING: u8 = 7;

pub const HEADER: usize = 9;

/// Write the header in front of a payload that was read into `buf` after `HEADER` zero bytes.
pub fn fill_header(buf: &mut [u8], kind: u8, id: i32, ud: i32) {
    buf[0] = kind;
    buf[1..5].copy_from_slice(&id.to_le_bytes());
    buf[5..9].copy_from_slice(&ud.to_le_bytes());
}

pub fn encode(kind: u8, id: i32, ud: i32, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(HEADER + payload.len());
    b.put_u8(kind);
    b.put_i32_le(id);
    b.put_i32_le(ud);
    b.put_slice(payload);
    b.freeze()
}

/// Split a socket message into `(type, id, ud, payload)`; `None` if it is too short.
pub fn decode(msg: &[u8]) -> Option<(u8, i32, i32, &[u8])> {
    if msg.len() < HEADER {
        return None;
    }
    let id = i32::from_le_bytes(msg[1..5].try_into().ok()?);
    let ud = i32::from_le_bytes(msg[5..9].try_into().ok()?);
    Some((msg[0], id, ud, &msg[HEADER..]))
}

/// Deliver an event to the socket's owner. `false` when the owner is gone (the caller then
/// closes the socket: nobody is left to read it).
pub fn post(owner: Handle, data: Bytes) -> bool {
    node()
        .send(Message::new(0, 0, PTYPE_SOCKET, data), owner)
        .is_ok()
}
