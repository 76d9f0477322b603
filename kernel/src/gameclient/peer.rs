//! The server end of the client protocol, scripted by a test: it decodes what a client sends
//! with the c2s schema and answers and pushes exactly as a gate encodes them. For tests of
//! clients (this module's own, `cirrus-bench robot`'s); it panics on anything unexpected.

use super::frame::{FrameReader, FrameWriter};
use super::{schemas, Transport};
use crate::sproto::rpc::Request;
use crate::sproto::{Host, Message, Sproto, Struct, Value};
use bytes::BytesMut;
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::net::TcpListener;

/// One accepted client connection.
pub struct Peer {
    rd: FrameReader,
    wr: FrameWriter,
    host: Host,
    s2c: Arc<Sproto>,
}

impl Peer {
    /// A listener on a free loopback port, and its address.
    pub async fn listen() -> (TcpListener, String) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap().to_string();
        (l, a)
    }

    /// Accept one client (after the WebSocket handshake for `Transport::WebSocket`).
    pub async fn accept(l: &TcpListener, transport: Transport) -> Peer {
        let (s, _) = l.accept().await.unwrap();
        let (rd, wr) = match transport {
            Transport::Tcp => {
                let (rd, wr) = s.into_split();
                (
                    FrameReader::Tcp {
                        rd,
                        buf: BytesMut::new(),
                    },
                    FrameWriter::Tcp(wr),
                )
            }
            Transport::WebSocket => {
                let ws = tokio_tungstenite::accept_async(s).await.unwrap();
                let (wr, rd) = ws.split();
                (FrameReader::Ws(rd), FrameWriter::Ws(wr))
            }
        };
        let sch = schemas();
        Peer {
            rd,
            wr,
            host: Host::new(sch.c2s.clone(), "package").unwrap(),
            s2c: sch.s2c.clone(),
        }
    }

    /// The next request from the client; `None` once it closed.
    pub async fn next(&mut self) -> Option<Request> {
        let p = self.rd.next().await.unwrap()?;
        match self.host.dispatch(&p).unwrap() {
            Message::Request(r) => Some(r),
            Message::Response(_) => panic!("the client sent a response"),
        }
    }

    /// The next request, which must be `name`.
    pub async fn expect(&mut self, name: &str) -> Request {
        let r = self.next().await.expect("a request");
        assert_eq!(r.name, name);
        r
    }

    /// Answer `req` with `body`, stamping `ud` in the header.
    pub async fn answer(&mut self, req: &Request, body: Struct, ud: Option<i64>) {
        let p = req
            .responder
            .as_ref()
            .expect("the request has a session")
            .encode(Some(&body), ud.map(Value::Integer))
            .unwrap();
        self.wr.send(&p).await.unwrap();
    }

    /// Send the s2c push `name`.
    pub async fn push(&mut self, name: &str, body: Struct, ud: Option<i64>) {
        let s2c = self.s2c.clone();
        let p = self
            .host
            .request(&s2c, name, Some(&body), None, ud.map(Value::Integer))
            .unwrap();
        self.wr.send(&p).await.unwrap();
    }

    /// Send bytes as one packet, whatever they are.
    pub async fn raw(&mut self, packet: &[u8]) {
        self.wr.send(packet).await.unwrap();
    }

    /// Close the server side (the client reads a clean close).
    pub async fn close(mut self) {
        self.wr.close().await;
    }
}
