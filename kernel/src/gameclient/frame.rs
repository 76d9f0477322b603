//! Packet framing: over TCP each packet is a 2-byte big-endian length and that many bytes; over
//! WebSocket one binary message is one packet (docs/PROTOCOL.md, "Framing").

use super::error::{ClientError, Result};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

/// The largest packet a 2-byte length can carry.
pub const MAX_FRAME: usize = 65_535;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// 2-byte big-endian length framed TCP (the gate's port 8888 on the all-in-one node).
    Tcp,
    /// One binary WebSocket message per packet (port 8889).
    WebSocket,
}

type Ws = WebSocketStream<TcpStream>;

/// Take one complete frame off the front of `buf`, if it holds one.
pub fn take_frame(buf: &mut BytesMut) -> Option<Bytes> {
    if buf.len() < 2 {
        return None;
    }
    let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
    if buf.len() < 2 + len {
        buf.reserve(2 + len - buf.len());
        return None;
    }
    buf.advance(2);
    Some(buf.split_to(len).freeze())
}

/// Length-prefix `packet` for TCP.
pub fn encode_frame(packet: &[u8]) -> Result<Vec<u8>> {
    if packet.len() > MAX_FRAME {
        return Err(ClientError::FrameTooLarge(packet.len()));
    }
    let mut out = Vec::with_capacity(packet.len() + 2);
    out.put_u16(packet.len() as u16);
    out.put_slice(packet);
    Ok(out)
}

/// The receiving half of a connection.
pub enum FrameReader {
    Tcp { rd: OwnedReadHalf, buf: BytesMut },
    Ws(SplitStream<Ws>),
}

/// The sending half of a connection.
pub enum FrameWriter {
    Tcp(OwnedWriteHalf),
    Ws(SplitSink<Ws, WsMessage>),
}

impl FrameReader {
    /// The next whole packet; `None` once the server closed the connection cleanly.
    pub async fn next(&mut self) -> Result<Option<Bytes>> {
        match self {
            FrameReader::Tcp { rd, buf } => loop {
                if let Some(f) = take_frame(buf) {
                    return Ok(Some(f));
                }
                let n = rd.read_buf(buf).await.map_err(|source| ClientError::Io {
                    context: "read from server",
                    source,
                })?;
                if n == 0 {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    return Err(ClientError::Io {
                        context: "read from server",
                        source: std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!(
                                "connection closed inside a frame ({} bytes kept)",
                                buf.len()
                            ),
                        ),
                    });
                }
            },
            FrameReader::Ws(rd) => loop {
                match rd.next().await {
                    Some(Ok(WsMessage::Binary(b))) => return Ok(Some(b)),
                    Some(Ok(WsMessage::Close(_))) | None => return Ok(None),
                    // Text is not part of the protocol; ping/pong are answered by tungstenite.
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        return Err(ClientError::WebSocket {
                            context: "read from server",
                            source: Box::new(e),
                        })
                    }
                }
            },
        }
    }
}

impl FrameWriter {
    pub async fn send(&mut self, packet: &[u8]) -> Result<()> {
        match self {
            FrameWriter::Tcp(w) => {
                let frame = encode_frame(packet)?;
                w.write_all(&frame).await.map_err(|source| ClientError::Io {
                    context: "write to server",
                    source,
                })
            }
            FrameWriter::Ws(w) => w
                .send(WsMessage::Binary(Bytes::copy_from_slice(packet)))
                .await
                .map_err(|e| ClientError::WebSocket {
                    context: "write to server",
                    source: Box::new(e),
                }),
        }
    }

    /// Half-close (TCP) or send a close frame (WebSocket); the server then closes its side.
    pub async fn close(&mut self) {
        match self {
            FrameWriter::Tcp(w) => {
                let _ = w.shutdown().await;
            }
            FrameWriter::Ws(w) => {
                let _ = w.close().await;
            }
        }
    }
}

/// Small buffers: packets are small, and a load tester holds thousands of connections
/// (tungstenite's defaults allocate 128 KiB per connection up front).
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20))
}

