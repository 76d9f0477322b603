//! `skynet.crypt`: skynet's crypt module, byte-exact with its lualib-src/lua-crypt.c (DES with
//! its two paddings, the djb/js `hashkey`, the MD5-round `hmac64`, the 64-bit Diffie-Hellman of
//! its login protocol, its lenient base64 decoder, SHA-1 and HMAC-SHA1).
//!
//! The native part is `skynet.crypt.core`; its functions return the result or `nil, message`,
//! and lualib/skynet/crypt.lua turns the message into a plain string error, as skynet's C module
//! raises (a Rust callback's error would reach Lua as userdata).

use base64::Engine;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use mlua::{Lua, Value};
use sha1::Sha1;

pub const PADDING_ISO7816_4: i64 = 0;
pub const PADDING_PKCS7: i64 = 1;

/// skynet's `Hash`: a djb hash and a JS hash of the text, four little-endian bytes each.
pub fn hashkey(text: &[u8]) -> [u8; 8] {
    let mut djb: u32 = 5381;
    let mut js: u32 = 1315423911;
    for &c in text {
        djb = djb.wrapping_add((djb << 5).wrapping_add(c as u32));
        js ^= (js << 5).wrapping_add(c as u32).wrapping_add(js >> 2);
    }
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&djb.to_le_bytes());
    out[4..].copy_from_slice(&js.to_le_bytes());
    out
}

fn des_cipher(key: &[u8]) -> Result<des::Des, String> {
    if key.len() != 8 {
        return Err(format!("Invalid key size {}, need 8 bytes", key.len()));
    }
    Ok(des::Des::new_from_slice(key).expect("an 8-byte DES key"))
}

/// DES in ECB mode over whole blocks, always padded (a full block of padding when the text is
/// a multiple of 8): ISO 7816-4 (0x80 then zeros) or PKCS#7.
pub fn desencode(key: &[u8], text: &[u8], mode: i64) -> Result<Vec<u8>, String> {
    let cipher = des_cipher(key)?;
    if !(0..=1).contains(&mode) {
        return Err(format!("Invalid padding mode {mode}"));
    }
    let mut buf = text.to_vec();
    let fill = 8 - text.len() % 8;
    if mode == PADDING_ISO7816_4 {
        buf.push(0x80);
        buf.resize(text.len() + fill, 0);
    } else {
        buf.resize(text.len() + fill, fill as u8);
    }
    for block in buf.chunks_exact_mut(8) {
        cipher.encrypt_block(block.into());
    }
    Ok(buf)
}

pub fn desdecode(key: &[u8], text: &[u8], mode: i64) -> Result<Vec<u8>, String> {
    let cipher = des_cipher(key)?;
    if text.is_empty() || text.len() % 8 != 0 {
        return Err(format!(
            "Invalid des crypt text length {}",
            text.len() as i32
        ));
    }
    if !(0..=1).contains(&mode) {
        return Err(format!("Invalid padding mode {mode}"));
    }
    let mut buf = text.to_vec();
    for block in buf.chunks_exact_mut(8) {
        cipher.decrypt_block(block.into());
    }
    let padding = if mode == PADDING_ISO7816_4 {
        // zeros back to a 0x80, within the last 8 bytes
        let mut n = 1;
        let mut found = 0;
        for &b in buf.iter().rev().take(8) {
            if b == 0 {
                n += 1;
            } else {
                if b == 0x80 {
                    found = n;
                }
                break;
            }
        }
        found
    } else {
        let p = *buf.last().unwrap() as usize;
        let ok = (1..p).all(|i| buf.len() > i && buf[buf.len() - 1 - i] as usize == p);
        if ok {
            p
        } else {
            0
        }
    };
    if padding == 0 || padding > 8 {
        return Err("Invalid des crypt text".into());
    }
    buf.truncate(buf.len() - padding);
    Ok(buf)
}

pub fn hexencode(text: &[u8]) -> String {
    hex::encode(text)
}

