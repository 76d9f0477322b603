//! RPC framing, as cloudwu's `sproto.lua` host does it: every packet is
//! `pack(header .. body)`, the header a message of the package type, conventionally
//!
//! ```text
//! .package { type 0 : integer  session 1 : integer  ud 2 : integer }
//! ```
//!
//! A header with `type` is a request for that protocol tag (answerable when it carries a
//! `session`); a header without `type` is the response to `session`. Responses are decoded
//! with the response type recorded when the request was sent, so the host keeps a session
//! table. `ud` rides along untouched.

use super::error::RpcError;
use super::pack::{pack_into, unpack};
use super::schema::Sproto;
use super::value::{Struct, Value};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// What a pending session's response decodes with.
#[derive(Debug, Clone)]
enum Pending {
    Type(Arc<Sproto>, usize),
    /// No response type (or `response nil`): the response is a bare header.
    Empty,
}

/// A dispatched packet.
#[derive(Debug)]
pub enum Message {
    Request(Request),
    Response(Response),
}

#[derive(Debug)]
pub struct Request {
    pub name: String,
    pub tag: u16,
    /// `None` when the protocol has no request type.
    pub args: Option<Struct>,
    pub session: Option<i64>,
    pub ud: Option<Value>,
    /// Present when the request carries a session, i.e. expects an answer.
    pub responder: Option<Responder>,
}

#[derive(Debug)]
pub struct Response {
    pub session: i64,
    /// `None` when the protocol has no response type.
    pub args: Option<Struct>,
    pub ud: Option<Value>,
}

/// Encodes the answer to one request (the `response` function of `host:dispatch`).
#[derive(Debug, Clone)]
pub struct Responder {
    sp: Arc<Sproto>,
    package: usize,
    response: Option<usize>,
    session: i64,
}

impl Responder {
    pub fn session(&self) -> i64 {
        self.session
    }

    /// The packed response packet. `args` of `None` encodes an empty struct when the
    /// protocol has a response type, and is ignored when it has none.
    pub fn encode(&self, args: Option<&Struct>, ud: Option<Value>) -> Result<Vec<u8>, RpcError> {
        let header = header(&self.sp, self.package, None, Some(self.session), ud);
        frame(
            &self.sp,
            self.package,
            &header,
            self.response.map(|t| (&*self.sp, t)),
            args,
        )
    }
}

/// Build a header struct from whichever of `type`, `session`, `ud` the package type has.
fn header(
    sp: &Sproto,
    package: usize,
    tag: Option<i64>,
    session: Option<i64>,
    ud: Option<Value>,
) -> Struct {
    let mut h = Struct::with_capacity(3);
    let mut ud = ud;
    for f in &sp.types()[package].fields {
        let v = match f.name {
            "type" => tag.map(Value::Integer),
            "session" => session.map(Value::Integer),
            "ud" => ud.take(),
            _ => None,
        };
        if let Some(v) = v {
            h.push(f.name, v);
        }
    }
    h
}

/// Encode header and optional body, then pack them as one packet.
fn frame(
    hsp: &Sproto,
    package: usize,
    header: &Struct,
    body: Option<(&Sproto, usize)>,
    args: Option<&Struct>,
) -> Result<Vec<u8>, RpcError> {
    let mut raw = Vec::with_capacity(64);
    hsp.encode_into(package, header, &mut raw)?;
    if let Some((sp, ty)) = body {
        let empty = Struct::new();
        sp.encode_into(ty, args.unwrap_or(&empty), &mut raw)?;
    }
    let mut out = Vec::with_capacity(raw.len() + 8);
    pack_into(&raw, &mut out);
    Ok(out)
}

fn integer(v: Option<&Value>, what: &'static str) -> Result<Option<i64>, RpcError> {
    match v {
        None => Ok(None),
        Some(Value::Integer(i)) => Ok(Some(*i)),
        Some(_) => Err(RpcError::BadHeader(what)),
    }
}

/// A packet's `package` header: `type` (requests), `session`, `ud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub tag: Option<i64>,
    pub session: Option<i64>,
    pub ud: Option<i64>,
}

/// One endpoint's RPC state: its own schema (requests it serves) and the sessions it waits on.
#[derive(Debug)]
pub struct Host {
    sp: Arc<Sproto>,
    package: usize,
    sessions: HashMap<i64, Pending>,
}

