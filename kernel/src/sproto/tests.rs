//! Compatibility and robustness tests. Byte vectors come from cloudwu/sproto's README
//! ("Wire protocol" and "0 Packing") or are derived by hand from the formats it specifies;
//! each derivation is spelled out next to the bytes.

use super::*;
use bytes::Bytes;
use proptest::prelude::*;
use std::sync::Arc;

/// The README's schemas (`Data` with the `double`/`integer(2)` fields of later versions).
const README: &str = r#"
.Person {
    name 0 : string
    age 1 : integer
    marital 2 : boolean
    children 3 : *Person
}

.Data {
    numbers 0 : *integer
    bools 1 : *boolean
    number 2 : integer
    bignumber 3 : integer
    double 4 : double
    doubles 5 : *double
    fpn 6 : integer(2)
}
"#;

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect()
}

fn readme() -> Sproto {
    Sproto::parse(README).expect("README schema")
}

fn person(name: &str, age: i64) -> Struct {
    Struct::new().with("name", name).with("age", age)
}

/// Encode, compare with the expected bytes, decode back and compare with the input.
fn check(sp: &Sproto, ty: &str, value: &Struct, expected: &str) {
    let expected = hex(expected);
    let bytes = sp.encode(ty, value).expect("encode");
    assert_eq!(bytes, expected, "encoding of {value:?}");
    let (back, used) = sp.decode(ty, &Bytes::from(bytes)).expect("decode");
    assert_eq!(used, expected.len());
    assert_eq!(&back, value);
}

#[test]
fn readme_example_1_person() {
    let alice = person("Alice", 13).with("marital", false);
    check(
        &readme(),
        "Person",
        &alice,
        "03 00  00 00  1C 00  02 00  05 00 00 00  41 6C 69 63 65",
    );
}

#[test]
fn readme_example_2_nested_struct_array() {
    let bob = person("Bob", 40).with("children", vec![person("Alice", 13), person("Carol", 5)]);
    check(
        &readme(),
        "Person",
        &bob,
        "04 00  00 00  52 00  01 00  00 00
         03 00 00 00  42 6F 62
         26 00 00 00
         0F 00 00 00  02 00  00 00  1C 00  05 00 00 00  41 6C 69 63 65
         0F 00 00 00  02 00  00 00  0C 00  05 00 00 00  43 61 72 6F 6C",
    );
}

#[test]
fn readme_example_3_int32_array() {
    let data = Struct::new().with("numbers", vec![1i64, 2, 3, 4, 5]);
    check(
        &readme(),
        "Data",
        &data,
        "01 00  00 00
         15 00 00 00  04  01 00 00 00  02 00 00 00  03 00 00 00  04 00 00 00  05 00 00 00",
    );
}

#[test]
fn readme_example_4_int64_array() {
    let big = (1i64 << 32) + 1;
    let data = Struct::new().with("numbers", vec![big, big + 1, big + 2]);
    check(
        &readme(),
        "Data",
        &data,
        "01 00  00 00
         19 00 00 00  08  01 00 00 00 01 00 00 00  02 00 00 00 01 00 00 00  03 00 00 00 01 00 00 00",
    );
}

#[test]
fn readme_example_5_boolean_array() {
    let data = Struct::new().with("bools", vec![false, true, false]);
    check(
        &readme(),
        "Data",
        &data,
        "02 00  01 00  00 00  03 00 00 00  00 01 00",
    );
}

#[test]
fn readme_example_6_integers_in_data_part() {
    let data = Struct::new()
        .with("number", 100000i64)
        .with("bignumber", -10000000000i64);
    check(
        &readme(),
        "Data",
        &data,
        "03 00  03 00  00 00  00 00
         04 00 00 00  A0 86 01 00
         08 00 00 00  00 1C F4 AB FD FF FF FF",
    );
}

#[test]
fn readme_example_7_doubles() {
    let data = Struct::new()
        .with("double", 0.01171875)
        .with("doubles", vec![0.01171875, 23.0, 4.0]);
    check(
        &readme(),
        "Data",
        &data,
        "03 00  07 00  00 00  00 00
         08 00 00 00  00 00 00 00 00 00 88 3F
         19 00 00 00  08  00 00 00 00 00 00 88 3F  00 00 00 00 00 00 37 40  00 00 00 00 00 00 10 40",
    );
}

#[test]
fn fixed_point_decimal_travels_scaled() {
    // fpn = 1.82 with precision 2 -> round(182.0) = 182, inline as (182 + 1) * 2 = 0x016E,
    // after one skip record for tags 0..=5: (6 - 1) * 2 + 1 = 0x0B.
    let data = Struct::new().with("fpn", 1.82);
    check(&readme(), "Data", &data, "02 00  0B 00  6E 01");
    // Integers are scaled too, and come back as floats, as in Lua.
    let sp = readme();
    let raw = sp.encode("Data", &Struct::new().with("fpn", 3i64)).unwrap();
    assert_eq!(raw, hex("02 00  0B 00  5A 02")); // 300 -> (300 + 1) * 2 = 0x025A
    let (back, _) = sp.decode("Data", &Bytes::from(raw)).unwrap();
    assert_eq!(back.get("fpn"), Some(&Value::Double(3.0)));
}