/// skynet's decoder: lower-case digits; anything else maps to `c - 'a' + 10` as a byte, and
/// only values past 16 are refused (so `g` reads as 16 and shifts out).
pub fn hexdecode(text: &[u8]) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 {
        return Err(format!("Invalid hex text size {}", text.len()));
    }
    let digit = |c: u8| -> u8 {
        if c.is_ascii_digit() {
            c - b'0'
        } else {
            c.wrapping_sub(b'a').wrapping_add(10)
        }
    };
    let mut out = Vec::with_capacity(text.len() / 2);
    for pair in text.chunks_exact(2) {
        let (hi, lo) = (digit(pair[0]), digit(pair[1]));
        if hi > 16 || lo > 16 {
            return Err("Invalid hex text".into());
        }
        out.push((hi << 4) | lo);
    }
    Ok(out)
}

/// MD5's 64 rounds over one block from the standard initial state, without padding and
/// without adding the initial state back: skynet's `digest_md5`.
fn md5_rounds(w: &[u32; 16]) -> [u32; 4] {
    const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    let (mut a, mut b, mut c, mut d) = (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let t = d;
        d = c;
        c = b;
        let sum = a.wrapping_add(f).wrapping_add(md5_k(i)).wrapping_add(w[g]);
        b = b.wrapping_add(sum.rotate_left(S[(i / 16) * 4 + i % 4]));
        a = t;
    }
    [a, b, c, d]
}

/// MD5's constants: the integer part of |sin(i + 1)| * 2^32.
fn md5_k(i: usize) -> u32 {
    static K: std::sync::OnceLock<[u32; 64]> = std::sync::OnceLock::new();
    K.get_or_init(|| {
        let mut k = [0u32; 64];
        for (i, v) in k.iter_mut().enumerate() {
            *v = (((i + 1) as f64).sin().abs() * 4294967296.0) as u32;
        }
        k
    })[i]
}

fn words(x: &[u8]) -> [u32; 2] {
    [
        u32::from_le_bytes([x[0], x[1], x[2], x[3]]),
        u32::from_le_bytes([x[4], x[5], x[6], x[7]]),
    ]
}

fn qword(r: [u32; 2]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&r[0].to_le_bytes());
    out[4..].copy_from_slice(&r[1].to_le_bytes());
    out
}

fn hmac64_words(x: [u32; 2], y: [u32; 2]) -> [u8; 8] {
    let mut w = [0u32; 16];
    for i in (0..16).step_by(4) {
        w[i] = x[1];
        w[i + 1] = x[0];
        w[i + 2] = y[1];
        w[i + 3] = y[0];
    }
    let r = md5_rounds(&w);
    qword([r[2] ^ r[3], r[0] ^ r[1]])
}

/// skynet's `hmac64` of two 8-byte strings.
pub fn hmac64(x: &[u8; 8], y: &[u8; 8]) -> [u8; 8] {
    hmac64_words(words(x), words(y))
}

/// `hmac64_md5(a, b)`: m = md5((a..b):rep(3)), then xor of m's two halves, word-wise as
/// skynet does (A^C, B^D).
pub fn hmac64_md5(x: &[u8; 8], y: &[u8; 8]) -> [u8; 8] {
    let mut msg = Vec::with_capacity(48);
    for _ in 0..3 {
        msg.extend_from_slice(x);
        msg.extend_from_slice(y);
    }
    let m = Md5::digest(&msg);
    let mut out = [0u8; 8];
    for i in 0..8 {
        out[i] = m[i] ^ m[i + 8];
    }
    out
}

/// `hmac_hash(key, text)`: hmac64 of the text's hashkey with the key.
pub fn hmac_hash(key: &[u8; 8], text: &[u8]) -> [u8; 8] {
    hmac64_words(words(&hashkey(text)), words(key))
}

/// The largest 64-bit prime, the modulus of skynet's DH exchange; the generator is 5.
const P: u64 = 0xffff_ffff_ffff_ffc5;

fn mul_mod_p(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) % P as u128) as u64
}

