//! Sockets, gate and HTTP against real loopback sockets. Each test starts its own node from
//! tests/net/config.lua (gates on free ports, see tests/net/net_node.lua) and plays clients.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct NetNode {
    child: Child,
    log: Arc<Mutex<String>>,
    ports: HashMap<String, u16>,
}

impl NetNode {
    fn start() -> NetNode {
        let mut child = common::cirrus()
            .arg("tests/net/config.lua")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cirrus");
        let log = Arc::new(Mutex::new(String::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()) as Box<dyn Read + Send>,
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let mut node = NetNode {
            child,
            log,
            ports: HashMap::new(),
        };
        let line = node
            .wait_log("NET READY", Duration::from_secs(20))
            .unwrap_or_else(|| panic!("node not ready:\n{}", node.log()));
        for kv in line.split_whitespace().filter(|w| w.contains('=')) {
            let (k, v) = kv.split_once('=').unwrap();
            node.ports.insert(k.to_string(), v.parse().unwrap());
        }
        node
    }

    fn port(&self, name: &str) -> u16 {
        self.ports[name]
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Wait until a log line contains `needle`; returns that line.
    fn wait_log(&self, needle: &str, limit: Duration) -> Option<String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(l) = self.log().lines().find(|l| l.contains(needle)) {
                return Some(l.to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for NetNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn frame(msg: &[u8]) -> Vec<u8> {
    let mut v = (msg.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(msg);
    v
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Read one frame; `None` on EOF or reset.
fn recv(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).ok()?;
    let mut body = vec![0u8; u16::from_be_bytes(h) as usize];
    s.read_exact(&mut body).ok()?;
    Some(body)
}

fn echo(s: &mut TcpStream, msg: &[u8]) -> Vec<u8> {
    s.write_all(&frame(msg)).unwrap();
    recv(s).expect("echo")
}

/// True if the server closes `s` within `limit` (whatever it still had in flight is skipped).
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut buf = vec![0u8; 1 << 16];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn tcp_framing_survives_split_and_merged_reads() {
    let node = NetNode::start();
    let mut s = connect(node.port("tcp"));
    // one frame dribbled byte by byte
    let f = frame(b"dribbled frame");
    for b in &f {
        s.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(recv(&mut s).unwrap(), b"dribbled frame");
    // 200 frames in one write, and a frame split across two writes
    let mut batch = Vec::new();
    for i in 0..200 {
        batch.extend(frame(format!("msg {i}").as_bytes()));
    }
    let tail = frame(&vec![b'z'; 5000]);
    batch.extend_from_slice(&tail[..1000]);
    s.write_all(&batch).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&tail[1000..]).unwrap();
    for i in 0..200 {
        assert_eq!(recv(&mut s).unwrap(), format!("msg {i}").as_bytes());
    }
    assert_eq!(recv(&mut s).unwrap(), vec![b'z'; 5000]);
    // empty and maximum-size frames
    assert_eq!(echo(&mut s, b""), b"");
    let big = vec![7u8; 65535];
    assert_eq!(echo(&mut s, &big), big);
}

#[test]
fn thousand_concurrent_clients_echo() {
    let node = NetNode::start();
    let port = node.port("tcp");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ok = rt.block_on(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tasks = Vec::new();
        for c in 0..1000u32 {
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
                for i in 0..10u32 {
                    let msg = format!("client {c} message {i}");
                    s.write_all(&frame(msg.as_bytes())).await?;
                    let mut h = [0u8; 2];
                    s.read_exact(&mut h).await?;
                    let mut body = vec![0u8; u16::from_be_bytes(h) as usize];
                    s.read_exact(&mut body).await?;
                    assert_eq!(body, msg.as_bytes());
                }
                Ok::<_, std::io::Error>(())
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if tokio::time::timeout(Duration::from_secs(60), t)
                .await
                .is_ok_and(|r| r.is_ok_and(|r| r.is_ok()))
            {
                ok += 1;
            }
        }
        ok
    });
    assert_eq!(
        ok,
        1000,
        "clients that got all 10 echoes; log:\n{}",
        node.log()
    );
}

#[test]
fn websocket_echo_and_non_websocket_client() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let node = NetNode::start();
    let port = node.port("ws");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/"))
            .await
            .expect("ws connect");
        for i in 0..50 {
            let msg = format!("binary {i}");
            ws.send(Message::binary(msg.clone().into_bytes()))
                .await
                .unwrap();
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => assert_eq!(b, msg.as_bytes()),
                other => panic!("unexpected {other:?}"),
            }
        }
        // a text message is delivered as bytes and comes back as a binary message
        ws.send(Message::text("hello text")).await.unwrap();
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => assert_eq!(b, &b"hello text"[..]),
            other => panic!("unexpected {other:?}"),
        }
        // over maxpacket (4096): that connection ends
        ws.send(Message::binary(vec![1u8; 5000])).await.unwrap();
        let end = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("closed in time");
        assert!(
            !matches!(end, Some(Ok(Message::Binary(_)))),
            "oversized message was echoed: {end:?}"
        );
        ws.close(None).await.ok();
    });
    // a raw TCP client speaking the length protocol on the ws port is refused
    let mut raw = connect(port);
    raw.write_all(&frame(b"not websocket")).unwrap();
    assert!(
        closed_within(&mut raw, Duration::from_secs(5)),
        "non-websocket client kept open"
    );
    assert!(
        node.wait_log("not a WebSocket handshake", Duration::from_secs(5))
            .is_some(),
        "{}",
        node.log()
    );
    assert!(
        node.wait_log("over maxpacket", Duration::from_secs(5))
            .is_some(),
        "{}",
        node.log()
    );
    // the gate still serves others
    rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap();
        ws.send(Message::binary(b"still here".to_vec()))
            .await
            .unwrap();
        assert!(matches!(ws.next().await, Some(Ok(Message::Binary(b))) if b == b"still here"[..]));
    });
}

