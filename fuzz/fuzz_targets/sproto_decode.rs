//! Arbitrary bytes against a fixed schema: decode and unpack must never panic, and whatever
//! decodes must re-encode and decode again (the codec accepts its own output).
//!
//! Input: first byte selects the type, the rest is the message (raw, and also unpacked).

#![no_main]

use bytes::Bytes;
use cirrus::sproto::{pack, unpack, Sproto};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const SCHEMA: &str = r#"
.Inner {
    id 0 : integer
    name 1 : string
    score 3 : double
    flags 4 : *boolean
    child 5 : Inner
}
.Pair { key 0 : string  value 1 : *integer }
.All {
    i 0 : integer
    b 1 : boolean
    s 2 : string
    bin 3 : binary
    d 5 : double
    fp 6 : integer(3)
    inner 7 : Inner
    ints 8 : *integer
    bools 9 : *boolean
    strs 10 : *string
    dbls 11 : *double
    inners 12 : *Inner
    byid 13 : *Inner(id)
    kv 14 : *Pair()
    fps 15 : *integer(2)
    far 400 : integer
}
"#;

fn schema() -> &'static Sproto {
    static SP: OnceLock<Sproto> = OnceLock::new();
    SP.get_or_init(|| Sproto::parse(SCHEMA).expect("fuzz schema"))
}

fn check(sp: &Sproto, ty: usize, data: Bytes) {
    let Ok((msg, used)) = sp.decode_type(ty, &data) else {
        return;
    };
    assert!(used <= data.len());
    let mut again = Vec::new();
    sp.encode_into(ty, &msg, &mut again)
        .expect("a decoded message re-encodes");
    let (back, used) = sp
        .decode_type(ty, &Bytes::from(again.clone()))
        .expect("our own encoding decodes");
    assert_eq!(used, again.len());
    assert_eq!(back.len(), msg.len());
}

fuzz_target!(|data: &[u8]| {
    let Some((&select, body)) = data.split_first() else {
        return;
    };
    let sp = schema();
    let ty = usize::from(select) % sp.types().len();
    check(sp, ty, Bytes::copy_from_slice(body));
    if let Ok(raw) = unpack(body) {
        assert!(raw.len() <= body.len() * 8);
        let mut padded = raw.clone();
        padded.resize(raw.len().div_ceil(8) * 8, 0);
        assert_eq!(unpack(&pack(&raw)).expect("own packing unpacks"), padded);
        check(sp, ty, Bytes::from(raw));
    }
});