fn pow_mod_p(a: u64, b: u64) -> u64 {
    if b == 1 {
        return a;
    }
    let mut t = pow_mod_p(a, b >> 1);
    t = mul_mod_p(t, t);
    if b % 2 == 1 {
        t = mul_mod_p(t, a);
    }
    t
}

fn powmodp(mut a: u64, b: u64) -> u64 {
    if a > P {
        a %= P;
    }
    pow_mod_p(a, b)
}

/// `dhexchange(x)`: 5^x mod P, for a nonzero little-endian 8-byte x.
pub fn dhexchange(x: &[u8; 8]) -> Result<[u8; 8], String> {
    let x = u64::from_le_bytes(*x);
    if x == 0 {
        return Err("Can't be 0".into());
    }
    Ok(powmodp(5, x).to_le_bytes())
}

/// `dhsecret(x, y)`: x^y mod P.
pub fn dhsecret(x: &[u8; 8], y: &[u8; 8]) -> Result<[u8; 8], String> {
    let (x, y) = (u64::from_le_bytes(*x), u64::from_le_bytes(*y));
    if x == 0 || y == 0 {
        return Err("Can't be 0".into());
    }
    Ok(powmodp(x, y).to_le_bytes())
}

pub fn base64encode(text: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// skynet's lenient decoder: bytes outside the alphabet are skipped, `=` and the end of the
/// text both count as padding, and each group of four yields 3, 2 or 1 bytes.
pub fn base64decode(text: &[u8]) -> Result<Vec<u8>, String> {
    // -1: skipped, -2: padding
    let index = |c: u8| -> i32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as i32,
            b'a'..=b'z' => (c - b'a') as i32 + 26,
            b'0'..=b'9' => (c - b'0') as i32 + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => -2,
            _ => -1,
        }
    };
    let invalid = || "Invalid base64 text".to_string();
    let mut out = Vec::with_capacity(text.len().div_ceil(4) * 3);
    let mut i = 0;
    while i < text.len() {
        let mut c = [0i32; 4];
        let mut padding = 0;
        let mut j = 0;
        while j < 4 {
            let v = if i >= text.len() { -2 } else { index(text[i]) };
            i += 1;
            if v == -1 {
                continue;
            }
            if v == -2 {
                padding += 1;
            }
            c[j] = v;
            j += 1;
        }
        match padding {
            0 => {
                let v =
                    (c[0] as u32) << 18 | (c[1] as u32) << 12 | (c[2] as u32) << 6 | c[3] as u32;
                out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
            }
            1 => {
                if c[3] != -2 || (c[2] & 3) != 0 {
                    return Err(invalid());
                }
                let v = (c[0] as u32) << 10 | (c[1] as u32) << 4 | (c[2] as u32) >> 2;
                out.extend_from_slice(&[(v >> 8) as u8, v as u8]);
            }
            2 => {
                if c[3] != -2 || c[2] != -2 || (c[1] & 0xf) != 0 {
                    return Err(invalid());
                }
                out.push(((c[0] as u32) << 2 | (c[1] as u32) >> 4) as u8);
            }
            _ => return Err(invalid()),
        }
    }
    Ok(out)
}

pub fn sha1(text: &[u8]) -> [u8; 20] {
    Sha1::digest(text).into()
}

pub fn hmac_sha1(key: &[u8], text: &[u8]) -> [u8; 20] {
    let mut m = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(text);
    m.finalize().into_bytes().into()
}

pub fn xor_str(a: &[u8], b: &[u8]) -> Result<Vec<u8>, String> {
    if b.is_empty() {
        return Err("Can't xor empty string".into());
    }
    Ok(a.iter().zip(b.iter().cycle()).map(|(x, y)| x ^ y).collect())
}

/// Eight random bytes whose xor is not zero (so never the all-zero key `dhexchange` refuses).
/// skynet sets bit 0 of the first byte for that, which misses when the bit is already set;
/// flipping it always works.
pub fn randomkey() -> [u8; 8] {
    let mut k = [0u8; 8];
    getrandom::getrandom(&mut k).expect("the OS random source");
    if k.iter().fold(0, |a, b| a ^ b) == 0 {
        k[0] ^= 1;
    }
    k
}

