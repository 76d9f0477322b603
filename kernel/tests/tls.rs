//! TLS (kernel/src/tls, lualib/http/tlshelper.lua) against certificates made here with rcgen:
//! the Lua suite tests/net/test_tls.lua (ltls.c in memory, httpc https://, wss:// inside one
//! node), and a rustls client (tokio-rustls, verifying the test CA) driving the https and wss
//! servers of tests/net/tls_node.lua from outside, with bad bytes and plain HTTP thrown at it.

mod common;

use common::{envs, make_certs, Certs, LoggedNode};

use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

#[test]
fn lua_tls_suite() {
    let certs = make_certs("lua");
    common::assert_lua_suite_env("test_tls", 2, &envs(&certs));
}

/// tests/net/tls_node.lua, with the https and wss ports it listens on.
fn start_node(certs: &Certs) -> (LoggedNode, u16, u16) {
    let mut cmd = common::cirrus();
    cmd.arg("tests/net/config_tls.lua");
    for (k, v) in envs(certs) {
        cmd.env(k, v);
    }
    let node = LoggedNode::spawn(cmd);
    let line = node
        .wait_log("TLS READY", Duration::from_secs(20))
        .unwrap_or_else(|| panic!("node not ready:\n{}", node.log()));
    let port = |k: &str| -> u16 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(k))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (h, w) = (port("https="), port("wss="));
    (node, h, w)
}

/// A client that trusts the test CA only, and so checks the server's certificate and name.
fn connector(certs: &Certs) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certs.ca_der.clone().into()).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

async fn tls_connect(
    c: &tokio_rustls::TlsConnector,
    port: u16,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    c.connect(name, tcp).await.expect("tls handshake")
}

/// Read until the peer closes (the server sends no close_notify, as skynet's does not).
async fn read_to_close<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "no close within 10 s; got {:?}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
}

async fn https(c: &tokio_rustls::TlsConnector, port: u16, request: &[u8]) -> (String, Vec<u8>) {
    let mut s = tls_connect(c, port).await;
    s.write_all(request).await.unwrap();
    let raw = read_to_close(&mut s).await;
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&raw)));
    (
        String::from_utf8_lossy(&raw[..at]).into_owned(),
        raw[at + 4..].to_vec(),
    )
}

/// What a non-TLS client gets back before the server closes: nothing, or a TLS alert record.
async fn raw_exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    read_to_close(&mut s).await
}

#[test]
fn rustls_client_against_the_tls_servers() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let certs = make_certs("client");
    let (node, https_port, wss_port) = start_node(&certs);
    let c = connector(&certs);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (head, body) = https(
            &c,
            https_port,
            b"POST /a?b=c HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
        )
        .await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.lines().any(|l| l == "x-host: localhost"), "{head}");
        assert!(head.lines().any(|l| l == "content-length: 17"), "{head}");
        assert_eq!(body, b"POST /a?b=c\nhello");

        // 300 KB each way: many TLS records, read in pieces
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut req = format!(
            "PUT /big HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
            big.len()
        )
        .into_bytes();
        req.extend_from_slice(&big);
        let (head, body) = https(&c, https_port, &req).await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(&body[..9], b"PUT /big\n");
        assert!(body[9..] == big[..], "300 KB body differs");

        // bytes that are not a TLS handshake: the connection ends (with an alert at most)
        let back = raw_exchange(https_port, b"\x16\x03\x01\x00\x05junk!and more junk").await;
        assert!(back.is_empty() || back[0] == 0x15, "{back:?}");
        // a plain HTTP client on the TLS port: refused, no HTTP answer
        let back = raw_exchange(https_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(back.is_empty() || back[0] == 0x15, "{back:?}");

        // wss: tokio-tungstenite over the rustls stream
        let s = tls_connect(&c, wss_port).await;
        let (mut ws, resp) =
            tokio_tungstenite::client_async(format!("wss://localhost:{wss_port}/echo"), s)
                .await
                .expect("wss handshake");
        assert_eq!(resp.status(), 101);
        ws.send(Message::text("hello wss")).await.unwrap();
        match ws.next().await {
            Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), "hello wss"),
            other => panic!("unexpected {other:?}"),
        }
        let blob: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
        ws.send(Message::binary(blob.clone())).await.unwrap();
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => assert!(b[..] == blob[..], "binary echo differs"),
            other => panic!("unexpected {other:?}"),
        }
        ws.close(None).await.ok();

        // a wss client that does not trust the server's CA refuses it
        let empty = tokio_rustls::TlsConnector::from(Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        ));
        let tcp = TcpStream::connect(("127.0.0.1", https_port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let e = empty.connect(name, tcp).await.expect_err("untrusted CA");
        assert!(e.to_string().contains("UnknownIssuer"), "{e}");

        // the node is still serving
        let (head, body) = https(
            &c,
            https_port,
            b"GET /after HTTP/1.1\r\nHost: localhost\r\n\r\n",
        )
        .await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(body, b"GET /after\n");
    });
    let log = node.log();
    assert!(log.contains("tls handshake:"), "{log}");
    assert!(log.contains("the peer sent plain HTTP, not TLS"), "{log}");
    assert!(!log.to_lowercase().contains("panick"), "{log}");
}