#[test]
fn inline_boundary_and_negative_integers() {
    let sp = readme();
    // 0x7ffe is the largest inline value; 0x7fff and negatives go to the data part.
    let enc = |n: i64| sp.encode("Data", &Struct::new().with("number", n)).unwrap();
    assert_eq!(enc(0x7ffe), hex("02 00  03 00  FE FF"));
    assert_eq!(
        enc(0x7fff),
        hex("02 00  03 00  00 00  04 00 00 00  FF 7F 00 00")
    );
    assert_eq!(
        enc(-1),
        hex("02 00  03 00  00 00  04 00 00 00  FF FF FF FF")
    );
    assert_eq!(
        enc(i64::MIN),
        hex("02 00  03 00  00 00  08 00 00 00  00 00 00 00 00 00 00 80")
    );
}

#[test]
fn empty_arrays_are_sent_and_nil_arrays_are_not() {
    let sp = readme();
    let raw = sp
        .encode("Data", &Struct::new().with("numbers", Vec::<i64>::new()))
        .unwrap();
    assert_eq!(raw, hex("01 00  00 00  00 00 00 00"));
    let (back, _) = sp.decode("Data", &Bytes::from(raw)).unwrap();
    assert_eq!(back.get("numbers"), Some(&Value::Array(vec![])));
    assert_eq!(sp.encode("Data", &Struct::new()).unwrap(), hex("00 00"));
}

#[test]
fn int_array_widens_to_64_bit_when_one_element_needs_it() {
    let sp = readme();
    let data = Struct::new().with("numbers", vec![-1i64, 1 << 40]);
    let raw = sp.encode("Data", &data).unwrap();
    assert_eq!(
        raw,
        hex("01 00  00 00  11 00 00 00  08  FF FF FF FF FF FF FF FF  00 00 00 00 00 01 00 00")
    );
}

#[test]
fn unknown_tags_are_skipped() {
    // A newer Person with field `title 7 : string` decodes with the old schema.
    let newer =
        Sproto::parse(".Person { name 0 : string  title 7 : string  age 8 : integer }").unwrap();
    let msg = Struct::new()
        .with("name", "Ann")
        .with("title", "Dr")
        .with("age", 3i64);
    let raw = newer.encode("Person", &msg).unwrap();
    let old = Sproto::parse(".Person { name 0 : string  age 8 : integer }").unwrap();
    let (back, used) = old.decode("Person", &Bytes::from(raw.clone())).unwrap();
    assert_eq!(used, raw.len());
    assert_eq!(back, Struct::new().with("name", "Ann").with("age", 3i64));
}

#[test]
fn field_order_of_a_struct_does_not_matter_but_unknown_names_do() {
    let sp = readme();
    let a = sp.encode("Person", &person("Alice", 13)).unwrap();
    let b = sp
        .encode(
            "Person",
            &Struct::new().with("age", 13i64).with("name", "Alice"),
        )
        .unwrap();
    assert_eq!(a, b);
    let e = sp
        .encode("Person", &person("A", 1).with("nick", "x"))
        .unwrap_err();
    assert!(matches!(e, EncodeError::UnknownField { .. }), "{e}");
    let e = sp
        .encode("Person", &Struct::new().with("age", "old"))
        .unwrap_err();
    assert_eq!(e.to_string(), "Person.age: expected integer, got string");
}

#[test]
fn nesting_is_bounded() {
    let sp = readme();
    let mut p = person("leaf", 0);
    for _ in 0..MAX_DEPTH {
        p = Struct::new().with("children", vec![p]);
    }
    assert!(matches!(
        sp.encode("Person", &p),
        Err(EncodeError::TooDeep(_))
    ));
}

// ---- maps ----

const MAPS: &str = r#"
.Item { id 0 : integer  name 1 : string }
.Pair { k 0 : string  v 1 : *integer }
.Bag {
    items 0 : *Item(id)
    counts 1 : *Pair()
}
"#;