/// Open a connection to a gate, retrying briefly when the listen backlog overflows.
pub async fn connect(
    addr: &str,
    transport: Transport,
    timeout: Duration,
) -> Result<(FrameReader, FrameWriter)> {
    let attempt = async {
        let mut tries = 0u64;
        loop {
            match TcpStream::connect(addr).await {
                Ok(s) => break Ok(s),
                Err(e) if tries < 5 && e.kind() != std::io::ErrorKind::ConnectionRefused => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50 * tries)).await;
                }
                Err(source) => {
                    break Err(ClientError::Connect {
                        addr: addr.to_string(),
                        source,
                    })
                }
            }
        }
    };
    let stream = tokio::time::timeout(timeout, attempt).await.map_err(|_| {
        ClientError::ConnectTimeout {
            addr: addr.to_string(),
            secs: timeout.as_secs_f64(),
        }
    })??;
    let _ = stream.set_nodelay(true);
    match transport {
        Transport::Tcp => {
            let (rd, wr) = stream.into_split();
            Ok((
                FrameReader::Tcp {
                    rd,
                    buf: BytesMut::with_capacity(1024),
                },
                FrameWriter::Tcp(wr),
            ))
        }
        Transport::WebSocket => {
            let handshake = tokio_tungstenite::client_async_with_config(
                format!("ws://{addr}/"),
                stream,
                Some(ws_config()),
            );
            let (ws, _) = tokio::time::timeout(timeout, handshake)
                .await
                .map_err(|_| ClientError::ConnectTimeout {
                    addr: addr.to_string(),
                    secs: timeout.as_secs_f64(),
                })?
                .map_err(|e| ClientError::Handshake {
                    addr: addr.to_string(),
                    source: Box::new(e),
                })?;
            let (wr, rd) = ws.split();
            Ok((FrameReader::Ws(rd), FrameWriter::Ws(wr)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn take_frame_waits_for_whole_frames() {
        let mut buf = BytesMut::new();
        assert!(take_frame(&mut buf).is_none());
        buf.put_u8(0);
        assert!(take_frame(&mut buf).is_none(), "half a length");
        buf.put_u8(3);
        buf.put_slice(b"ab");
        assert!(take_frame(&mut buf).is_none(), "short body");
        buf.put_slice(b"c");
        buf.put_slice(&[0, 0, 0, 1, b'z']);
        assert_eq!(take_frame(&mut buf).unwrap(), Bytes::from_static(b"abc"));
        assert_eq!(take_frame(&mut buf).unwrap(), Bytes::new(), "empty frame");
        assert_eq!(take_frame(&mut buf).unwrap(), Bytes::from_static(b"z"));
        assert!(take_frame(&mut buf).is_none());
        assert!(buf.is_empty());
    }

    #[test]
    fn encode_frame_limits() {
        assert_eq!(encode_frame(b"hi").unwrap(), vec![0, 2, b'h', b'i']);
        let max = vec![7u8; MAX_FRAME];
        let f = encode_frame(&max).unwrap();
        assert_eq!(&f[..2], &[0xff, 0xff]);
        assert!(matches!(
            encode_frame(&vec![0u8; MAX_FRAME + 1]),
            Err(ClientError::FrameTooLarge(65_536))
        ));
    }

    /// A server that writes frames split at every byte and merged several per write reaches the
    /// client as exactly those packets, and a clean close reads as `None`.
    #[tokio::test]
    async fn tcp_frames_over_split_and_merged_reads() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let big: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        let packets: Vec<Vec<u8>> = vec![b"one".to_vec(), vec![], big.clone(), b"four".to_vec()];
        let expect = packets.clone();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            // What the client sent, whole.
            let mut got = vec![0u8; 2 + 5];
            s.read_exact(&mut got).await.unwrap();
            assert_eq!(got, b"\x00\x05hello");
            let mut stream = Vec::new();
            for p in &packets {
                stream.extend(encode_frame(p).unwrap());
            }
            // First frame byte by byte, the rest in uneven chunks that cut lengths in half.
            let first = 2 + packets[0].len();
            for b in &stream[..first] {
                s.write_all(&[*b]).await.unwrap();
                s.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            for chunk in stream[first..].chunks(7_777) {
                s.write_all(chunk).await.unwrap();
                s.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let (mut rd, mut wr) = connect(&addr, Transport::Tcp, Duration::from_secs(5))
            .await
            .unwrap();
        wr.send(b"hello").await.unwrap();
        for want in &expect {
            let got = rd.next().await.unwrap().expect("a frame");
            assert_eq!(&got[..], &want[..]);
        }
        assert!(rd.next().await.unwrap().is_none(), "clean close");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn tcp_close_inside_a_frame_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(&[0, 10, 1, 2, 3]).await.unwrap();
        });
        let (mut rd, _wr) = connect(&addr, Transport::Tcp, Duration::from_secs(5))
            .await
            .unwrap();
        server.await.unwrap();
        let err = rd.next().await.unwrap_err();
        assert!(err.to_string().contains("inside a frame"), "{err}");
    }

    #[tokio::test]
    async fn websocket_binary_messages_are_packets() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(s).await.unwrap();
            let m = ws.next().await.unwrap().unwrap();
            assert_eq!(m, WsMessage::Binary(Bytes::from_static(b"ping")));
            ws.send(WsMessage::Text("ignored".into())).await.unwrap();
            ws.send(WsMessage::Binary(Bytes::from_static(b"pong")))
                .await
                .unwrap();
            ws.close(None).await.unwrap();
        });
        let (mut rd, mut wr) = connect(&addr, Transport::WebSocket, Duration::from_secs(5))
            .await
            .unwrap();
        wr.send(b"ping").await.unwrap();
        assert_eq!(
            rd.next().await.unwrap().unwrap(),
            Bytes::from_static(b"pong")
        );
        assert!(rd.next().await.unwrap().is_none());
        server.await.unwrap();
    }

    #[tokio::test]
    async fn refused_connect_reports_the_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let err = connect(&addr, Transport::Tcp, Duration::from_secs(5))
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains(&addr), "{err}");
        assert_eq!(err.kind(), "connect");
    }
}
