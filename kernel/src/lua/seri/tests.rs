//! Expected bytes are derived by hand from lua-seri.c's format: header `type | cookie << 3` with
//! nil 0, boolean 1, number 2, userdata 3, short string 4, long string 5, table 6.

use super::*;
use mlua::{Function, Lua, Table};
use std::time::{Duration, Instant};

fn lua() -> Lua {
    Lua::new()
}

/// Packs the values a Lua chunk returns.
fn lpack(lua: &Lua, chunk: &str) -> Vec<u8> {
    let vals: MultiValue = lua.load(chunk).eval().unwrap();
    pack(&vals).unwrap()
}

fn lpack_err(lua: &Lua, chunk: &str) -> String {
    let vals: MultiValue = lua.load(chunk).eval().unwrap();
    pack(&vals).unwrap_err().to_string()
}

fn int_bytes(v: i64) -> Vec<u8> {
    pack_slice(&[Value::Integer(v)]).unwrap()
}

fn s(text: &str) -> SValue {
    SValue::Str(Bytes::copy_from_slice(text.as_bytes()))
}

#[test]
fn integer_width_boundaries() {
    let cases: &[(i64, &[u8])] = &[
        (0, &[0x02]),                                           // ZERO: 2|0<<3
        (1, &[0x0A, 0x01]),                                     // BYTE: 2|1<<3
        (255, &[0x0A, 0xFF]),                                   // largest BYTE
        (256, &[0x12, 0x00, 0x01]),                             // WORD: 2|2<<3
        (65535, &[0x12, 0xFF, 0xFF]),                           // largest WORD
        (65536, &[0x22, 0x00, 0x00, 0x01, 0x00]),               // DWORD: 2|4<<3
        (i32::MAX as i64, &[0x22, 0xFF, 0xFF, 0xFF, 0x7F]),     // largest DWORD
        (1 << 31, &[0x32, 0x00, 0x00, 0x00, 0x80, 0, 0, 0, 0]), // QWORD: 2|6<<3
        (-1, &[0x22, 0xFF, 0xFF, 0xFF, 0xFF]),                  // negatives are DWORD
        (i32::MIN as i64, &[0x22, 0x00, 0x00, 0x00, 0x80]),     // smallest DWORD
        (
            i32::MIN as i64 - 1,
            &[0x32, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF],
        ), // QWORD
        (i64::MIN, &[0x32, 0, 0, 0, 0, 0, 0, 0, 0x80]),
        (
            i64::MAX,
            &[0x32, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        ),
    ];
    let lua = lua();
    for &(v, want) in cases {
        assert_eq!(int_bytes(v), want, "integer {v}");
        assert_eq!(
            lpack(&lua, &format!("return math.tointeger('{v}')")),
            want,
            "Lua integer {v}"
        );
        assert_eq!(pack_svalues(&[SValue::Int(v)]), want, "SValue integer {v}");
        let back = unpack(&lua, want).unwrap();
        assert_eq!(back.len(), 1);
        assert!(matches!(back[0], Value::Integer(x) if x == v), "unpack {v}");
        assert_eq!(unpack_svalues(want).unwrap(), vec![SValue::Int(v)]);
    }
}

#[test]
fn reals() {
    let lua = lua();
    // REAL header 2|8<<3 = 0x42, then the f64 bits little-endian. 1.5 = 0x3FF8000000000000.
    assert_eq!(
        lpack(&lua, "return 1.5"),
        [0x42, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F]
    );
    // An integral float stays a float: 1.0 = 0x3FF0000000000000.
    assert_eq!(
        lpack(&lua, "return 1.0"),
        [0x42, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F]
    );
    // -0.0 keeps its sign bit.
    assert_eq!(
        lpack(&lua, "return -0.0"),
        [0x42, 0, 0, 0, 0, 0, 0, 0, 0x80]
    );
    // -2.5 = 0xC004000000000000.
    assert_eq!(
        pack_svalues(&[SValue::Real(-2.5)]),
        [0x42, 0, 0, 0, 0, 0, 0, 0x04, 0xC0]
    );
    let nan = unpack_svalues(&lpack(&lua, "return 0/0")).unwrap();
    assert!(matches!(nan[..], [SValue::Real(f)] if f.is_nan()));
    let back = unpack(&lua, &[0x42, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F]).unwrap();
    assert!(
        matches!(back[0], Value::Number(f) if f == 1.0),
        "float subtype survives"
    );
}

#[test]
fn nil_booleans_pointer() {
    let lua = lua();
    // nil 0; false 1|0<<3; true 1|1<<3.
    assert_eq!(lpack(&lua, "return nil, false, true"), [0x00, 0x01, 0x09]);
    let p = Value::LightUserData(LightUserData(0x1122_3344_5566_7788usize as *mut _));
    // USERDATA 3, then the pointer's 8 bytes little-endian.
    let want = [0x03, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11];
    assert_eq!(pack_slice(&[p]).unwrap(), want);
    assert_eq!(pack_svalues(&[SValue::Ptr(0x1122_3344_5566_7788)]), want);
    let back = unpack(&lua, &want).unwrap();
    assert!(
        matches!(back[0], Value::LightUserData(LightUserData(q)) if q as usize == 0x1122_3344_5566_7788)
    );
    assert_eq!(
        unpack_svalues(&want).unwrap(),
        vec![SValue::Ptr(0x1122_3344_5566_7788)]
    );
    // Decoding follows lua-seri.c: any non-zero boolean cookie is true, a nil's cookie is ignored.
    assert_eq!(
        unpack_svalues(&[0x11, 0xF8]).unwrap(),
        vec![SValue::Bool(true), SValue::Nil]
    );
}

#[test]
fn strings() {
    let lua = lua();
    let check = |len: usize, header: &[u8]| {
        let body: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let mut want = header.to_vec();
        want.extend_from_slice(&body);
        let v = Value::String(lua.create_string(&body).unwrap());
        assert_eq!(pack_slice(&[v]).unwrap(), want, "string of {len}");
        let sv = SValue::Str(Bytes::from(body.clone()));
        assert_eq!(pack_svalues(std::slice::from_ref(&sv)), want);
        assert_eq!(unpack_svalues(&want).unwrap(), vec![sv]);
        let back = unpack(&lua, &want).unwrap();
        assert!(matches!(&back[0], Value::String(x) if *x.as_bytes() == body[..]));
    };
    check(0, &[0x04]); // SHORT_STRING 4|0<<3, no body
    check(1, &[0x0C]); // 4|1<<3
    check(31, &[0xFC]); // 4|31<<3 = 4|0xF8, the longest short string
    check(32, &[0x15, 0x20, 0x00]); // LONG_STRING 5|2<<3, u16 length
    check(65535, &[0x15, 0xFF, 0xFF]); // longest u16 length
    check(65536, &[0x25, 0x00, 0x00, 0x01, 0x00]); // 5|4<<3, u32 length
                                                   // Bytes, not UTF-8: embedded zeros and invalid sequences pass through.
    assert_eq!(lpack(&lua, r#"return "a\0\255""#), [0x1C, b'a', 0x00, 0xFF]);
}

#[test]
fn tables_array_cookie() {
    let lua = lua();
    // {} : TABLE 6|0<<3, terminator.
    assert_eq!(lpack(&lua, "return {}"), [0x06, 0x00]);
    // {1,2,3}: 6|3<<3 = 0x1E, three BYTE integers, terminator.
    assert_eq!(
        lpack(&lua, "return {1,2,3}"),
        [0x1E, 0x0A, 1, 0x0A, 2, 0x0A, 3, 0x00]
    );
    // 30 items still fit the cookie: 6|30<<3 = 0xF6.
    let mut want30 = vec![0xF6];
    for i in 1..=30u8 {
        want30.extend_from_slice(&[0x0A, i]);
    }
    want30.push(0x00);
    assert_eq!(
        lpack(&lua, "local t = {} for i = 1, 30 do t[i] = i end return t"),
        want30
    );
    // 31 items: cookie 31 (0xFE), then the length as a number value (BYTE 31).
    let mut want31 = vec![0xFE, 0x0A, 31];
    for i in 1..=31u8 {
        want31.extend_from_slice(&[0x0A, i]);
    }
    want31.push(0x00);
    assert_eq!(
        lpack(&lua, "local t = {} for i = 1, 31 do t[i] = i end return t"),
        want31
    );
    // 300 items: the length is a WORD (0x012C).
    let b = lpack(
        &lua,
        "local t = {} for i = 1, 300 do t[i] = true end return t",
    );
    assert_eq!(b[..4], [0xFE, 0x12, 0x2C, 0x01]);
    assert_eq!(b.len(), 4 + 300 + 1);
    assert!(b[4..304].iter().all(|&x| x == 0x09));
    assert_eq!(b[304], 0x00);

    for want in [&want30, &want31, &b] {
        let t = STable {
            array: match &unpack_svalues(want).unwrap()[..] {
                [SValue::Table(t)] => {
                    assert!(t.hash.is_empty());
                    t.array.clone()
                }
                other => panic!("{other:?}"),
            },
            hash: vec![],
        };
        assert_eq!(pack_svalues(&[SValue::Table(t)]), **want);
    }
}

#[test]
fn tables_hash_mixed_nested() {
    let lua = lua();
    // {a=1}: empty array part, key "a" (4|1<<3 = 0x0C), value BYTE 1, terminator.
    assert_eq!(
        lpack(&lua, "return {a=1}"),
        [0x06, 0x0C, b'a', 0x0A, 1, 0x00]
    );
    // {10, x=true}: one array item (6|1<<3 = 0x0E), then the pair x=true.
    assert_eq!(
        lpack(&lua, "return {10, x=true}"),
        [0x0E, 0x0A, 10, 0x0C, b'x', 0x09, 0x00]
    );
    // A non-array integer key goes to the hash part: {[5]="v"} (rawlen 0).
    assert_eq!(
        lpack(&lua, "return {[5]='v'}"),
        [0x06, 0x0A, 5, 0x0C, b'v', 0x00]
    );
    // Zero and negative integer keys are never array items: {[0]="z", 1} and {[-1]=1}.
    assert_eq!(
        lpack(&lua, "return {[0]='z', 1}"),
        [0x0E, 0x0A, 1, 0x02, 0x0C, b'z', 0x00]
    );
    assert_eq!(
        lpack(&lua, "return {[-1]=1}"),
        [0x06, 0x22, 0xFF, 0xFF, 0xFF, 0xFF, 0x0A, 1, 0x00]
    );
    // Float and boolean keys are packed as themselves.
    assert_eq!(lpack(&lua, "return {[true]=0}"), [0x06, 0x09, 0x02, 0x00]);
    // Nested: {{}, {1}} = 2 items: empty table, one-item table.
    assert_eq!(
        lpack(&lua, "return {{}, {1}}"),
        [0x16, 0x06, 0x00, 0x0E, 0x0A, 1, 0x00, 0x00]
    );
    // Hash value that is a table: {t={2}}.
    assert_eq!(
        lpack(&lua, "return {t={2}}"),
        [0x06, 0x0C, b't', 0x0E, 0x0A, 2, 0x00, 0x00]
    );
}

#[test]
fn multiple_values() {
    let lua = lua();
    // "ping" (4|4<<3 = 0x24), 42 (BYTE), nil, {a=1}.
    let want = [
        0x24, b'p', b'i', b'n', b'g', 0x0A, 42, 0x00, 0x06, 0x0C, b'a', 0x0A, 1, 0x00,
    ];
    assert_eq!(lpack(&lua, "return 'ping', 42, nil, {a=1}"), want);
    let tree = vec![
        s("ping"),
        SValue::Int(42),
        SValue::Nil,
        SValue::Table(STable {
            array: vec![],
            hash: vec![(s("a"), SValue::Int(1))],
        }),
    ];
    assert_eq!(pack_svalues(&tree), want);
    assert_eq!(unpack_svalues(&want).unwrap(), tree);
    assert_eq!(
        unpack(&lua, &want).unwrap().len(),
        4,
        "a nil in the middle is still a value"
    );
    assert!(pack(&MultiValue::new()).unwrap().is_empty());
    assert_eq!(unpack(&lua, &[]).unwrap().len(), 0);
    assert!(unpack_svalues(&[]).unwrap().is_empty());
}

#[test]
fn writer_matches_pack() {
    let lua = lua();
    let mut w = Writer::new();
    w.string(b"ping");
    w.integer(42);
    w.table_begin(2);
    w.real(0.5);
    w.boolean(false);
    w.string(b"k");
    w.nil();
    w.table_end();
    w.pointer(7);
    let vals: MultiValue = lua.load("return 'ping', 42, {0.5, false}").eval().unwrap();
    let mut want = pack(&vals).unwrap();
    // The writer's {k=nil} pair cannot exist in a Lua table; splice it in by hand before the
    // table's terminator, then add the pointer.
    let end = want.len() - 1;
    want.splice(end..end, [0x0C, b'k', 0x00]);
    want.extend_from_slice(&[0x03, 7, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(w.as_bytes(), &want[..]);
    assert_eq!(w.len(), want.len());
    w.clear();
    assert!(w.is_empty());
}

#[test]
fn metapairs_tables() {
    let lua = lua();
    // __pairs yields one pair; the header is always hash-only (cookie 0).
    let chunk = r#"
        local mt = {__pairs = function(t)
            return function(_, k) if k == nil then return "k", 1 end end, t, nil
        end}
        return setmetatable({}, mt)
    "#;
    assert_eq!(lpack(&lua, chunk), [0x06, 0x0C, b'k', 0x0A, 1, 0x00]);
    // An array with __pairs = next is written as pairs, not as an array part.
    let chunk = "return setmetatable({7, 8}, {__pairs = function(t) return next, t, nil end})";
    assert_eq!(
        lpack(&lua, chunk),
        [0x06, 0x0A, 1, 0x0A, 7, 0x0A, 2, 0x0A, 8, 0x00]
    );
    // A proxy exposes another table's contents; the state argument is passed through.
    let chunk = r#"
        local real = {x = "y"}
        return setmetatable({}, {__pairs = function() return next, real, nil end})
    "#;
    assert_eq!(lpack(&lua, chunk), [0x06, 0x0C, b'x', 0x0C, b'y', 0x00]);
    // A metatable without __pairs changes nothing.
    assert_eq!(
        lpack(&lua, "return setmetatable({1}, {__index = {}})"),
        [0x0E, 0x0A, 1, 0x00]
    );
    // __pairs as a callable table works as lua_call would.
    let chunk = r#"
        local call = setmetatable({}, {__call = function(_, t) return next, t, nil end})
        return setmetatable({5}, {__pairs = call})
    "#;
    assert_eq!(lpack(&lua, chunk), [0x06, 0x0A, 1, 0x0A, 5, 0x00]);
    // A __pairs table nested in a plain one, and plain tables nested in a __pairs one.
    let chunk = r#"
        local inner = setmetatable({}, {__pairs = function(t) return next, {z = {1}}, nil end})
        return {1, inner}, "after"
    "#;
    let want = [
        0x16, 0x0A, 1, // {1, inner}: two array items
        0x06, 0x0C, b'z', 0x0E, 0x0A, 1, 0x00, // inner: hash-only, z = {1}
        0x00, // inner terminator
        0x00, // outer terminator
        0x2C, b'a', b'f', b't', b'e', b'r', // "after" (4|5<<3)
    ];
    assert_eq!(lpack(&lua, chunk), want);
    // Errors inside the iterator surface, as do non-callable metamethods.
    let e = lpack_err(
        &lua,
        "return setmetatable({}, {__pairs = function() error('boom') end})",
    );
    assert!(e.contains("boom"), "{e}");
    let e = lpack_err(&lua, "return setmetatable({}, {__pairs = 1})");
    assert!(e.contains("attempt to call a number value"), "{e}");
}

#[test]
fn hash_order_is_lua_next_order() {
    let lua = lua();
    // Build the same table in Lua and as a tree whose hash order comes from `next`.
    let (t, keys): (Table, Table) = lua
        .load(
            r#"
            local t = {1, 2, a = 1, b = "x", c = {1, 2, 3}, [10] = false, [2.5] = "f"}
            local ks = {}
            for k in next, t do if not (math.type(k) == "integer" and k >= 1 and k <= #t) then ks[#ks + 1] = k end end
            return t, ks
        "#,
        )
        .eval()
        .unwrap();
    let mut hash = Vec::new();
    for k in keys.sequence_values::<Value>() {
        let k = k.unwrap();
        let v: Value = t.raw_get(k.clone()).unwrap();
        let to_sv = |v: &Value| match v {
            Value::String(x) => SValue::Str(Bytes::copy_from_slice(&x.as_bytes())),
            Value::Integer(i) => SValue::Int(*i),
            Value::Number(f) => SValue::Real(*f),
            Value::Boolean(b) => SValue::Bool(*b),
            Value::Table(_) => SValue::Table(STable {
                array: vec![SValue::Int(1), SValue::Int(2), SValue::Int(3)],
                hash: vec![],
            }),
            other => panic!("{other:?}"),
        };
        hash.push((to_sv(&k), to_sv(&v)));
    }
    assert_eq!(hash.len(), 5);
    let tree = SValue::Table(STable {
        array: vec![SValue::Int(1), SValue::Int(2)],
        hash,
    });
    let bytes = pack_slice(&[Value::Table(t.clone())]).unwrap();
    assert_eq!(pack_svalues(std::slice::from_ref(&tree)), bytes);
    assert_eq!(unpack_svalues(&bytes).unwrap(), vec![tree.clone()]);
    assert_eq!(lua_to_svalue(&Value::Table(t)).unwrap(), tree);
}

/// Deep equality in Lua (subtypes included); NaN equals NaN.
const DEEP_EQ: &str = r#"
    local function deq(a, b)
        if type(a) ~= type(b) then return false end
        if type(a) == "number" then
            return math.type(a) == math.type(b) and (a == b or (a ~= a and b ~= b))
        end
        if type(a) ~= "table" then return a == b end
        for k, v in next, a do if not deq(v, rawget(b, k)) then return false end end
        for k in next, b do if rawget(a, k) == nil then return false end end
        return true
    end
    return deq
"#;

#[test]
fn lua_round_trips() {
    let lua = lua();
    let deq: Function = lua.load(DEEP_EQ).eval().unwrap();
    lua.globals().set("deq", deq).unwrap();
    let rt = lua
        .create_function(|lua, args: MultiValue| unpack(lua, &pack(&args)?))
        .unwrap();
    lua.globals().set("rt", rt).unwrap();
    let tree_rt = lua
        .create_function(|lua, args: MultiValue| {
            let tree = unpack_svalues(&pack(&args)?)?;
            tree.iter()
                .map(|v| svalue_to_lua(lua, v))
                .collect::<mlua::Result<MultiValue>>()
        })
        .unwrap();
    lua.globals().set("tree_rt", tree_rt).unwrap();
    lua.load(
        r##"
        local P = table.pack
        local big = {} for i = 1, 1000 do big[i] = i * 1000003 end
        local long = string.rep("xyz", 30000)
        local cases = {
            P(nil), P(true), P(false), P(0), P(-1), P(math.maxinteger), P(math.mininteger),
            P(1.25), P(-0.0), P(1e300), P(0/0), P(""), P("hello"), P(long),
            P({}), P({1, 2, 3}), P({a = 1, b = "x", c = {1, 2, 3}}), P(big),
            P({1, nil, 3}), P({[1.5] = true, [false] = "no", [-7] = {}}),
            P({deep = {deeper = {deepest = {"end", n = 1}}}}),
            P("ping", 42, {a = 1, b = "x", c = {1, 2, 3}}),
            P(1, nil, 3, nil),
        }
        for i, c in ipairs(cases) do
            for _, f in ipairs({rt, tree_rt}) do
                local out = P(f(table.unpack(c, 1, c.n)))
                assert(out.n == c.n, "case " .. i .. ": count " .. out.n)
                for j = 1, c.n do
                    assert(deq(c[j], out[j]), "case " .. i .. " value " .. j)
                end
            end
        end
    "##,
    )
    .exec()
    .unwrap();
}

#[test]
fn svalue_lua_equivalence() {
    let lua = lua();
    let tree = vec![
        SValue::Table(STable {
            array: vec![
                SValue::Int(1),
                s("two"),
                SValue::Real(3.0),
                SValue::Bool(false),
            ],
            hash: vec![(
                s("k"),
                SValue::Table(STable {
                    array: vec![SValue::Int(300)],
                    hash: vec![],
                }),
            )],
        }),
        s("tail"),
        SValue::Int(-5),
    ];
    let bytes = pack_svalues(&tree);
    let vals: Vec<Value> = tree
        .iter()
        .map(|v| svalue_to_lua(&lua, v).unwrap())
        .collect();
    assert_eq!(pack_slice(&vals).unwrap(), bytes);
    assert_eq!(unpack_svalues(&bytes).unwrap(), tree);
    let back: Vec<SValue> = vals.iter().map(|v| lua_to_svalue(v).unwrap()).collect();
    assert_eq!(back, tree);
    let from_lua = unpack(&lua, &bytes).unwrap();
    assert_eq!(pack(&from_lua).unwrap(), bytes);
    // Holes travel as nil items; after a Lua round trip the border (#t) may legitimately differ,
    // as in skynet, so only the tree decoder is checked here.
    let holes = [0x1E, 0x0A, 1, 0x00, 0x0A, 3, 0x00]; // {1, nil, 3}
    let want = STable {
        array: vec![SValue::Int(1), SValue::Nil, SValue::Int(3)],
        hash: vec![],
    };
    assert_eq!(
        unpack_svalues(&holes).unwrap(),
        vec![SValue::Table(want.clone())]
    );
    assert_eq!(pack_svalues(&[SValue::Table(want)]), holes);
    // NaN keys cannot enter a Lua table.
    let nan_key = SValue::Table(STable {
        array: vec![],
        hash: vec![(SValue::Real(f64::NAN), SValue::Int(1))],
    });
    assert!(svalue_to_lua(&lua, &nan_key).is_err());
    let e = unpack(&lua, &pack_svalues(&[nan_key]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("table index is NaN"), "{e}");
}

#[test]
fn unsupported_types() {
    let lua = lua();
    let f = Value::Function(lua.create_function(|_, ()| Ok(())).unwrap());
    let th = Value::Thread(
        lua.create_thread(lua.create_function(|_, ()| Ok(())).unwrap())
            .unwrap(),
    );
    let ud = Value::UserData(lua.create_any_userdata(5u32).unwrap());
    for (v, name) in [(f, "function"), (th, "thread"), (ud, "userdata")] {
        let e = pack_slice(std::slice::from_ref(&v))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("Unsupport type {name} to serialize")),
            "{e}"
        );
        // Also when nested in a table, and through lua_to_svalue.
        let t = lua.create_table().unwrap();
        t.raw_set("x", v.clone()).unwrap();
        assert!(pack_slice(&[Value::Table(t)]).is_err());
        assert!(lua_to_svalue(&v).is_err());
    }
    let e = lpack_err(&lua, "return {print}");
    assert!(e.contains("Unsupport type function to serialize"), "{e}");
}

/// `levels` nested tables; the innermost holds `inner` (Lua source) or nothing.
fn nested_chunk(levels: usize, inner: &str) -> String {
    format!("return {}{inner}{}", "{".repeat(levels), "}".repeat(levels))
}

#[test]
fn pack_depth_limit() {
    let lua = lua();
    // Top-level value is level 0; the 33rd table is at level 32, its contents would be 33.
    let ok = lpack(&lua, &nested_chunk(33, ""));
    assert_eq!(
        ok.len(),
        32 + 2 + 32,
        "32 one-item headers, an empty table, 32 terminators"
    );
    assert_eq!(ok[..32], [0x0E; 32]);
    assert_eq!(ok[32..34], [0x06, 0x00]);
    assert!(lpack_err(&lua, &nested_chunk(33, "1")).contains(TOO_DEEP));
    assert!(lpack_err(&lua, &nested_chunk(34, "")).contains(TOO_DEEP));
    assert!(lpack_err(&lua, &nested_chunk(100, "")).contains(TOO_DEEP));
    // Hash nesting counts the same way.
    let chunk = "local t = {} local c = t for i = 1, 33 do c.x = {} c = c.x end return t";
    assert!(lpack_err(&lua, chunk).contains(TOO_DEEP));
    // A cycle is caught by the depth limit rather than recursing forever.
    assert!(lpack_err(&lua, "local t = {} t[1] = t return t").contains(TOO_DEEP));
    assert!(lua_to_svalue(&lua.load(nested_chunk(40, "")).eval().unwrap()).is_err());
    // Everything pack accepts, unpack accepts.
    assert_eq!(unpack(&lua, &ok).unwrap().len(), 1);
    assert_eq!(pack_svalues(&unpack_svalues(&ok).unwrap()), ok);
}

#[test]
fn unpack_depth_limit() {
    let lua = lua();
    // 33 empty-innermost levels decode; a 34th table, or any content at level 33, does not.
    let mut too_deep = vec![0x0E; 33];
    too_deep.extend_from_slice(&[0x06, 0x00]);
    too_deep.extend_from_slice(&[0x00; 33]);
    assert!(matches!(
        unpack_svalues(&too_deep),
        Err(SeriError::TooDeep { .. })
    ));
    assert!(unpack(&lua, &too_deep)
        .unwrap_err()
        .to_string()
        .contains("Invalid serialize stream"));
    // Same through a hash key at level 33: 32 levels of {x}, then a table with a pair.
    let mut hash_deep = vec![0x0E; 32];
    hash_deep.extend_from_slice(&[0x06, 0x0A, 1, 0x0A, 1, 0x00]);
    hash_deep.extend_from_slice(&[0x00; 32]);
    assert!(matches!(
        unpack_svalues(&hash_deep),
        Err(SeriError::TooDeep { .. })
    ));
    // Very deep input fails at the limit instead of exhausting the stack.
    let bomb = vec![0x0E; 100_000];
    assert!(matches!(
        unpack_svalues(&bomb),
        Err(SeriError::TooDeep { .. })
    ));
    assert!(unpack(&lua, &bomb).is_err());
}

/// One top-level table touching every type and encoding: none of its proper prefixes is a
/// complete message.
fn complex_message(lua: &Lua) -> Vec<u8> {
    lpack(
        lua,
        r#"
        local arr = {} for i = 1, 40 do arr[i] = i * 70001 - 1e6 end
        return {
            "short", string.rep("L", 300), string.rep("H", 70000), 1.5, true, false, 0, 255, 65535,
            -5, 1 << 40, arr,
            nested = {a = {b = {c = {}}}}, [3.25] = "real key", [-1] = math.mininteger,
        }
    "#,
    )
}

#[test]
fn truncated_input_every_prefix() {
    let lua = lua();
    let full = complex_message(&lua);
    // The Lua-side pointer value is added separately: packing it needs a Value.
    let mut with_ptr = full.clone();
    with_ptr.splice(0..0, [0x03, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(unpack_svalues(&full).is_ok());
    assert!(unpack(&lua, &full).is_ok());
    for msg in [&full, &with_ptr] {
        let start = msg.len() - full.len() + 1;
        for cut in start..msg.len() {
            let prefix = &msg[..cut];
            assert!(unpack_svalues(prefix).is_err(), "svalue prefix {cut}");
            let e = unpack(&lua, prefix).unwrap_err().to_string();
            assert!(e.contains("Invalid serialize stream"), "prefix {cut}: {e}");
        }
    }
}

#[test]
fn error_context() {
    // Truncated short string: header at 0 claims 3 bytes, 1 present.
    let e = unpack_svalues(&[0x1C, b'a']).unwrap_err();
    assert_eq!(
        e,
        SeriError::Truncated {
            what: "string",
            offset: 0,
            remaining: 2
        }
    );
    assert_eq!(
        e.to_string(),
        "Invalid serialize stream 2 (truncated string at offset 0)"
    );
    // Type 7 does not exist.
    assert!(matches!(
        unpack_svalues(&[0x02, 0x07]),
        Err(SeriError::BadHeader {
            what: "type",
            byte: 7,
            offset: 1,
            ..
        })
    ));
    // Number cookies 3, 5, 7, 9.. are invalid; so are long string cookies other than 2 and 4.
    assert!(matches!(
        unpack_svalues(&[0x1A, 0, 0, 0]),
        Err(SeriError::BadHeader { what: "number", .. })
    ));
    assert!(matches!(
        unpack_svalues(&[0x1D, 0, 0, 0, 0]),
        Err(SeriError::BadHeader { what: "string", .. })
    ));
    // An extended table length must be an integer number value.
    assert!(matches!(
        unpack_svalues(&[0xFE, 0x04, 0x00]),
        Err(SeriError::BadHeader {
            what: "table length",
            ..
        })
    ));
    let real_len = [0xFE, 0x42, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x00];
    assert!(matches!(
        unpack_svalues(&real_len),
        Err(SeriError::BadHeader {
            what: "table length",
            ..
        })
    ));
    // A table claiming more array items than there are bytes left (each needs one, plus the
    // terminator) is rejected at its header, before anything is built.
    let e = unpack_svalues(&[0x02, 0x1E, 0x0A, 1, 0x0A]).unwrap_err();
    assert_eq!(
        e,
        SeriError::Truncated {
            what: "table",
            offset: 1,
            remaining: 4
        }
    );
    // Like lua-seri.c, an extended length that wraps negative as a C int is an empty array.
    let neg = [0xFE, 0x22, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
    assert_eq!(
        unpack_svalues(&neg).unwrap(),
        vec![SValue::Table(STable::default())]
    );
}

#[test]
fn shared_strings() {
    let lua = lua();
    let data = Bytes::from(complex_message(&lua));
    let shared = unpack_svalues_shared(&data).unwrap();
    assert_eq!(shared, unpack_svalues(&data).unwrap());
    let SValue::Table(t) = &shared[0] else {
        panic!("{shared:?}")
    };
    let SValue::Str(first) = &t.array[0] else {
        panic!("{t:?}")
    };
    let range = data.as_ptr_range();
    assert!(
        range.contains(&first.as_ptr()),
        "the string points into the input"
    );
    assert_eq!(
        unpack_svalues_shared(&data.slice(..data.len() - 1)),
        unpack_svalues(&data[..data.len() - 1])
    );
}

#[test]
fn raw_and_safe_paths_agree() {
    // `pack` walks plain tables through the C API and falls back to mlua's safe API for values
    // holding a `__pairs` table; both must give the same bytes and the same errors.
    let lua = lua();
    let safe = |v: &Value| {
        let mut w = Writer::new();
        pack_value(&mut w, v, 0).map(|()| w.finish())
    };
    let chunks = [
        "return {1, 2.5, 'x', true, {a = {b = {}}}, [-3] = false, [0.5] = {7}, s = string.rep('q', 40)}",
        "local t = {} for i = 1, 300 do t[i] = {i, tostring(i)} end t.k = 'v' return t",
        "return {1, nil, 3}",
        "return {}",
        "return {[0] = 'z', 1, [-1] = 2, [2^53] = 3}",
    ];
    for chunk in chunks {
        let v: Value = lua.load(chunk).eval().unwrap();
        assert_eq!(
            pack_slice(std::slice::from_ref(&v)).unwrap(),
            safe(&v).unwrap(),
            "{chunk}"
        );
    }
    for (levels, inner) in [
        (33, ""),
        (33, "1"),
        (34, ""),
        (2, "print"),
        (3, "coroutine.create(print)"),
    ] {
        let v: Value = lua.load(nested_chunk(levels, inner)).eval().unwrap();
        let raw = pack_slice(std::slice::from_ref(&v)).map_err(|e| e.to_string());
        let safe = safe(&v).map_err(|e| e.to_string());
        assert_eq!(raw, safe, "{levels} levels around {inner:?}");
    }
    // The safe path's own depth limit, reached through a __pairs table at the top (level 0)
    // whose iterator yields `inner` at level 1.
    let chunk = |levels: usize| {
        format!(
            "local inner = {} return setmetatable({{}}, {{__pairs = function() return next, {{inner}}, nil end}})",
            nested_chunk(levels, "").trim_start_matches("return ")
        )
    };
    assert_eq!(lpack(&lua, &chunk(32)).len(), 3 + 31 + 2 + 31 + 1);
    assert!(lpack_err(&lua, &chunk(33)).contains(TOO_DEEP));
}

#[test]
fn many_top_level_values() {
    let lua = lua();
    // Each value takes a Lua stack slot, as in skynet; far past the default stack size is fine.
    let many = vec![0x0A; 400_000]; // 200k times BYTE 10
    let vals = unpack(&lua, &many).unwrap();
    assert_eq!(vals.len(), 200_000);
    assert!(vals.iter().all(|v| matches!(v, Value::Integer(10))));
    // Beyond Lua's stack limit (1M slots) it is an error, not a crash.
    let too_many = vec![0x00; 1_100_000];
    assert!(unpack(&lua, &too_many)
        .unwrap_err()
        .to_string()
        .contains("stack overflow"));
    assert_eq!(unpack_svalues(&too_many).unwrap().len(), 1_100_000);
}

#[test]
fn huge_claims_fail_fast() {
    let lua = lua();
    let t = Instant::now();
    // Table claiming 2^31-1 array items (DWORD length), 10 bytes total.
    let dword = [0xFE, 0x22, 0xFF, 0xFF, 0xFF, 0x7F, 0x0A, 1, 0x0A, 2];
    // Table claiming 2^31 items (QWORD length); a C int wraps it negative, so it is empty and
    // the missing terminator fails it.
    let qword = [0xFE, 0x32, 0x00, 0x00, 0x00, 0x80, 0, 0, 0, 0];
    // Table claiming 2^40+1 items; the C int keeps 1 item, then the terminator is missing.
    let wraps = [0xFE, 0x32, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];
    // Long string claiming 4 GiB.
    let string = [0x25, 0xFF, 0xFF, 0xFF, 0xFF, b'a', b'b', b'c', b'd', b'e'];
    for input in [&dword, &qword, &wraps, &string] {
        assert!(unpack_svalues(input).is_err());
        assert!(unpack(&lua, input).is_err());
    }
    assert!(matches!(
        unpack_svalues(&dword),
        Err(SeriError::Truncated {
            what: "table",
            offset: 0,
            ..
        })
    ));
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "took {:?}",
        t.elapsed()
    );
}

/// xorshift64*: deterministic, dependency-free noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_input_never_panics() {
    let lua = lua();
    let seed = complex_message(&lua);
    let small = lpack(
        &lua,
        "return 'ping', 42, {a = 1, b = 'x', c = {1, 2, 3}}, -1, 2.5",
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ok = 0;
    for round in 0..10_000 {
        let input: Vec<u8> = match round % 3 {
            // Pure noise.
            0 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
            // A valid message with a few bytes overwritten, then maybe cut.
            1 => {
                let mut m = if round % 2 == 0 {
                    small.clone()
                } else {
                    seed.clone()
                };
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(m.len());
                    m[i] = rng.next() as u8;
                }
                let cut = m.len() - rng.below(m.len().min(8));
                m.truncate(cut);
                m
            }
            // Noise made of plausible headers.
            _ => {
                const HEADERS: [u8; 12] = [
                    0x00, 0x09, 0x02, 0x0A, 0x12, 0x22, 0x0C, 0x15, 0x06, 0x0E, 0xFE, 0x42,
                ];
                (0..rng.below(48))
                    .map(|_| {
                        if rng.below(2) == 0 {
                            HEADERS[rng.below(HEADERS.len())]
                        } else {
                            rng.next() as u8
                        }
                    })
                    .collect()
            }
        };
        let tree = unpack_svalues(&input);
        let lua_vals = unpack(&lua, &input);
        // Both decoders accept exactly the same streams (NaN keys aside, which Lua rejects).
        if lua_vals.is_ok() {
            assert!(
                tree.is_ok(),
                "Lua accepted what the tree decoder rejected: {input:02x?}"
            );
        }
        if let Ok(tree) = tree {
            ok += 1;
            // Re-encoding is canonical: encode(decode(x)) is a fixed point.
            let once = pack_svalues(&tree);
            assert_eq!(
                pack_svalues(&unpack_svalues(&once).unwrap()),
                once,
                "{input:02x?}"
            );
        }
    }
    assert!(
        ok > 100,
        "the generator should produce some valid messages ({ok})"
    );
}