#[test]
fn main_index_and_two_field_maps() {
    let sp = Sproto::parse(MAPS).unwrap();
    let item = |id: i64, name: &str| Struct::new().with("id", id).with("name", name);
    let bag = Struct::new()
        .with(
            "items",
            Value::Map(vec![
                (Value::Integer(7), item(7, "sword").into()),
                (Value::Integer(9), item(9, "shield").into()),
            ]),
        )
        .with(
            "counts",
            Value::Map(vec![(Value::from("gold"), vec![1i64, 2].into())]),
        );
    // A main-index map is an array of structs on the wire; a two-field map an array of
    // {k, v} structs. Item {id 7, name "sword"}: 2 + 2 * 2 + (4 + 5) = 0x0F bytes, its id
    // inline as (7 + 1) * 2 = 0x10; Pair {"gold", [1, 2]}: 6 + 8 + (4 + 9) = 0x1B bytes.
    let raw = sp.encode("Bag", &bag).unwrap();
    let expected = hex("02 00  00 00  00 00
         27 00 00 00
           0F 00 00 00  02 00  10 00  00 00  05 00 00 00  73 77 6F 72 64
           10 00 00 00  02 00  14 00  00 00  06 00 00 00  73 68 69 65 6C 64
         1F 00 00 00
           1B 00 00 00  02 00  00 00  00 00  04 00 00 00  67 6F 6C 64
                        09 00 00 00  04  01 00 00 00  02 00 00 00");
    assert_eq!(raw, expected);
    let (back, _) = sp.decode("Bag", &Bytes::from(raw)).unwrap();
    assert_eq!(back, bag);
    // A plain list of structs is accepted for a main-index field too.
    let list = Struct::new().with("items", vec![Value::from(item(7, "sword"))]);
    let (back, _) = sp
        .decode("Bag", &Bytes::from(sp.encode("Bag", &list).unwrap()))
        .unwrap();
    assert_eq!(
        back.get("items"),
        Some(&Value::Map(vec![(
            Value::Integer(7),
            item(7, "sword").into()
        )]))
    );
}

#[test]
fn map_entries_without_their_key_are_rejected() {
    let sp = Sproto::parse(MAPS).unwrap();
    let bad = Struct::new().with("items", vec![Value::from(Struct::new().with("name", "x"))]);
    let raw = sp.encode("Bag", &bad).unwrap();
    let e = sp.decode("Bag", &Bytes::from(raw)).unwrap_err();
    assert!(e.to_string().contains("main index"), "{e}");
}

// ---- parser ----

#[test]
fn nested_types_resolve_from_the_inside_out() {
    let sp = Sproto::parse(
        r#"
        .Outer {
            .Inner { v 0 : integer }
            .Mid {
                .Inner { w 0 : string }   # shadows Outer.Inner inside Mid
                a 0 : Inner
                b 1 : Outer.Inner
            }
            x 0 : Inner
            y 1 : Mid
        }
        .Top { z 0 : Outer.Mid.Inner }
        "#,
    )
    .unwrap();
    let names: Vec<_> = sp.types().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Outer",
            "Outer.Inner",
            "Outer.Mid",
            "Outer.Mid.Inner",
            "Top"
        ]
    );
    let ty = |t: &str, f: &str| match sp.type_by_name(t).unwrap().field(f).unwrap().ty {
        FieldType::Struct(i) => sp.types()[i].name.clone(),
        other => format!("{other:?}"),
    };
    assert_eq!(ty("Outer.Mid", "a"), "Outer.Mid.Inner");
    assert_eq!(ty("Outer.Mid", "b"), "Outer.Inner");
    assert_eq!(ty("Outer", "x"), "Outer.Inner");
    assert_eq!(ty("Top", "z"), "Outer.Mid.Inner");
}

#[test]
fn protocols_inline_types_and_response_nil() {
    let sp = Sproto::parse(
        r#"
        .Person { name 0 : string }
        foobar 1 {
            request Person
            response { ok 0 : boolean }
        }
        ping 2 { response nil }
        bye 3 {}
        "#,
    )
    .unwrap();
    let foobar = sp.protocol("foobar").unwrap();
    assert_eq!(sp.types()[foobar.request.unwrap()].name, "Person");
    assert_eq!(sp.types()[foobar.response.unwrap()].name, "foobar.response");
    let ping = sp.protocol_by_tag(2).unwrap();
    assert_eq!(
        (ping.request, ping.response, ping.confirm),
        (None, None, true)
    );
    assert!(!sp.protocol("bye").unwrap().confirm);
}

#[test]
fn builtin_types_decimals_and_binary() {
    let sp = Sproto::parse(
        ".T { a 0 : integer(3)  b 1 : binary  c 2 : double  d 3 : *integer(1)  e 4 : boolean }",
    )
    .unwrap();
    let t = sp.type_by_name("T").unwrap();
    assert_eq!(t.fields[0].decimal, Some(3));
    assert!(t.fields[1].binary && t.fields[1].ty == FieldType::String);
    assert_eq!(t.fields[2].ty, FieldType::Double);
    assert!(t.fields[3].array && t.fields[3].decimal == Some(1));
}

fn parse_err(text: &str) -> String {
    Sproto::parse(text).unwrap_err().to_string()
}

