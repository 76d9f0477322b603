//! A bot playing against a scripted desk: the moves it makes for each push, when it gets ready
//! again, and what it counts.

use super::bot::{Bot, Ctx};
use super::stats::Stats;
use super::RobotArgs;
use cirrus::gameclient::peer::Peer;
use cirrus::gameclient::{KeyCache, Options, Transport};
use cirrus::sproto::{Struct, Value};
use clap::Parser;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    a: RobotArgs,
}

fn ctx(addr: &str, load: Duration) -> Arc<Ctx> {
    let args = Cli::parse_from([
        "robot",
        "--addr",
        addr,
        "--scenario",
        "play",
        "--think",
        "0",
        "--heartbeat",
        "600",
    ])
    .a;
    Arc::new(Ctx {
        args,
        stats: Arc::new(Stats::default()),
        keys: KeyCache::new(),
        prefix: "t".into(),
        seed: 7,
        deadline: tokio::time::Instant::now() + load,
        opts: Options {
            request_timeout: Duration::from_secs(5),
            ..Options::default()
        },
    })
}

fn ok() -> Struct {
    Struct::new().with("code", 0i64)
}

fn seat(index: i64, uid: i64, playing: bool) -> Value {
    Value::Struct(
        Struct::new()
            .with("index", index)
            .with("uid", uid)
            .with("playing", playing),
    )
}

fn phase(round: i64, phase: i64, banker: i64) -> Struct {
    Struct::new()
        .with("desk_id", 3i64)
        .with("round", round)
        .with("phase", phase)
        .with("seconds", 0i64)
        .with("banker", banker)
}

fn result(seat: i64, uid: i64, score: i64, gold: i64, banker: bool) -> Value {
    Value::Struct(
        Struct::new()
            .with("seat", seat)
            .with("uid", uid)
            .with("score", score)
            .with("fee", 0i64)
            .with("gold_delta", score)
            .with("gold", gold)
            .with("banker", banker),
    )
}

fn times(r: &cirrus::sproto::Request) -> i64 {
    r.args
        .as_ref()
        .and_then(|a| a.get("times"))
        .and_then(Value::as_integer)
        .expect("times")
}

