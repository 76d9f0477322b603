//! skynet's cluster wire format (lualib-src/lua-cluster.c), so a Cirrus node and a skynet node
//! can call each other. Every frame is a 2-byte big-endian length and a body; integers inside
//! are little-endian.
//!
//! Requests (body): `0x00 addr:u32 session:u32 msg` (numeric address) or
//! `0x80 namelen name session:u32 msg` (string address); session 0 is a push (send).
//! Payloads of 0x8000 bytes or more are split: a header `0x01/0x41 addr session size:u32` (or
//! `0x81/0xc1 namelen name session size:u32` for names; 0x4x/0xcx mark a push), then parts
//! `0x02 session data` and a final `0x03 session data`.
//! Responses (body): `session:u32 ok:u8 msg` with ok 0 = error, 1 = ok, or 2 (begin, msg is the
//! total size u32), 3 (part), 4 (end) for multi-part answers.

use bytes::{BufMut, Bytes, BytesMut};
use std::collections::HashMap;

pub const MULTI_PART: usize = 0x8000;

/// Where a request goes on the remote node.
#[derive(Clone, Debug, PartialEq)]
pub enum Addr {
    Handle(u32),
    Name(String),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    #[error("invalid cluster message: {0}")]
    Invalid(&'static str),
    #[error("cluster name {0:?} must be 1..255 bytes")]
    BadName(String),
}

fn frame(out: &mut BytesMut, body_len: usize) {
    out.put_u16(body_len as u16);
}

fn put_addr(
    out: &mut BytesMut,
    addr: &Addr,
    small: u8,
    big: u8,
    multi: bool,
) -> Result<(), WireError> {
    match addr {
        Addr::Handle(h) => {
            out.put_u8(if multi { big } else { small });
            out.put_u32_le(*h);
        }
        Addr::Name(n) => {
            if n.is_empty() || n.len() > 255 {
                return Err(WireError::BadName(n.clone()));
            }
            out.put_u8(if multi { big | 0x80 } else { small | 0x80 });
            out.put_u8(n.len() as u8);
            out.put_slice(n.as_bytes());
        }
    }
    Ok(())
}

fn addr_len(addr: &Addr) -> usize {
    match addr {
        Addr::Handle(_) => 5,
        Addr::Name(n) => 2 + n.len(),
    }
}

/// Encode a request (session 0 = push) as one or more frames appended to `out`.
pub fn pack_request(
    out: &mut BytesMut,
    addr: &Addr,
    session: u32,
    msg: &[u8],
    push: bool,
) -> Result<(), WireError> {
    let session = if push && msg.len() < MULTI_PART {
        0
    } else {
        session
    };
    if msg.len() < MULTI_PART {
        frame(out, addr_len(addr) + 4 + msg.len());
        put_addr(out, addr, 0, 0, false)?;
        out.put_u32_le(session);
        out.put_slice(msg);
        return Ok(());
    }
    frame(out, addr_len(addr) + 8);
    put_addr(out, addr, 0, if push { 0x41 } else { 0x01 }, true)?;
    out.put_u32_le(session);
    out.put_u32_le(msg.len() as u32);
    let mut chunks = msg.chunks(MULTI_PART).peekable();
    while let Some(c) = chunks.next() {
        frame(out, 5 + c.len());
        out.put_u8(if chunks.peek().is_some() { 2 } else { 3 });
        out.put_u32_le(session);
        out.put_slice(c);
    }
    Ok(())
}

/// Encode a response; errors longer than one part are truncated, as skynet does.
pub fn pack_response(out: &mut BytesMut, session: u32, ok: bool, msg: &[u8]) {
    if !ok || msg.len() <= MULTI_PART {
        let msg = &msg[..msg.len().min(MULTI_PART)];
        frame(out, 5 + msg.len());
        out.put_u32_le(session);
        out.put_u8(ok as u8);
        out.put_slice(msg);
        return;
    }
    frame(out, 9);
    out.put_u32_le(session);
    out.put_u8(2);
    out.put_u32_le(msg.len() as u32);
    let mut chunks = msg.chunks(MULTI_PART).peekable();
    while let Some(c) = chunks.next() {
        frame(out, 5 + c.len());
        out.put_u32_le(session);
        out.put_u8(if chunks.peek().is_some() { 3 } else { 4 });
        out.put_slice(c);
    }
}

/// Split complete frames off a read buffer.
pub fn take_frame(buf: &mut BytesMut) -> Option<Bytes> {
    if buf.len() < 2 {
        return None;
    }
    let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
    if buf.len() < 2 + len {
        return None;
    }
    let mut f = buf.split_to(2 + len);
    let _ = f.split_to(2);
    Some(f.freeze())
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, WireError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(WireError::Invalid("truncated"))
}

/// A complete request, after reassembly.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub addr: Addr,
    pub session: u32,
    pub push: bool,
    pub msg: Bytes,
}