#[test]
fn parse_errors_name_the_line_and_reason() {
    assert_eq!(
        parse_err(".A {\n  a 0 : integer\n  b 1 : Foo\n}"),
        "line 3: undefined type Foo in type A"
    );
    assert_eq!(
        parse_err(".A {\n a 0 : integer\n a 1 : string }"),
        "line 3: redefine field a in type A (first at line 2)"
    );
    assert_eq!(
        parse_err(".A { a 0 : integer\n b 0 : string }"),
        "line 2: redefine tag 0 in type A (field a)"
    );
    assert_eq!(parse_err(".A {}\n.A {}"), "line 2: redefined type A");
    assert_eq!(
        parse_err("a 1 {}\nb 1 {}"),
        "line 2: redefined protocol tag 1 at b (already a)"
    );
    assert_eq!(parse_err("a 1 {}\na 2 {}"), "line 2: redefined protocol a");
    assert_eq!(
        parse_err("p 1 {\n request X\n}"),
        "line 2: undefined request type X in protocol p"
    );
    assert_eq!(
        parse_err("p 1 { request {}\n request {} }"),
        "line 2: redefine request in protocol p"
    );
    assert_eq!(
        parse_err(".A {\n a 0 integer }"),
        "line 2: expected ':' after the tag of field a, found 'integer'"
    );
    assert_eq!(
        parse_err(".A {\n a 0 : integer"),
        "line 1: type A is missing its '}'"
    );
    assert_eq!(
        parse_err(".A { a 32767 : integer }"),
        "line 1: field tag 32767 too large (max 32766)"
    );
    assert_eq!(
        parse_err(".A { a 0 : string(2) }"),
        "line 1: a: a precision (N) only applies to integer"
    );
    assert_eq!(
        parse_err(".A { a 0 : integer(10) }"),
        "line 1: a: precision 10 too large (max 9)"
    );
    assert_eq!(
        parse_err(".B { x 0 : integer }\n.A { a 0 : *B(y) }"),
        "line 2: a: B has no field y to use as main index"
    );
    assert_eq!(
        parse_err(".B { x 0 : integer }\n.A { a 0 : B(x) }"),
        "line 2: a: a main index (x) needs an array of structs"
    );
    assert_eq!(
        parse_err(".B { x 0 : integer y 1 : integer z 2 : integer }\n.A { a 0 : *B() }"),
        "line 2: a: *B() needs B to have exactly two fields"
    );
    assert_eq!(
        parse_err(".A { a 0 : integer } $"),
        "line 1: unexpected character '$'"
    );
    assert_eq!(
        parse_err(".string { }"),
        "line 1: type name string is a builtin type"
    );
    assert_eq!(
        parse_err(".A.B { }"),
        "line 1: type name 'A.B' must not contain '.'"
    );
}

#[test]
fn comments_blank_lines_and_crlf_are_whitespace() {
    let sp =
        Sproto::parse("# header\r\n.A {\t# c\r\n  a 0 : integer # trailing\r\n}\r\n# end").unwrap();
    assert_eq!(sp.types().len(), 1);
    assert_eq!(Sproto::parse("").unwrap().to_bundle(), [0, 0]);
}

// ---- bundles ----

