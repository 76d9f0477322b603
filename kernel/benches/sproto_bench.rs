//! sproto codec throughput, single thread: a 20-field room-state message with a nested
//! array of 4 seat structs, as the gate would push it.
//!
//!     cargo bench -p cirrus --bench sproto_bench
//!
//! Prints msgs/s for encode+pack and unpack+decode (the two directions a packet takes),
//! then each stage alone. Uses mimalloc, the allocator of the `cirrus` binary, since
//! decoding allocates the message tree. `SPROTO_BENCH_MS` sets the time per measurement.

use bytes::Bytes;
use cirrus::sproto::{pack_into, unpack_into, Sproto, Struct, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SCHEMA: &str = r#"
.Seat {
    index 0 : integer
    uid 1 : integer
    nickname 2 : string
    ready 3 : boolean
    score 4 : integer
}

.RoomState {
    room_id 0 : integer
    desk_id 1 : integer
    round 2 : integer
    state 3 : integer
    dealer 4 : integer
    turn 5 : integer
    base_score 6 : integer
    multiple 7 : integer
    pot 8 : integer
    deadline 9 : integer
    name 10 : string
    rule 11 : string
    private 12 : boolean
    locked 13 : boolean
    rate 14 : double
    fee 15 : integer(2)
    hand 16 : *integer
    last_cards 17 : *integer
    seats 18 : *Seat
    notice 19 : string
}
"#;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn message() -> Struct {
    let seat = |i: i64| {
        Struct::new()
            .with("index", i)
            .with("uid", 100_000 + i)
            .with("nickname", format!("player-{i}"))
            .with("ready", i % 2 == 0)
            .with("score", -120 * i)
    };
    Struct::new()
        .with("room_id", 3i64)
        .with("desk_id", 1_024i64)
        .with("round", 7i64)
        .with("state", 2i64)
        .with("dealer", 1i64)
        .with("turn", 3i64)
        .with("base_score", 100i64)
        .with("multiple", 8i64)
        .with("pot", 12_000_000_000i64)
        .with("deadline", 1_767_225_600_000i64)
        .with("name", "Dragon Hall")
        .with("rule", "classic-3p")
        .with("private", false)
        .with("locked", true)
        .with("rate", 0.985)
        .with("fee", 2.5)
        .with(
            "hand",
            vec![3i64, 7, 11, 12, 18, 22, 30, 31, 40, 44, 47, 51, 52],
        )
        .with("last_cards", vec![5i64, 6, 7, 8, 9])
        .with(
            "seats",
            Value::Array((0..4).map(|i| Value::Struct(seat(i))).collect()),
        )
        .with("notice", "Welcome! Tournament starts at 20:00.")
}

/// Run `f` repeatedly for about `budget`; returns operations per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..10_000 {
        f();
    }
    let mut n = 0u64;
    let start = Instant::now();
    loop {
        for _ in 0..10_000 {
            f();
        }
        n += 10_000;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return n as f64 / elapsed.as_secs_f64();
        }
    }
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("SPROTO_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000),
    );
    let sp = Sproto::parse(SCHEMA).expect("schema");
    let ty = sp.type_id("RoomState").expect("type");
    let msg = message();

    let mut raw = Vec::new();
    sp.encode_into(ty, &msg, &mut raw).expect("encode");
    let mut packed = Vec::new();
    pack_into(&raw, &mut packed);
    let (back, _) = sp
        .decode_type(ty, &Bytes::from(raw.clone()))
        .expect("decode");
    assert_eq!(back, msg, "round trip");
    println!(
        "message: 20 fields, 4 nested seats; {} bytes encoded, {} packed",
        raw.len(),
        packed.len()
    );

    let encode_pack = rate(budget, || {
        raw.clear();
        sp.encode_into(ty, black_box(&msg), &mut raw).unwrap();
        packed.clear();
        pack_into(&raw, &mut packed);
        black_box(&packed);
    });
    let input = packed.clone();
    let unpack_decode = rate(budget, || {
        let mut buf = Vec::with_capacity(input.len() * 2);
        unpack_into(black_box(&input), &mut buf).unwrap();
        let s = sp.decode_type(ty, &Bytes::from(buf)).unwrap();
        black_box(s);
    });
    println!("encode+pack   {:>12.0} msgs/s", encode_pack);
    println!("unpack+decode {:>12.0} msgs/s", unpack_decode);

    let stage = budget / 2;
    let encode = rate(stage, || {
        raw.clear();
        sp.encode_into(ty, black_box(&msg), &mut raw).unwrap();
    });
    let pack = rate(stage, || {
        packed.clear();
        pack_into(black_box(&raw), &mut packed);
    });
    let mut out = Vec::new();
    let unpack = rate(stage, || {
        out.clear();
        unpack_into(black_box(&input), &mut out).unwrap();
    });
    let shared = Bytes::from(raw.clone());
    let decode = rate(stage, || {
        black_box(sp.decode_type(ty, black_box(&shared)).unwrap());
    });
    println!("  encode      {:>12.0} msgs/s", encode);
    println!("  pack        {:>12.0} msgs/s", pack);
    println!("  unpack      {:>12.0} msgs/s", unpack);
    println!("  decode      {:>12.0} msgs/s", decode);
}