/// A string argument the way `luaL_checklstring` takes it (numbers convert), with its message.
fn arg(fname: &str, n: usize, v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Integer(i) => Ok(i.to_string().into_bytes()),
        Value::Number(f) => Ok(format!("{f}").into_bytes()),
        other => Err(format!(
            "bad argument #{n} to '{fname}' (string expected, got {})",
            if other.is_nil() {
                "no value"
            } else {
                other.type_name()
            }
        )),
    }
}

fn arg8(fname: &str, n: usize, v: &Value, what: &str) -> Result<[u8; 8], String> {
    let b = arg(fname, n, v)?;
    b.as_slice().try_into().map_err(|_| what.to_string())
}

struct Args(mlua::Variadic<Value>);

impl Args {
    fn v(&self, i: usize) -> Value {
        self.0.get(i).cloned().unwrap_or(Value::Nil)
    }
}

type Out = (Option<mlua::LuaString>, Option<String>);

fn reply(lua: &Lua, r: Result<Vec<u8>, String>) -> mlua::Result<Out> {
    match r {
        Ok(b) => Ok((Some(lua.create_string(b)?), None)),
        Err(e) => Ok((None, Some(e))),
    }
}

pub fn open(lua: &Lua) -> mlua::Result<mlua::Table> {
    let t = lua.create_table()?;
    macro_rules! def {
        ($name:literal, |$a:ident| $body:expr) => {
            t.set(
                $name,
                lua.create_function(|lua, args: mlua::Variadic<Value>| {
                    let $a = Args(args);
                    #[allow(clippy::redundant_closure_call)]
                    let r: Result<Vec<u8>, String> = (|| $body)();
                    reply(lua, r)
                })?,
            )?;
        };
    }
    def!("hashkey", |a| Ok(
        hashkey(&arg("hashkey", 1, &a.v(0))?).to_vec()
    ));
    def!("randomkey", |_a| Ok(randomkey().to_vec()));
    def!("desencode", |a| {
        let key = arg("desencode", 1, &a.v(0))?;
        let text = arg("desencode", 2, &a.v(1))?;
        desencode(&key, &text, padding_arg(&a.v(2))?)
    });
    def!("desdecode", |a| {
        let key = arg("desdecode", 1, &a.v(0))?;
        let text = arg("desdecode", 2, &a.v(1))?;
        desdecode(&key, &text, padding_arg(&a.v(2))?)
    });
    def!("hexencode", |a| Ok(hexencode(&arg(
        "hexencode",
        1,
        &a.v(0)
    )?)
    .into_bytes()));
    def!("hexdecode", |a| hexdecode(&arg("hexdecode", 1, &a.v(0))?));
    def!("hmac64", |a| {
        let x = arg8("hmac64", 1, &a.v(0), "Invalid uint64 x")?;
        let y = arg8("hmac64", 2, &a.v(1), "Invalid uint64 y")?;
        Ok(hmac64(&x, &y).to_vec())
    });
    def!("hmac64_md5", |a| {
        let x = arg8("hmac64_md5", 1, &a.v(0), "Invalid uint64 x")?;
        let y = arg8("hmac64_md5", 2, &a.v(1), "Invalid uint64 y")?;
        Ok(hmac64_md5(&x, &y).to_vec())
    });
    def!("hmac_hash", |a| {
        let key = arg8("hmac_hash", 1, &a.v(0), "Invalid uint64 key")?;
        let text = arg("hmac_hash", 2, &a.v(1))?;
        Ok(hmac_hash(&key, &text).to_vec())
    });
    def!("dhexchange", |a| {
        let x = arg8("dhexchange", 1, &a.v(0), "Invalid dh uint64 key")?;
        Ok(dhexchange(&x)?.to_vec())
    });
    def!("dhsecret", |a| {
        let x = arg8("dhsecret", 1, &a.v(0), "Invalid uint64 x")?;
        let y = arg8("dhsecret", 2, &a.v(1), "Invalid uint64 y")?;
        Ok(dhsecret(&x, &y)?.to_vec())
    });
    def!("base64encode", |a| Ok(base64encode(&arg(
        "base64encode",
        1,
        &a.v(0)
    )?)
    .into_bytes()));
    def!("base64decode", |a| base64decode(&arg(
        "base64decode",
        1,
        &a.v(0)
    )?));
    def!("sha1", |a| Ok(sha1(&arg("sha1", 1, &a.v(0))?).to_vec()));
    def!("hmac_sha1", |a| {
        let key = arg("hmac_sha1", 1, &a.v(0))?;
        let text = arg("hmac_sha1", 2, &a.v(1))?;
        Ok(hmac_sha1(&key, &text).to_vec())
    });
    def!("xor_str", |a| {
        let x = arg("xor_str", 1, &a.v(0))?;
        let y = arg("xor_str", 2, &a.v(1))?;
        xor_str(&x, &y)
    });
    let padding = lua.create_table()?;
    padding.set("iso7816_4", PADDING_ISO7816_4)?;
    padding.set("pkcs7", PADDING_PKCS7)?;
    t.set("padding", padding)?;
    Ok(t)
}