#[test]
fn bundle_matches_cloudwu_bytes_for_a_small_schema() {
    // What cloudwu's sprotoparser.parse returns for this schema, derived by hand from its
    // packer (packfield / packtype / packproto / packgroup):
    // * types are numbered in sorted name order: A = 0, B = 1;
    // * a field is a struct of 4 records (+1 array, +1 key, +1 map): name (data part),
    //   buildin or a skip `01 00`, extra/type index or a skip, tag, [array, key, map],
    //   each inline value v written as (v + 1) * 2;
    // * `response nil` adds a skip for the response and a `confirm = true` record.
    const SCHEMA: &str = r#"
        .A { n 0 : integer(2)  b 1 : binary }
        .B { a 0 : *A  m 3 : *A(n) }
        p 5 { request B  response nil }
    "#;
    let expected = hex("02 00  00 00  00 00
         78 00 00 00
           35 00 00 00
             02 00  00 00  00 00  01 00 00 00  41
             26 00 00 00
               0F 00 00 00  04 00  00 00  02 00  06 00  02 00  01 00 00 00  6E
               0F 00 00 00  04 00  00 00  06 00  04 00  04 00  01 00 00 00  62
           3B 00 00 00
             02 00  00 00  00 00  01 00 00 00  42
             2C 00 00 00
               11 00 00 00  05 00  00 00  01 00  02 00  02 00  04 00  01 00 00 00  61
               13 00 00 00  06 00  00 00  01 00  02 00  08 00  04 00  02 00  01 00 00 00  6D
         15 00 00 00
           11 00 00 00  05 00  00 00  0C 00  04 00  01 00  04 00  01 00 00 00  70");
    let sp = Sproto::parse(SCHEMA).unwrap();
    assert_eq!(sp.to_bundle(), expected);
    let loaded = Sproto::from_bundle(&expected).unwrap();
    assert_eq!(loaded, sp);
    let p = loaded.protocol("p").unwrap();
    assert_eq!(
        (p.tag, p.request, p.response, p.confirm),
        (5, Some(1), None, true)
    );
    let m = loaded.type_by_name("B").unwrap().field("m").unwrap();
    assert_eq!((m.key, m.array, m.map), (Some(0), true, false));
}

#[test]
fn bundle_round_trips_every_feature() {
    for text in [README, MAPS, GAME_C2S, GAME_S2C, PROPTEST_SCHEMA] {
        let sp = Sproto::parse(text).unwrap();
        let bin = sp.to_bundle();
        let back = Sproto::from_bundle(&bin).unwrap();
        assert_eq!(back, sp);
        assert_eq!(back.to_bundle(), bin);
    }
}

#[test]
fn bundle_reader_accepts_merged_skip_records() {
    // cloudwu writes `response nil` without a request as two one-tag skips; a generic
    // encoder would write one two-tag skip (03 00). Both must load.
    let sp = Sproto::parse(".A { x 0 : integer }\nping 1 { response nil }").unwrap();
    let bin = sp.to_bundle();
    // The protocol list holds one element: fn = 5, name, tag 1, skip, skip, confirm, "ping".
    let written =
        hex("14 00 00 00  05 00  00 00  04 00  01 00  01 00  04 00  04 00 00 00  70 69 6E 67");
    assert!(bin.ends_with(&written), "{bin:02X?}");
    let merged = hex("04 00  00 00  04 00  03 00  04 00  04 00 00 00  70 69 6E 67");
    let mut alt = bin[..bin.len() - written.len() - 4].to_vec();
    alt.extend_from_slice(&(merged.len() as u32 + 4).to_le_bytes());
    alt.extend_from_slice(&(merged.len() as u32).to_le_bytes());
    alt.extend_from_slice(&merged);
    let loaded = Sproto::from_bundle(&alt).unwrap();
    assert_eq!(loaded, sp);
}

#[test]
fn malformed_bundles_are_errors() {
    let bin = Sproto::parse(GAME_C2S).unwrap().to_bundle();
    for cut in [0, 1, 2, 5, bin.len() / 2, bin.len() - 1] {
        assert!(Sproto::from_bundle(&bin[..cut]).is_err(), "prefix {cut}");
    }
    assert!(Sproto::from_bundle(&[]).is_err());
    // Type index out of range: field `a : *A` of the derived schema pointing at type 9.
    let sp = Sproto::parse(".A { a 0 : *A }").unwrap();
    let mut bin = sp.to_bundle();
    let at = bin.windows(4).position(|w| w == [1, 0, 2, 0]).unwrap();
    bin[at + 2] = 20; // (9 + 1) * 2
    assert!(Sproto::from_bundle(&bin)
        .unwrap_err()
        .0
        .contains("invalid type"));
}

// ---- malformed messages ----

#[test]
fn truncated_messages_are_errors() {
    let sp = readme();
    let bob = person("Bob", 40).with("children", vec![person("Alice", 13), person("Carol", 5)]);
    let raw = sp.encode("Person", &bob).unwrap();
    for cut in 0..raw.len() {
        let r = sp.decode("Person", &Bytes::copy_from_slice(&raw[..cut]));
        assert!(r.is_err(), "prefix of {cut} bytes decoded: {r:?}");
    }
}

#[test]
fn bad_sizes_are_errors() {
    let sp = readme();
    let decode = |s: &str| sp.decode("Data", &Bytes::from(hex(s)));
    // number (tag 2) with a 3-byte data part
    assert!(decode("02 00  03 00  00 00  03 00 00 00  01 02 03").is_err());
    // numbers with element size 5
    assert!(decode("01 00  00 00  06 00 00 00  05 01 02 03 04 05").is_err());
    // numbers with a body that is not a multiple of 4
    assert!(decode("01 00  00 00  04 00 00 00  04 01 02 03").is_err());
    // bools (tag 1) inline
    assert!(decode("02 00  01 00  04 00").is_err());
    // a data length far beyond the input
    assert!(decode("01 00  00 00  FF FF FF 7F  04").is_err());
    // a field count far beyond the input
    assert!(decode("FF FF  00 00").is_err());
    // a nested struct with trailing bytes inside its length
    let sp = readme();
    let bad = hex("01 00  06 00  00 00  07 00 00 00  03 00 00 00 00 00 00");
    assert!(sp.decode("Person", &Bytes::from(bad)).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let sp = prop_schema();
        for ty in sp.types() {
            let _ = sp.decode(&ty.name, &Bytes::from(data.clone()));
        }
        if let Ok(raw) = unpack(&data) {
            prop_assert!(raw.len() <= data.len() * 8);
            let _ = sp.decode("All", &Bytes::from(raw));
        }
        let _ = Sproto::from_bundle(&data);
    }

    #[test]
    fn pack_unpack_round_trips(data in proptest::collection::vec(
        prop_oneof![3 => Just(0u8), 1 => any::<u8>()], 0..600)) {
        let mut padded = data.clone();
        padded.resize(data.len().div_ceil(8) * 8, 0);
        prop_assert_eq!(unpack(&pack(&data)).unwrap(), padded);
    }

    #[test]
    fn messages_round_trip_through_pack(msg in all_strategy()) {
        let sp = prop_schema();
        let raw = sp.encode("All", &msg).unwrap();
        let packed = pack(&raw);
        let unpacked = unpack(&packed).unwrap();
        prop_assert_eq!(&unpacked[..raw.len()], &raw[..]);
        let (back, used) = sp.decode("All", &Bytes::from(unpacked)).unwrap();
        prop_assert_eq!(used, raw.len());
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn truncated_random_messages_are_errors(msg in all_strategy(), cut in any::<prop::sample::Index>()) {
        let sp = prop_schema();
        let raw = sp.encode("All", &msg).unwrap();
        prop_assume!(raw.len() > 2);
        let cut = cut.index(raw.len());
        prop_assert!(sp.decode("All", &Bytes::copy_from_slice(&raw[..cut])).is_err());
    }
}

const PROPTEST_SCHEMA: &str = r#"
.Inner {
    id 0 : integer
    name 1 : string
    score 3 : double
    flags 4 : *boolean
}
.Pair { key 0 : string  value 1 : integer }
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

fn prop_schema() -> Sproto {
    Sproto::parse(PROPTEST_SCHEMA).unwrap()
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..0x7fff, any::<i32>().prop_map(i64::from), any::<i64>()]
}

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        -1e6f64..1e6,
        any::<f64>().prop_filter("finite", |x| x.is_finite())
    ]
}