struct Partial {
    addr: Addr,
    push: bool,
    size: usize,
    data: BytesMut,
}

/// Reassembles requests from frames (one per connection).
#[derive(Default)]
pub struct RequestReader {
    partial: HashMap<u32, Partial>,
}

/// Upper bound on one reassembled message, so a peer can't make us buffer without limit.
pub const MAX_MESSAGE: usize = 64 << 20;

impl RequestReader {
    pub fn feed(&mut self, f: &[u8]) -> Result<Option<Request>, WireError> {
        let kind = *f.first().ok_or(WireError::Invalid("empty frame"))?;
        let (addr, rest) = match kind {
            0x00 | 0x01 | 0x41 => (Addr::Handle(u32_at(f, 1)?), 5),
            0x80 | 0x81 | 0xc1 => {
                let n = *f.get(1).ok_or(WireError::Invalid("truncated"))? as usize;
                let name = f
                    .get(2..2 + n)
                    .ok_or(WireError::Invalid("truncated name"))?;
                (
                    Addr::Name(String::from_utf8_lossy(name).into_owned()),
                    2 + n,
                )
            }
            2 | 3 => {
                let session = u32_at(f, 1)?;
                let p = self
                    .partial
                    .get_mut(&session)
                    .ok_or(WireError::Invalid("part of an unknown request"))?;
                if p.data.len() + f.len() - 5 > p.size {
                    self.partial.remove(&session);
                    return Err(WireError::Invalid(
                        "multi-part request larger than announced",
                    ));
                }
                p.data.extend_from_slice(&f[5..]);
                if kind == 3 {
                    let p = self.partial.remove(&session).expect("present");
                    if p.data.len() != p.size {
                        return Err(WireError::Invalid(
                            "multi-part request shorter than announced",
                        ));
                    }
                    return Ok(Some(Request {
                        addr: p.addr,
                        session,
                        push: p.push,
                        msg: p.data.freeze(),
                    }));
                }
                return Ok(None);
            }
            _ => return Err(WireError::Invalid("unknown request type")),
        };
        let session = u32_at(f, rest)?;
        if kind & 0x7f == 0 {
            let msg = Bytes::copy_from_slice(&f[rest + 4..]);
            return Ok(Some(Request {
                addr,
                session,
                push: session == 0,
                msg,
            }));
        }
        let size = u32_at(f, rest + 4)? as usize;
        if size > MAX_MESSAGE {
            return Err(WireError::Invalid("multi-part request too large"));
        }
        let push = kind & 0x40 != 0;
        self.partial.insert(
            session,
            Partial {
                addr,
                push,
                size,
                data: BytesMut::with_capacity(size.min(1 << 20)),
            },
        );
        Ok(None)
    }
}

/// A complete response.
#[derive(Debug, PartialEq)]
pub struct Response {
    pub session: u32,
    pub ok: bool,
    pub msg: Bytes,
}

#[derive(Default)]
pub struct ResponseReader {
    partial: HashMap<u32, (usize, BytesMut)>,
}

