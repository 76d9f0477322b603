//! Throughput of skynet.pack / skynet.unpack. Run with
//! `cargo bench -p cirrus --bench seri_bench`; prints ops/s, asserts nothing.

use cirrus::lua::seri::{self, STable, SValue};
use mlua::{Lua, MultiValue};
use std::hint::black_box;
use std::time::Instant;

fn rate(name: &str, iters: u32, mut f: impl FnMut()) {
    for _ in 0..iters / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{name:<32} {:>12.0} ops/s {:>10.1} ns/op",
        iters as f64 / secs,
        secs * 1e9 / iters as f64
    );
}

fn main() {
    let lua = Lua::new();
    let messages = [
        (
            "typical",
            r#"return "ping", 42, {a = 1, b = "x", c = {1, 2, 3}}"#,
            500_000,
        ),
        (
            "100 records",
            r#"local t = {} for i = 1, 100 do t[i] = {id = i, name = "n" .. i, v = i * 1.5} end
               return "bulk", t"#,
            5_000,
        ),
    ];
    for (name, chunk, n) in messages {
        let msg: MultiValue = lua.load(chunk).eval().unwrap();
        let bytes = seri::pack(&msg).unwrap();
        let tree = seri::unpack_svalues(&bytes).unwrap();
        println!("{name}: {} bytes", bytes.len());
        rate("  pack (Lua values)", n, || {
            black_box(seri::pack(black_box(&msg)).unwrap());
        });
        rate("  unpack (to Lua)", n, || {
            black_box(seri::unpack(&lua, black_box(&bytes)).unwrap());
        });
        rate("  pack_svalues", n, || {
            black_box(seri::pack_svalues(black_box(&tree)));
        });
        rate("  unpack_svalues", n, || {
            black_box(seri::unpack_svalues(black_box(&bytes)).unwrap());
        });
    }
    // The typical message written directly, without a tree.
    rate("Writer (typical)", 500_000, || {
        let mut w = seri::Writer::with_capacity(32);
        w.string(b"ping");
        w.integer(42);
        w.table_begin(0);
        w.string(b"a");
        w.integer(1);
        w.string(b"b");
        w.string(b"x");
        w.string(b"c");
        w.value(&SValue::Table(STable {
            array: vec![SValue::Int(1), SValue::Int(2), SValue::Int(3)],
            hash: vec![],
        }));
        w.table_end();
        black_box(w.finish());
    });
}