/// A fixed-point value that survives `round(x * 10^p) / 10^p` exactly.
fn fixed(p: i32) -> impl Strategy<Value = Value> {
    (-(1i64 << 40)..(1i64 << 40)).prop_map(move |n| Value::Double(n as f64 / 10f64.powi(p)))
}

fn string() -> impl Strategy<Value = Value> {
    proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::from)
}

fn inner(with_id: bool) -> impl Strategy<Value = Struct> {
    (
        proptest::option::of(int()),
        proptest::option::of(string()),
        proptest::option::of(double()),
        proptest::option::of(proptest::collection::vec(any::<bool>(), 0..5)),
    )
        .prop_map(move |(id, name, score, flags)| {
            let mut s = Struct::new();
            if let Some(id) = id.or(with_id.then_some(1)) {
                s.set("id", id);
            }
            if let Some(v) = name {
                s.set("name", v);
            }
            if let Some(v) = score {
                s.set("score", v);
            }
            if let Some(v) = flags {
                s.set("flags", v);
            }
            s
        })
}

fn all_strategy() -> impl Strategy<Value = Struct> {
    use proptest::collection::vec;
    use proptest::option::of;
    let scalars = (
        of(int()),
        of(any::<bool>()),
        of(string()),
        of(string()),
        of(double()),
        of(fixed(3)),
        of(inner(false)),
        of(vec(int(), 0..6)),
    );
    let arrays = (
        of(vec(any::<bool>(), 0..6)),
        of(vec(string(), 0..4)),
        of(vec(double(), 0..4)),
        of(vec(inner(false), 0..3)),
        of(vec(inner(true), 0..3)),
        of(vec((string(), int()), 0..3)),
        of(vec(fixed(2), 0..4)),
        of(int()),
    );
    (scalars, arrays).prop_map(
        |((i, b, s, bin, d, fp, inn, ints), (bools, strs, dbls, inners, byid, kv, fps, far))| {
            let mut m = Struct::new();
            let mut put = |name: &'static str, v: Option<Value>| {
                if let Some(v) = v {
                    m.set(name, v);
                }
            };
            put("i", i.map(Value::from));
            put("b", b.map(Value::from));
            put("s", s);
            put("bin", bin);
            put("d", d.map(Value::from));
            put("fp", fp);
            put("inner", inn.map(Value::from));
            put("ints", ints.map(Value::from));
            put("bools", bools.map(Value::from));
            put("strs", strs.map(Value::Array));
            put("dbls", dbls.map(Value::from));
            put("inners", inners.map(Value::from));
            put(
                "byid",
                byid.map(|l| {
                    Value::Map(
                        l.into_iter()
                            .map(|s| (s.get("id").cloned().expect("id"), s.into()))
                            .collect(),
                    )
                }),
            );
            put(
                "kv",
                kv.map(|l| Value::Map(l.into_iter().map(|(k, v)| (k, v.into())).collect())),
            );
            put("fps", fps.map(Value::Array));
            put("far", far.map(Value::from));
            m
        },
    )
}

// ---- RPC ----

const RPC: &str = r#"
.package { type 0 : integer  session 1 : integer  ud 2 : integer }
.Person { name 0 : string  age 1 : integer }
greet 1 {
    request Person
    response { text 0 : string }
}
ping 2 { response nil }
bye 3 {}
"#;

#[test]
fn rpc_request_response_round_trip() {
    let sp = Arc::new(Sproto::parse(RPC).unwrap());
    let mut client = rpc::Host::new(sp.clone(), "package").unwrap();
    let mut server = rpc::Host::new(sp.clone(), "package").unwrap();

    let packet = client
        .attach(sp.clone())
        .request(
            "greet",
            Some(&person("Ann", 7)),
            Some(42),
            Some(Value::Integer(9)),
        )
        .unwrap();
    // Header {type = 1, session = 42, ud = 9} then Person, 0-packed:
    // raw 04 00 04 00 56 00 14 00 ... -> derived by encoding each part.
    let raw = hex("03 00  04 00  56 00  14 00   02 00  00 00  10 00  03 00 00 00  41 6E 6E");
    assert_eq!(packet, pack(&raw));
    assert_eq!(client.pending(), 1);

    let rpc::Message::Request(req) = server.dispatch(&packet).unwrap() else {
        panic!("expected a request");
    };
    assert_eq!(
        (req.name.as_str(), req.tag, req.session),
        ("greet", 1, Some(42))
    );
    assert_eq!(req.args, Some(person("Ann", 7)));
    assert_eq!(req.ud, Some(Value::Integer(9)));
    let reply = req
        .responder
        .unwrap()
        .encode(Some(&Struct::new().with("text", "hi Ann")), None)
        .unwrap();

    let rpc::Message::Response(resp) = client.dispatch(&reply).unwrap() else {
        panic!("expected a response");
    };
    assert_eq!(resp.session, 42);
    assert_eq!(resp.args, Some(Struct::new().with("text", "hi Ann")));
    assert_eq!(client.pending(), 0);
    assert_eq!(
        client.dispatch(&reply).unwrap_err(),
        RpcError::UnknownSession(42)
    );
}