impl Host {
    /// `package` names the header type, `"package"` by convention.
    pub fn new(sp: Arc<Sproto>, package: &str) -> Result<Host, RpcError> {
        let package = sp
            .type_id(package)
            .ok_or_else(|| RpcError::UnknownType(package.to_string()))?;
        Ok(Host {
            sp,
            package,
            sessions: HashMap::new(),
        })
    }

    /// Sessions still waiting for a response.
    pub fn pending(&self) -> usize {
        self.sessions.len()
    }

    /// The header of a packet without its body: what a client needs of a response to a
    /// session it no longer waits on (a resent or replayed answer).
    pub fn header(&self, packed: &[u8]) -> Result<Header, RpcError> {
        let bin = Bytes::from(unpack(packed)?);
        let (h, _) = self.sp.decode_type(self.package, &bin)?;
        Ok(Header {
            tag: integer(h.get("type"), "type")?,
            session: integer(h.get("session"), "session")?,
            ud: integer(h.get("ud"), "ud")?,
        })
    }

    /// Unpack and decode one packet: a request for this host's schema, or the response to a
    /// session this host sent.
    pub fn dispatch(&mut self, packed: &[u8]) -> Result<Message, RpcError> {
        let bin = Bytes::from(unpack(packed)?);
        let (h, used) = self.sp.decode_type(self.package, &bin)?;
        let body = bin.slice(used..);
        let session = integer(h.get("session"), "session")?;
        let ud = h.get("ud").cloned();
        let Some(tag) = integer(h.get("type"), "type")? else {
            let session = session.ok_or(RpcError::MissingSession)?;
            let pending = self
                .sessions
                .remove(&session)
                .ok_or(RpcError::UnknownSession(session))?;
            let args = match pending {
                Pending::Type(sp, ty) => Some(sp.decode_type(ty, &body)?.0),
                Pending::Empty => None,
            };
            return Ok(Message::Response(Response { session, args, ud }));
        };
        let proto = self
            .sp
            .protocol_by_tag(tag)
            .ok_or_else(|| RpcError::UnknownProtocol(tag.to_string()))?;
        let args = match proto.request {
            Some(ty) => Some(self.sp.decode_type(ty, &body)?.0),
            None => None,
        };
        let responder = session.map(|session| Responder {
            sp: self.sp.clone(),
            package: self.package,
            response: proto.response,
            session,
        });
        Ok(Message::Request(Request {
            name: proto.name.clone(),
            tag: proto.tag,
            args,
            session,
            ud,
            responder,
        }))
    }

    /// Encode a request of protocol `name` from `sp` (the peer's schema; often the same as
    /// this host's). With a session, the host remembers how to decode the answer.
    pub fn request(
        &mut self,
        sp: &Arc<Sproto>,
        name: &str,
        args: Option<&Struct>,
        session: Option<i64>,
        ud: Option<Value>,
    ) -> Result<Vec<u8>, RpcError> {
        let proto = sp
            .protocol(name)
            .ok_or_else(|| RpcError::UnknownProtocol(name.to_string()))?;
        let h = header(
            &self.sp,
            self.package,
            Some(i64::from(proto.tag)),
            session,
            ud,
        );
        let packet = frame(
            &self.sp,
            self.package,
            &h,
            proto.request.map(|t| (&**sp, t)),
            args,
        )?;
        if let Some(s) = session {
            let pending = match proto.response {
                Some(t) => Pending::Type(sp.clone(), t),
                None => Pending::Empty,
            };
            self.sessions.insert(s, pending);
        }
        Ok(packet)
    }

    /// `host:attach(sp)`: a sender of `sp`'s requests sharing this host's session table.
    pub fn attach(&mut self, sp: Arc<Sproto>) -> Attached<'_> {
        Attached { host: self, sp }
    }
}

/// A host bound to the peer schema its requests are encoded with.
pub struct Attached<'a> {
    host: &'a mut Host,
    sp: Arc<Sproto>,
}

impl Attached<'_> {
    pub fn request(
        &mut self,
        name: &str,
        args: Option<&Struct>,
        session: Option<i64>,
        ud: Option<Value>,
    ) -> Result<Vec<u8>, RpcError> {
        self.host.request(&self.sp, name, args, session, ud)
    }
}