impl ResponseReader {
    pub fn feed(&mut self, f: &[u8]) -> Result<Option<Response>, WireError> {
        let session = u32_at(f, 0)?;
        let ok = *f.get(4).ok_or(WireError::Invalid("truncated response"))?;
        let body = &f[5..];
        match ok {
            0 | 1 => Ok(Some(Response {
                session,
                ok: ok == 1,
                msg: Bytes::copy_from_slice(body),
            })),
            2 => {
                let size = u32_at(body, 0)? as usize;
                if size > MAX_MESSAGE {
                    return Err(WireError::Invalid("multi-part response too large"));
                }
                self.partial
                    .insert(session, (size, BytesMut::with_capacity(size.min(1 << 20))));
                Ok(None)
            }
            3 | 4 => {
                let (size, data) = self
                    .partial
                    .get_mut(&session)
                    .ok_or(WireError::Invalid("part of an unknown response"))?;
                if data.len() + body.len() > *size {
                    self.partial.remove(&session);
                    return Err(WireError::Invalid(
                        "multi-part response larger than announced",
                    ));
                }
                data.extend_from_slice(body);
                if ok == 4 {
                    let (_, data) = self.partial.remove(&session).expect("present");
                    return Ok(Some(Response {
                        session,
                        ok: true,
                        msg: data.freeze(),
                    }));
                }
                Ok(None)
            }
            _ => Err(WireError::Invalid("unknown response type")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(mut b: BytesMut) -> Vec<Bytes> {
        let mut v = Vec::new();
        while let Some(f) = take_frame(&mut b) {
            v.push(f);
        }
        assert!(b.is_empty());
        v
    }

    #[test]
    fn small_request_bytes_match_skynet() {
        let mut b = BytesMut::new();
        pack_request(&mut b, &Addr::Handle(0x0a), 7, b"hi", false).unwrap();
        assert_eq!(&b[..], &[0, 11, 0, 0x0a, 0, 0, 0, 7, 0, 0, 0, b'h', b'i']);
        let mut b = BytesMut::new();
        pack_request(&mut b, &Addr::Name("@db".into()), 1, b"x", true).unwrap();
        assert_eq!(
            &b[..],
            &[0, 10, 0x80, 3, b'@', b'd', b'b', 0, 0, 0, 0, b'x']
        );
        let mut b = BytesMut::new();
        pack_response(&mut b, 7, true, b"ok");
        assert_eq!(&b[..], &[0, 7, 7, 0, 0, 0, 1, b'o', b'k']);
    }

    #[test]
    fn large_payloads_round_trip_in_parts() {
        let msg: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for addr in [Addr::Handle(9), Addr::Name("@svc".into())] {
            for push in [false, true] {
                let mut b = BytesMut::new();
                pack_request(&mut b, &addr, 42, &msg, push).unwrap();
                let fs = frames(b);
                assert_eq!(fs.len(), 1 + msg.len().div_ceil(MULTI_PART));
                let mut r = RequestReader::default();
                let mut got = None;
                for f in &fs {
                    if let Some(req) = r.feed(f).unwrap() {
                        got = Some(req);
                    }
                }
                let req = got.expect("reassembled");
                assert_eq!(req.addr, addr);
                assert_eq!(req.push, push);
                assert_eq!(&req.msg[..], &msg[..]);
            }
        }
        let mut b = BytesMut::new();
        pack_response(&mut b, 5, true, &msg);
        let mut r = ResponseReader::default();
        let mut got = None;
        for f in frames(b) {
            if let Some(x) = r.feed(&f).unwrap() {
                got = Some(x);
            }
        }
        assert_eq!(&got.unwrap().msg[..], &msg[..]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut r = RequestReader::default();
        assert!(r.feed(&[]).is_err());
        assert!(r.feed(&[0x00, 1, 2]).is_err());
        assert!(r.feed(&[0x80, 200, b'a']).is_err());
        assert!(r.feed(&[0x02, 1, 0, 0, 0, 9]).is_err());
        assert!(r
            .feed(&[0x01, 1, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f])
            .is_err());
        assert!(r.feed(&[0x33]).is_err());
        let mut rr = ResponseReader::default();
        assert!(rr.feed(&[1, 0]).is_err());
        assert!(rr.feed(&[1, 0, 0, 0, 9]).is_err());
        for seed in 0..2000u32 {
            let len = (seed % 40) as usize;
            let v: Vec<u8> = (0..len)
                .map(|i| (seed.wrapping_mul(2654435761).rotate_left(i as u32) & 0xff) as u8)
                .collect();
            let _ = r.feed(&v);
            let _ = rr.feed(&v);
        }
        assert!(pack_request(
            &mut BytesMut::new(),
            &Addr::Name(String::new()),
            1,
            b"",
            false
        )
        .is_err());
    }
}