#[test]
fn rpc_without_request_or_response_types() {
    let sp = Arc::new(Sproto::parse(RPC).unwrap());
    let mut a = rpc::Host::new(sp.clone(), "package").unwrap();
    let mut b = rpc::Host::new(sp.clone(), "package").unwrap();
    let packet = a.request(&sp, "ping", None, Some(1), None).unwrap();
    let rpc::Message::Request(req) = b.dispatch(&packet).unwrap() else {
        panic!()
    };
    assert_eq!((req.name.as_str(), req.args.is_none()), ("ping", true));
    let reply = req.responder.unwrap().encode(None, None).unwrap();
    let rpc::Message::Response(resp) = a.dispatch(&reply).unwrap() else {
        panic!()
    };
    assert_eq!((resp.session, resp.args), (1, None));
    // No session: fire and forget, no responder.
    let packet = a.request(&sp, "bye", None, None, None).unwrap();
    let rpc::Message::Request(req) = b.dispatch(&packet).unwrap() else {
        panic!()
    };
    assert!(req.responder.is_none() && req.session.is_none());
    assert_eq!(
        a.request(&sp, "nope", None, None, None).unwrap_err(),
        RpcError::UnknownProtocol("nope".into())
    );
}

// ---- loader and CLI ----

#[test]
fn loader_slots_share_one_schema() {
    let sp = Arc::new(readme());
    loader::save(15, sp.clone()).unwrap();
    assert!(Arc::ptr_eq(&loader::load(15).unwrap().unwrap(), &sp));
    assert_eq!(loader::save(16, sp.clone()).unwrap_err(), SlotError(16));
    assert_eq!(loader::load(-1).unwrap_err(), SlotError(-1));
}

