//! The client against a scripted peer on a local socket: the peer decodes what the client sends
//! with the c2s schema and answers and pushes exactly as a gate would encode them.

use super::super::auth::{client_proof, derive_key};
use super::super::peer::Peer;
use super::super::{codes, ClientError, KeyCache, Options, Transport};
use super::*;
use crate::crypt::hmac_sha256;
use crate::sproto::rpc::Request;

fn ok() -> Struct {
    Struct::new().with("code", 0i64)
}

fn login_ok(uid: i64) -> Struct {
    ok().with("uid", uid).with("token", "reconnect-token").with(
        "player",
        Struct::new().with("uid", uid).with("gold", 5000i64),
    )
}

fn s(r: &Request, field: &str) -> Value {
    r.args.as_ref().unwrap().get(field).cloned().unwrap()
}

async fn pair(opts: Options) -> (Client, Pushes, Peer) {
    let (l, addr) = Peer::listen().await;
    let (c, peer) = tokio::join!(
        Client::connect(&addr, &opts),
        Peer::accept(&l, opts.transport)
    );
    let (client, pushes) = c.unwrap();
    (client, pushes, peer)
}

#[tokio::test]
async fn requests_in_flight_match_their_sessions_and_ud_is_tracked() {
    let (client, mut pushes, mut peer) = pair(Options::default()).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("visitor_login").await;
        assert_eq!(s(&r, "device_id"), Value::from("dev-1"));
        peer.answer(&r, login_ok(7), Some(1)).await;
        // Three heartbeats in flight, answered last first, a push in between.
        let mut reqs = Vec::new();
        for _ in 0..3 {
            reqs.push(peer.expect("heartbeat").await);
        }
        let mut ud = 2;
        for r in reqs.iter().rev() {
            let t = s(r, "client_time").as_integer().unwrap();
            peer.answer(r, ok().with("server_time", t + 1), Some(ud))
                .await;
            ud += 1;
            if ud == 3 {
                peer.push("chat_message", Struct::new().with("text", "hi"), Some(ud))
                    .await;
                ud += 1;
            }
        }
        peer
    });
    let login = client.visitor_login("dev-1").await.unwrap();
    assert_eq!((login.uid, login.token.as_str()), (7, "reconnect-token"));
    assert_eq!(login.gold(), Some(5000));
    let times = [111i64, 222, 333];
    let calls = times.map(|t| {
        let c = client.clone();
        async move {
            c.request("heartbeat", Struct::new().with("client_time", t))
                .await
                .unwrap()
        }
    });
    let [a, b, c] = calls;
    let (a, b, c) = tokio::join!(a, b, c);
    for (r, t) in [(a, 111), (b, 222), (c, 333)] {
        assert_eq!(r.name, "heartbeat");
        assert!(r.ok());
        assert_eq!(
            r.int("server_time"),
            Some(t + 1),
            "answer matched to its session"
        );
        assert!(r.ud.is_some());
    }
    let p = pushes.recv().await.unwrap();
    assert_eq!((p.name.as_str(), p.ud), ("chat_message", Some(3)));
    assert_eq!(p.body.get("text").and_then(Value::as_str), Some("hi"));
    let _peer = server.await.unwrap();
    let st = client.stats();
    assert_eq!(st.seq.sequenced, 5);
    assert!(!st.seq.broken(), "{st:?}");
    assert_eq!(client.last_seq(), Some(5));
    assert_eq!((st.packets_out, st.packets_in, st.pushes), (4, 5, 1));
}

#[tokio::test]
async fn gaps_duplicates_and_unsequenced_packets_are_counted() {
    let (client, mut pushes, mut peer) = pair(Options::default()).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("visitor_login").await;
        peer.answer(&r, login_ok(1), Some(10)).await;
        for ud in [Some(11), Some(13), Some(13), None, Some(14)] {
            peer.push("seat_state", Struct::new().with("desk_id", 1i64), ud)
                .await;
        }
        peer
    });
    client.visitor_login("d").await.unwrap();
    for _ in 0..5 {
        pushes.recv().await.unwrap();
    }
    let _peer = server.await.unwrap();
    let st = client.stats().seq;
    assert_eq!(
        (st.gaps, st.missing, st.duplicates, st.unsequenced),
        (1, 1, 1, 1)
    );
    assert_eq!(client.last_seq(), Some(14));
}

#[tokio::test]
async fn before_login_packets_need_no_ud() {
    let (client, _pushes, mut peer) = pair(Options::default()).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("heartbeat").await;
        peer.answer(&r, ok(), None).await;
        let r = peer.expect("visitor_login").await;
        peer.answer(&r, Struct::new().with("code", 18i64), None)
            .await;
        let r = peer.expect("heartbeat").await;
        peer.answer(&r, ok(), None).await;
        peer
    });
    client.heartbeat().await.unwrap();
    let e = client.visitor_login("d").await.unwrap_err();
    assert_eq!(e.code(), Some(18));
    assert!(e.to_string().contains("QUEUE_FULL"), "{e}");
    client.heartbeat().await.unwrap();
    let _peer = server.await.unwrap();
    assert!(!client.logged_in());
    assert!(!client.stats().seq.broken());
}