#[test]
fn kick_closes_only_that_connection() {
    let node = NetNode::start();
    let port = node.port("tcp");
    let mut a = connect(port);
    let mut b = connect(port);
    assert_eq!(echo(&mut a, b"a1"), b"a1");
    assert_eq!(echo(&mut b, b"b1"), b"b1");
    a.write_all(&frame(b"kick")).unwrap();
    assert!(
        closed_within(&mut a, Duration::from_secs(5)),
        "kicked client still open"
    );
    assert_eq!(echo(&mut b, b"b2"), b"b2");
    // a kicked connection reaches the watchdog as a normal close, not an error
    assert!(!node.log().contains("socket error"), "{}", node.log());
}

#[test]
fn maxclient_refuses_extra_connections_cleanly() {
    let node = NetNode::start();
    let port = node.port("limit");
    let mut clients: Vec<TcpStream> = (0..3).map(|_| connect(port)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(
            echo(c, format!("c{i}").as_bytes()),
            format!("c{i}").as_bytes()
        );
    }
    let mut extra = connect(port);
    let _ = extra.write_all(&frame(b"extra"));
    assert!(
        closed_within(&mut extra, Duration::from_secs(5)),
        "4th client admitted"
    );
    assert!(
        node.wait_log("gate full", Duration::from_secs(5)).is_some(),
        "{}",
        node.log()
    );
    // existing clients are unaffected; a freed slot admits a new client
    assert_eq!(echo(&mut clients[0], b"still"), b"still");
    drop(clients.pop());
    std::thread::sleep(Duration::from_millis(300));
    let mut again = connect(port);
    assert_eq!(echo(&mut again, b"again"), b"again");
}