#[test]
fn cli_check_and_dump() {
    let dir = std::env::temp_dir().join(format!("cirrus-sproto-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.sproto");
    std::fs::write(&good, MAPS).unwrap();
    let out = cli_check(&good).unwrap();
    assert!(
        out.contains("good.sproto: ok (3 types, 0 protocols, "),
        "{out}"
    );
    let dump = cli_dump(&good).unwrap();
    assert!(
        dump.contains("    items 0 : *Item(id)\n    counts 1 : *Pair()\n"),
        "{dump}"
    );
    let bin = dir.join("good.spb");
    std::fs::write(&bin, Sproto::parse(MAPS).unwrap().to_bundle()).unwrap();
    assert_eq!(cli_dump(&bin).unwrap(), dump);
    let bad = dir.join("bad.sproto");
    std::fs::write(&bad, ".A {\n  a 0 : Nope\n}\n").unwrap();
    let e = cli_check(&bad).unwrap_err().to_string();
    assert!(
        e.ends_with("bad.sproto: line 2: undefined type Nope in type A"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- the game's client schemas ----

const GAME_C2S: &str = include_str!("../../../sproto/proto.c2s.sproto");
const GAME_S2C: &str = include_str!("../../../sproto/proto.s2c.sproto");

#[test]
fn game_schemas_parse_and_share_identical_types() {
    let c2s = Sproto::parse(GAME_C2S).unwrap();
    let s2c = Sproto::parse(GAME_S2C).unwrap();
    for sp in [&c2s, &s2c] {
        let pkg = sp.type_by_name("package").expect("package header");
        let names: Vec<_> = pkg.fields.iter().map(|f| (f.name, f.tag)).collect();
        assert_eq!(names, [("type", 0), ("session", 1), ("ud", 2)]);
    }
    for name in [
        "heartbeat",
        "auth_challenge",
        "auth_proof",
        "login",
        "visitor_login",
        "reconnect",
        "player_info",
        "room_list",
        "room_enter",
        "room_leave",
        "desk_join",
        "desk_ready",
        "desk_leave",
        "register",
        "logout",
        "bid_banker",
        "bet",
        "open_cards",
        "chat",
        "chat_history",
    ] {
        assert!(c2s.protocol(name).is_some(), "c2s lacks {name}");
    }
    assert!(c2s.protocol("play_cards").is_none());
    // Every response starts with `code` (tag 0): an error answer to any request, even one the
    // server does not know, decodes on the client as that request's response.
    for p in c2s.protocols() {
        if let Some(r) = p.response {
            let t = &c2s.types()[r];
            let f = t.fields.iter().find(|f| f.tag == 0);
            assert_eq!(f.map(|f| f.name), Some("code"), "{} response", p.name);
            assert_eq!(
                f.unwrap().ty,
                FieldType::Integer,
                "{} response code",
                p.name
            );
        }
    }
    for name in [
        "seat_state",
        "game_start",
        "desk_phase",
        "deal_card",
        "cards_open",
        "game_end",
        "chat_message",
        "kick",
        "queue_wait",
    ] {
        assert!(s2c.protocol(name).is_some(), "s2c lacks {name}");
    }
    // Types defined in both files must stay identical, or the two sides disagree.
    let mut shared = 0;
    for t in c2s.types() {
        if let Some(u) = s2c.type_by_name(&t.name) {
            let shape = |sp: &Sproto, t: &Type| dump_type(sp, t);
            assert_eq!(shape(&c2s, t), shape(&s2c, u), "type {} differs", t.name);
            shared += 1;
        }
    }
    assert!(
        shared >= 6,
        "expected package, Player, Seat, SeatResult, Room and ChatMessage in both files"
    );
}

fn dump_type(sp: &Sproto, t: &Type) -> Vec<String> {
    t.fields
        .iter()
        .map(|f| {
            let ty = match f.ty {
                FieldType::Struct(i) => sp.types()[i].name.clone(),
                other => format!("{other:?}"),
            };
            format!(
                "{} {} {} {} {:?} {:?} {}",
                f.name, f.tag, ty, f.array, f.decimal, f.key, f.binary
            )
        })
        .collect()
}

#[test]
fn game_login_round_trip() {
    let sp = Arc::new(Sproto::parse(GAME_C2S).unwrap());
    let mut client = rpc::Host::new(sp.clone(), "package").unwrap();
    let mut server = rpc::Host::new(sp.clone(), "package").unwrap();
    let args = Struct::new()
        .with("device_id", "3f2a-device")
        .with("platform", "android")
        .with("version", "1.4.2");
    let packet = client
        .request(&sp, "visitor_login", Some(&args), Some(1), None)
        .unwrap();
    let rpc::Message::Request(req) = server.dispatch(&packet).unwrap() else {
        panic!()
    };
    assert_eq!(req.args.as_ref(), Some(&args));
    let player = Struct::new()
        .with("uid", 100_001i64)
        .with("nickname", "guest_100001")
        .with("gold", 5000i64);
    let reply = Struct::new()
        .with("code", 0i64)
        .with("uid", 100_001i64)
        .with("token", "t0k3n")
        .with("player", player);
    let packet = req.responder.unwrap().encode(Some(&reply), None).unwrap();
    let rpc::Message::Response(resp) = client.dispatch(&packet).unwrap() else {
        panic!()
    };
    assert_eq!(resp.args, Some(reply));
}

// ---- Lua ----

/// A Lua state with `sproto.core` preloaded and `package.path` at the repo's lualib.
fn lua_state() -> mlua::Lua {
    let lua = mlua::Lua::new();
    let package: mlua::Table = lua.globals().get("package").unwrap();
    let preload: mlua::Table = package.get("preload").unwrap();
    preload
        .set(
            "sproto.core",
            lua.create_function(|lua, ()| lua::open_core(lua)).unwrap(),
        )
        .unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    package.set("path", format!("{root}/lualib/?.lua")).unwrap();
    lua.globals().set("REPO_ROOT", root).unwrap();
    lua
}

fn run_lua_file(name: &str) {
    let path = format!("{}/../tests/sproto/{name}", env!("CARGO_MANIFEST_DIR"));
    let code = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let lua = lua_state();
    if let Err(e) = lua.load(code).set_name(format!("@{path}")).exec() {
        panic!("{name} failed:\n{e}");
    }
}

#[test]
fn lua_api() {
    run_lua_file("test_sproto.lua");
}

#[test]
fn lua_rpc_host_attach_dispatch() {
    run_lua_file("test_rpc.lua");
}

#[test]
fn lua_and_rust_agree_on_bytes() {
    let lua = lua_state();
    let bin: mlua::LuaString = lua
        .load(r#"return require("sprotoparser").parse(...)"#)
        .call(README)
        .unwrap();
    assert_eq!(&*bin.as_bytes(), &readme().to_bundle()[..]);
    let encoded: mlua::LuaString = lua
        .load(
            r#"
            local sp = require("sproto").parse(...)
            return sp:encode("Person", { name = "Bob", age = 40,
                children = { { name = "Alice", age = 13 }, { name = "Carol", age = 5 } } })
            "#,
        )
        .call(README)
        .unwrap();
    let bob = person("Bob", 40).with("children", vec![person("Alice", 13), person("Carol", 5)]);
    assert_eq!(
        &*encoded.as_bytes(),
        &readme().encode("Person", &bob).unwrap()[..]
    );
}

#[test]
fn sprotoloader_shares_across_lua_states() {
    let a = lua_state();
    a.load(r#"require("sprotoloader").save(require("sprotoparser").parse(...), 3)"#)
        .call::<()>(README)
        .unwrap();
    let b = lua_state();
    let age: i64 = b
        .load(
            r#"
            local sp = require("sprotoloader").load(3)
            local t = sp:decode("Person", sp:encode("Person", { name = "x", age = 77 }))
            return t.age
            "#,
        )
        .call(())
        .unwrap();
    assert_eq!(age, 77);
    let sa = loader::load(3).unwrap().unwrap();
    let sb = loader::load(3).unwrap().unwrap();
    assert!(Arc::ptr_eq(&sa, &sb));
}