/// The desk's side of two rounds; the bot (uid 7, 1000 gold) sits at seat 0 of desk 3 and
/// ends round 1 with `gold_after`.
async fn desk(mut peer: Peer, gold_after: i64) {
    let mut ud = 0;
    let mut next = || {
        ud += 1;
        Some(ud)
    };
    let r = peer.expect("visitor_login").await;
    let player = Struct::new().with("uid", 7i64).with("gold", 1000i64);
    let body = ok()
        .with("uid", 7i64)
        .with("token", "t")
        .with("player", player);
    peer.answer(&r, body, next()).await;
    let r = peer.expect("room_list").await;
    let room = Struct::new().with("id", 1i64).with("min_gold", 100i64);
    let rooms = Value::Map(vec![(Value::Integer(1), Value::Struct(room))]);
    peer.answer(&r, ok().with("rooms", rooms), next()).await;
    let r = peer.expect("room_enter").await;
    assert_eq!(
        r.args.as_ref().unwrap().get("room_id"),
        Some(&Value::Integer(1))
    );
    peer.answer(&r, ok(), next()).await;
    let r = peer.expect("desk_join").await;
    let body = ok()
        .with("desk_id", 3i64)
        .with("seat", 0i64)
        .with("phase", 0i64);
    peer.answer(&r, body, next()).await;
    let r = peer.expect("desk_ready").await;
    peer.answer(&r, ok(), next()).await;

    // Round 1: another seat banks, so the bot bids, bets and opens.
    let start = |round: i64| {
        Struct::new()
            .with("desk_id", 3i64)
            .with("round", round)
            .with(
                "seats",
                Value::Array(vec![seat(0, 7, true), seat(1, 8, true)]),
            )
            .with("hand", vec![1i64, 2, 3, 4])
    };
    peer.push("game_start", start(1), next()).await;
    peer.push("desk_phase", phase(1, 1, -1), next()).await;
    let r = peer.expect("bid_banker").await;
    assert!((0..=4).contains(&times(&r)));
    peer.answer(&r, ok(), next()).await;
    peer.push("desk_phase", phase(1, 2, 1), next()).await;
    let r = peer.expect("bet").await;
    assert!((1..=5).contains(&times(&r)));
    peer.answer(&r, ok(), next()).await;
    let deal = Struct::new()
        .with("desk_id", 3i64)
        .with("round", 1i64)
        .with("card", 5i64);
    peer.push("deal_card", deal.clone(), next()).await;
    peer.push("desk_phase", phase(1, 3, 1), next()).await;
    let r = peer.expect("open_cards").await;
    peer.answer(&r, ok(), next()).await;
    peer.push("desk_phase", phase(1, 4, 1), next()).await;
    let results = vec![
        result(0, 7, -10, gold_after, false),
        result(1, 8, 10, 1010, true),
    ];
    let end = Struct::new()
        .with("desk_id", 3i64)
        .with("round", 1i64)
        .with("banker", 1i64)
        .with("results", Value::Array(results));
    peer.push("game_end", end, next()).await;
    // Still settling: seats are playing, so no desk_ready yet.
    let seats = |playing| Value::Array(vec![seat(0, 7, playing), seat(1, 8, playing)]);
    let state = |playing| {
        Struct::new()
            .with("desk_id", 3i64)
            .with("seats", seats(playing))
    };
    peer.push("seat_state", state(true), next()).await;
    let early = tokio::time::timeout(Duration::from_millis(200), peer.next()).await;
    assert!(early.is_err(), "ready sent while the round was settling");
    peer.push("seat_state", state(false), next()).await;
    let r = peer.expect("desk_ready").await;
    peer.answer(&r, ok(), next()).await;

    // Round 2: the bot banks, so it must not bet.
    peer.push("game_start", start(2), next()).await;
    peer.push("desk_phase", phase(2, 1, -1), next()).await;
    let r = peer.expect("bid_banker").await;
    peer.answer(&r, ok(), next()).await;
    peer.push("desk_phase", phase(2, 2, 0), next()).await;
    peer.push("deal_card", deal.with("round", 2i64), next())
        .await;
    let r = peer.expect("open_cards").await;
    peer.answer(&r, ok(), next()).await;

    // The deadline: leave (not pending), leave the room, log out.
    let r = peer.expect("desk_leave").await;
    peer.answer(&r, ok().with("pending", false), next()).await;
    let r = peer.expect("room_leave").await;
    peer.answer(&r, ok(), next()).await;
    let r = peer.expect("logout").await;
    peer.answer(&r, ok(), next()).await;
    peer.push("kick", Struct::new().with("reason", 5i64), None)
        .await;
    peer.close().await;
}

async fn play_against_the_desk(gold_after: i64) -> Arc<Stats> {
    let (l, addr) = Peer::listen().await;
    let ctx = ctx(&addr, Duration::from_secs(2));
    let server = tokio::spawn(async move {
        let peer = Peer::accept(&l, Transport::Tcp).await;
        desk(peer, gold_after).await;
    });
    let stats = ctx.stats.clone();
    tokio::time::timeout(Duration::from_secs(10), Bot::new(0, ctx).run())
        .await
        .expect("the bot finishes");
    server.await.unwrap();
    stats
}

#[tokio::test]
async fn a_bot_plays_rounds_as_the_pushes_ask() {
    let stats = play_against_the_desk(990).await;
    let c = &stats.c;
    assert_eq!(c.logins.load(Relaxed), 1);
    assert_eq!(c.seat_rounds.load(Relaxed), 1);
    assert_eq!(
        c.games.load(Relaxed),
        1,
        "the lowest seat counts the desk's round"
    );
    assert_eq!(c.settlement_mismatches.load(Relaxed), 0);
    assert_eq!(c.gold_mismatches.load(Relaxed), 0);
    assert_eq!(c.errors.load(Relaxed), 0);
    assert_eq!(c.connected.load(Relaxed), 0);
    assert_eq!(c.in_game.load(Relaxed), 0);
}

#[tokio::test]
async fn a_balance_that_does_not_add_up_is_counted() {
    // 1000 - 10 is 990, not 995.
    let stats = play_against_the_desk(995).await;
    assert_eq!(stats.c.gold_mismatches.load(Relaxed), 1);
    assert_eq!(stats.c.errors.load(Relaxed), 1);
}