#[tokio::test]
async fn an_unknown_message_answer_decodes_as_our_response() {
    let (client, _pushes, mut peer) = pair(Options::default()).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("room_list").await;
        // What the server sends for a tag it does not know: only code = 3.
        peer.answer(&r, Struct::new().with("code", 3i64), None)
            .await;
        let r = peer.expect("player_info").await;
        // A response lacking `code` breaks the contract and is counted.
        peer.answer(&r, Struct::new(), None).await;
        peer
    });
    let r = client.request("room_list", Struct::new()).await.unwrap();
    assert_eq!(r.code, 3);
    assert_eq!(codes::name(r.code), "UNKNOWN_MESSAGE");
    assert!(matches!(r.check(), Err(ClientError::Code { code: 3, .. })));
    let r = client.request("player_info", Struct::new()).await.unwrap();
    assert_eq!(r.code, 0);
    assert_eq!(client.stats().no_code, 1);
    let _peer = server.await.unwrap();
}

#[tokio::test]
async fn queue_wait_pushes_keep_a_login_waiting() {
    let opts = Options {
        request_timeout: Duration::from_millis(300),
        ..Options::default()
    };
    let (client, mut pushes, mut peer) = pair(opts).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("visitor_login").await;
        // Five pushes 150 ms apart: 750 ms in all, well past the 300 ms timeout.
        for pos in (1..=5).rev() {
            let body = Struct::new()
                .with("position", pos as i64)
                .with("wait_seconds", pos as i64 * 2);
            peer.push("queue_wait", body, None).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        peer.answer(&r, login_ok(3), Some(1)).await;
        // A heartbeat answered too late times out, and its answer is counted as late.
        let r = peer.expect("heartbeat").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        peer.answer(&r, ok(), Some(2)).await;
        let r = peer.expect("heartbeat").await;
        peer.answer(&r, ok(), Some(3)).await;
        peer
    });
    let login = client.visitor_login("q").await.unwrap();
    assert_eq!(login.queue_waits, 5);
    assert!(login.latency >= Duration::from_millis(700));
    assert_eq!(
        client.queue(),
        Some(QueueWait {
            position: 1,
            wait_seconds: 2
        })
    );
    for _ in 0..5 {
        assert_eq!(pushes.recv().await.unwrap().name, "queue_wait");
    }
    let e = client.heartbeat().await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.heartbeat().await.unwrap();
    let _peer = server.await.unwrap();
    let st = client.stats();
    assert_eq!(st.late_responses, 1);
    assert!(
        !st.seq.broken(),
        "the late answer still had its place in the sequence"
    );
}

#[tokio::test]
async fn a_kick_fails_waiting_requests_and_ends_the_pushes() {
    let (client, mut pushes, mut peer) = pair(Options::default()).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("visitor_login").await;
        peer.answer(&r, login_ok(5), Some(1)).await;
        let _unanswered = peer.expect("room_list").await;
        let body = Struct::new()
            .with("reason", 1i64)
            .with("message", "logged in elsewhere");
        peer.push("kick", body, Some(2)).await;
        peer.close().await;
    });
    client.visitor_login("k").await.unwrap();
    let e = client
        .request("room_list", Struct::new())
        .await
        .unwrap_err();
    match e {
        ClientError::Kicked { reason, message } => {
            assert_eq!(reason, codes::kick::DUPLICATE_LOGIN);
            assert_eq!(message, "logged in elsewhere");
        }
        e => panic!("expected a kick, got {e}"),
    }
    assert_eq!(pushes.recv().await.unwrap().name, "kick");
    assert!(
        pushes.recv().await.is_none(),
        "the stream ends with the connection"
    );
    server.await.unwrap();
    assert!(client.is_closed());
    assert!(client.close_error().is_none(), "a clean close");
    assert!(matches!(
        client.heartbeat().await,
        Err(ClientError::Kicked { reason: 1, .. })
    ));
}

#[tokio::test]
async fn an_undecodable_packet_is_counted_and_the_connection_goes_on() {
    let (client, _pushes, mut peer) = pair(Options::default()).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("heartbeat").await;
        // A packed stream that ends inside a group does not unpack.
        peer.raw(&[0xff, 0x01]).await;
        peer.answer(&r, ok(), None).await;
        peer
    });
    client.heartbeat().await.unwrap();
    let _peer = server.await.unwrap();
    assert_eq!(client.stats().bad_packets, 1);
    assert!(client.last_bad_packet().is_some());
}