fn padding_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Nil => Ok(PADDING_ISO7816_4),
        Value::Integer(i) => Ok(*i),
        Value::Number(f) if f.fract() == 0.0 => Ok(*f as i64),
        other => Err(format!(
            "bad argument #3 (number expected, got {})",
            other.type_name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `name hex` lines printed by tests/skynet/crypt_vectors.lua on skynet f19d160.
    pub const SKYNET_VECTORS: &str = include_str!("skynet_vectors.txt");

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn vector(name: &str) -> Vec<u8> {
        for line in SKYNET_VECTORS.lines() {
            let mut w = line.split(' ');
            if w.next() == Some("CRYPT") && w.next() == Some(name) {
                return h(w.next().unwrap_or(""));
            }
        }
        panic!("no vector {name}")
    }

    const KEY: [u8; 8] = [1, 35, 69, 103, 137, 171, 205, 239];

    fn texts() -> Vec<Vec<u8>> {
        vec![
            b"".to_vec(),
            b"a".to_vec(),
            b"1234567".to_vec(),
            b"12345678".to_vec(),
            b"123456789".to_vec(),
            b"hello skynet crypt".to_vec(),
            [0u8, 255].repeat(9),
        ]
    }

    #[test]
    fn per_text_vectors_match_skynet() {
        for (i, t) in texts().iter().enumerate() {
            let n = i + 1;
            assert_eq!(hashkey(t).to_vec(), vector(&format!("hashkey{n}")), "{n}");
            assert_eq!(sha1(t).to_vec(), vector(&format!("sha1_{n}")));
            assert_eq!(
                hmac_sha1(&KEY, t).to_vec(),
                vector(&format!("hmac_sha1_{n}"))
            );
            assert_eq!(
                hmac_hash(&KEY, t).to_vec(),
                vector(&format!("hmac_hash{n}"))
            );
            assert_eq!(base64encode(t).into_bytes(), vector(&format!("b64_{n}")));
            let iso = desencode(&KEY, t, PADDING_ISO7816_4).unwrap();
            assert_eq!(iso, vector(&format!("des_iso{n}")), "des {n}");
            let pk = desencode(&KEY, t, PADDING_PKCS7).unwrap();
            assert_eq!(pk, vector(&format!("des_pkcs7_{n}")));
            assert_eq!(&desdecode(&KEY, &iso, PADDING_ISO7816_4).unwrap(), t);
            assert_eq!(&desdecode(&KEY, &pk, PADDING_PKCS7).unwrap(), t);
            if !t.is_empty() {
                let x = xor_str(b"the quick brown fox", t).unwrap();
                assert_eq!(x, vector(&format!("xor{n}")));
            }
        }
    }

    #[test]
    fn macs_and_dh_match_skynet() {
        let a = [0u8, 1, 2, 3, 4, 5, 6, 7];
        let b = [255u8, 254, 253, 252, 251, 250, 249, 248];
        assert_eq!(
            hmac_sha1(&[b'k'; 100], b"text").to_vec(),
            vector("hmac_sha1_longkey")
        );
        assert_eq!(hmac64(&a, &b).to_vec(), vector("hmac64"));
        assert_eq!(
            hmac64(&KEY, &hashkey(b"challenge")).to_vec(),
            vector("hmac64_b")
        );
        assert_eq!(hmac64_md5(&a, &b).to_vec(), vector("hmac64_md5"));
        assert_eq!(dhexchange(&a).unwrap().to_vec(), vector("dhexchange_a"));
        assert_eq!(dhexchange(&KEY).unwrap().to_vec(), vector("dhexchange_key"));
        assert_eq!(
            dhexchange(&[255; 8]).unwrap().to_vec(),
            vector("dhexchange_max")
        );
        let s1 = dhsecret(&dhexchange(&a).unwrap(), &KEY).unwrap();
        let s2 = dhsecret(&dhexchange(&KEY).unwrap(), &a).unwrap();
        assert_eq!(s1.to_vec(), vector("dhsecret"));
        assert_eq!(s1, s2);
        assert_eq!(
            dhsecret(&KEY, &[1, 0, 0, 0, 0, 0, 0, 0]).unwrap().to_vec(),
            vector("dhsecret_one")
        );
        assert!(dhexchange(&[0; 8]).is_err());
    }

    #[test]
    fn md5_rounds_are_md5_without_the_final_add() {
        // one padded block of 48 bytes: md5 = rounds + initial state
        let msg: Vec<u8> = (0u8..48).collect();
        let mut block = [0u8; 64];
        block[..48].copy_from_slice(&msg);
        block[48] = 0x80;
        block[56..].copy_from_slice(&(48u64 * 8).to_le_bytes());
        let mut w = [0u32; 16];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_le_bytes(c.try_into().unwrap());
        }
        let r = md5_rounds(&w);
        let init = [0x67452301u32, 0xefcdab89, 0x98badcfe, 0x10325476];
        let mut got = Vec::new();
        for i in 0..4 {
            got.extend_from_slice(&r[i].wrapping_add(init[i]).to_le_bytes());
        }
        assert_eq!(got, Md5::digest(&msg).to_vec());
    }

    #[test]
    fn decoders_match_skynet() {
        let cases: [&[u8]; 10] = [
            b"aGVsbG8=",
            b"aGVsbG8",
            b"aGV sbG8=",
            b"aGVsbG8=\n",
            b"YQ",
            b"YWI=",
            b"////",
            b"",
            b"YR==",
            b"Y",
        ];
        for (i, c) in cases.iter().enumerate() {
            let got = match base64decode(c) {
                Ok(v) => v,
                Err(e) => format!("error {e}").into_bytes(),
            };
            assert_eq!(got, vector(&format!("unb64_{}", i + 1)), "case {}", i + 1);
        }
        assert_eq!(hexdecode(b"00ff7fg0").unwrap(), vector("unhex"));
        let err = |e: String| format!("false {e}").into_bytes();
        assert_eq!(
            err(desdecode(&KEY, b"1234567", 0).unwrap_err()),
            vector("err_deslen")
        );
        assert_eq!(err(hexdecode(b"ABC").unwrap_err()), vector("err_hexlen"));
        assert_eq!(err(hexdecode(b"AB").unwrap_err()), vector("err_hex"));
        assert_eq!(
            err(desencode(b"short", b"x", 0).unwrap_err()),
            vector("err_key")
        );
        assert_eq!(err(base64decode(b"a===").unwrap_err()), vector("err_b64"));
        assert!(desdecode(&KEY, &[0u8; 8], 0).is_err());
    }

    #[test]
    fn randomkey_is_eight_nonzero_xor_bytes() {
        for _ in 0..100 {
            let k = randomkey();
            assert_ne!(k.iter().fold(0, |a, b| a ^ b), 0);
        }
        assert_ne!(randomkey(), randomkey());
    }
}