#[test]
fn oversized_frame_closes_only_that_connection() {
    let node = NetNode::start();
    let port = node.port("limit");
    let mut good = connect(port);
    let mut bad = connect(port);
    assert_eq!(echo(&mut good, b"ok"), b"ok");
    // maxpacket is 1024 on this gate; the header alone is enough to refuse it
    bad.write_all(&2000u16.to_be_bytes()).unwrap();
    bad.write_all(&[0u8; 100]).unwrap();
    assert!(
        closed_within(&mut bad, Duration::from_secs(5)),
        "oversized frame accepted"
    );
    let line = node
        .wait_log("over maxpacket", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{}", node.log()));
    assert!(line.contains("2000"), "{line}");
    assert_eq!(echo(&mut good, b"fine"), b"fine");
    // the watchdog heard about it as an error on that fd
    assert!(
        node.wait_log("socket error", Duration::from_secs(5))
            .is_some(),
        "{}",
        node.log()
    );
}

#[test]
fn slow_reader_is_cut_off() {
    let node = NetNode::start();
    let port = node.port("tcp");
    let mut slow = connect(port);
    let mut other = connect(port);
    // 400 x 60000 bytes, far more than socket buffers plus the 256 KiB cap; never read
    slow.write_all(&frame(b"flood 400")).unwrap();
    let line = node
        .wait_log("over the cap", Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{}", node.log()));
    assert!(line.contains("262144"), "{line}");
    assert!(
        node.wait_log("socket warning", Duration::from_secs(5))
            .is_some(),
        "high-water warning: {}",
        node.log()
    );
    assert!(
        closed_within(&mut slow, Duration::from_secs(20)),
        "slow reader still connected"
    );
    assert_eq!(echo(&mut other, b"unaffected"), b"unaffected");
}

#[test]
fn idle_connections_are_closed() {
    let node = NetNode::start();
    let port = node.port("idle");
    let mut quiet = connect(port);
    let mut chatty = connect(port);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        assert_eq!(echo(&mut chatty, b"tick"), b"tick");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        closed_within(&mut quiet, Duration::from_secs(3)),
        "idle client not closed"
    );
    assert!(
        node.wait_log("without a frame", Duration::from_secs(2))
            .is_some(),
        "{}",
        node.log()
    );
    assert_eq!(echo(&mut chatty, b"alive"), b"alive");
}

#[test]
fn per_connection_agents_like_skynet() {
    let node = NetNode::start();
    let port = node.port("single");
    let mut a = connect(port);
    let mut b = connect(port);
    let wa = echo(&mut a, b"who");
    let wb = echo(&mut b, b"who");
    assert!(
        wa.starts_with(b":") && wb.starts_with(b":"),
        "{wa:?} {wb:?}"
    );
    assert_ne!(wa, wb, "each connection has its own agent");
    assert_eq!(echo(&mut a, b"hello"), b"hello");
}

/// One HTTP/1.1 exchange on an open connection; returns (status, headers, body).
fn http(s: &mut TcpStream, req: &str) -> (u16, String, String) {
    s.write_all(req.as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut status = String::new();
    r.read_line(&mut status).unwrap();
    let code: u16 = status.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers = String::new();
    let mut len = 0;
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        if l == "\r\n" {
            break;
        }
        if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
        headers.push_str(&l);
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    (code, headers, String::from_utf8(body).unwrap())
}

#[test]
fn http_get_post_keepalive_and_push() {
    let node = NetNode::start();
    let mut player = connect(node.port("tcp"));
    assert_eq!(echo(&mut player, b"hi"), b"hi");
    let mut s = connect(node.port("http"));
    let (code, _, body) = http(&mut s, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((code, body.as_str()), (200, "ok"));
    // same connection (keep-alive): a POST with a body and a header echoed back
    let (code, headers, body) = http(
        &mut s,
        "POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nContent-Length: 7\r\n\r\npayload",
    );
    assert_eq!(code, 200);
    assert_eq!(body, "POST a=1 payload");
    assert!(
        headers.to_ascii_lowercase().contains("x-test: yes"),
        "{headers}"
    );
    let (code, _, _) = http(&mut s, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(code, 404);
    // backend push: the body reaches the connected player as one frame
    let (code, _, body) = http(
        &mut s,
        "POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
    );
    assert_eq!((code, body.as_str()), (200, "1"));
    assert_eq!(recv(&mut player).unwrap(), b"hello world");
}

#[test]
fn lua_socket_api() {
    common::assert_lua_suite("test_socket", 2);
}

#[test]
fn lua_gate_events_as_skynet_sends_them() {
    common::assert_lua_suite("test_gate", 2);
}

#[test]
fn lua_http_server_and_client() {
    common::assert_lua_suite("test_http", 2);
}