/// The server side of the handshake, as PROTOCOL.md specifies it.
async fn serve_handshake(peer: &mut Peer, password: &str, corrupt_server_proof: bool) {
    let salt = b"0123456789abcdef".to_vec();
    let iterations = 1000;
    let key = derive_key(password.as_bytes(), &salt, iterations);
    let r = peer.expect("auth_challenge").await;
    assert_eq!(s(&r, "account"), Value::from("alice"));
    let cn = s(&r, "client_nonce").as_bytes().unwrap().to_vec();
    assert!((16..=64).contains(&cn.len()));
    let sn: Vec<u8> = (0..16).map(|i| i * 3).collect();
    let body = ok()
        .with("server_nonce", sn.clone())
        .with("salt", salt)
        .with("iterations", i64::from(iterations));
    peer.answer(&r, body, None).await;
    let r = peer.expect("auth_proof").await;
    let proof = s(&r, "proof").as_bytes().unwrap().to_vec();
    assert_eq!(proof, client_proof(&key, &cn, &sn).to_vec(), "client proof");
    let mut sp = hmac_sha256(&key, &[&sn[..], &cn[..]].concat()).to_vec();
    if corrupt_server_proof {
        sp[0] ^= 0x80;
    }
    let body = ok().with("server_proof", sp).with("auth_token", "one-time");
    peer.answer(&r, body, None).await;
}

#[tokio::test]
async fn password_login_runs_the_handshake_and_checks_the_server() {
    let keys = KeyCache::new();
    let (client, _pushes, mut peer) = pair(Options::default()).await;
    let server = tokio::spawn(async move {
        serve_handshake(&mut peer, "s3cret-pw", false).await;
        let r = peer.expect("login").await;
        assert_eq!(s(&r, "account"), Value::from("alice"));
        assert_eq!(s(&r, "auth_token"), Value::from("one-time"));
        peer.answer(&r, login_ok(42), Some(1)).await;
        serve_handshake(&mut peer, "s3cret-pw", true).await;
        peer
    });
    let login = client
        .password_login("alice", "s3cret-pw", &keys)
        .await
        .unwrap();
    assert_eq!(login.uid, 42);
    assert_eq!(keys.len(), 1);
    let e = client
        .auth_token("alice", "s3cret-pw", &keys)
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::BadServerProof), "{e}");
    assert_eq!(
        keys.len(),
        1,
        "the same account, salt and iterations: one key"
    );
    let _peer = server.await.unwrap();
}

#[tokio::test]
async fn logout_waits_for_the_server_to_close() {
    let (client, mut pushes, mut peer) = pair(Options::default()).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("visitor_login").await;
        peer.answer(&r, login_ok(9), Some(1)).await;
        let r = peer.expect("logout").await;
        peer.answer(&r, ok(), Some(2)).await;
        // The session ended with the logout answer: the closing kick carries no ud.
        peer.push("kick", Struct::new().with("reason", 5i64), None)
            .await;
        peer.close().await;
    });
    client.visitor_login("l").await.unwrap();
    client.logout().await.unwrap();
    server.await.unwrap();
    assert_eq!(client.kicked().map(|k| k.reason), Some(codes::kick::LOGOUT));
    assert_eq!(pushes.recv().await.unwrap().name, "kick");
    assert!(!client.stats().seq.broken());
}

#[tokio::test]
async fn dropping_the_client_closes_the_socket() {
    let (client, pushes, mut peer) = pair(Options::default()).await;
    let clone = client.clone();
    drop(client);
    drop(pushes);
    let waiting = tokio::time::timeout(Duration::from_millis(200), peer.next()).await;
    assert!(waiting.is_err(), "a clone still holds the connection open");
    drop(clone);
    let end = tokio::time::timeout(Duration::from_secs(5), peer.next())
        .await
        .expect("the socket closes");
    assert!(end.is_none());
}

#[tokio::test]
async fn websocket_transport_carries_the_same_protocol() {
    let opts = Options {
        transport: Transport::WebSocket,
        ..Options::default()
    };
    let (client, mut pushes, mut peer) = pair(opts).await;
    let server = tokio::spawn(async move {
        let r = peer.expect("visitor_login").await;
        peer.answer(&r, login_ok(11), Some(1)).await;
        peer.push("queue_wait", Struct::new().with("position", 2i64), None)
            .await;
        let r = peer.expect("heartbeat").await;
        peer.answer(&r, ok(), Some(2)).await;
        peer
    });
    assert_eq!(client.visitor_login("ws").await.unwrap().uid, 11);
    client.heartbeat().await.unwrap();
    assert_eq!(pushes.recv().await.unwrap().name, "queue_wait");
    let peer = server.await.unwrap();
    assert_eq!(
        client.stats().seq.unsequenced,
        1,
        "a push after login without ud"
    );
    drop(peer);
}
