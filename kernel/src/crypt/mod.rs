//! Hashes, MACs, key derivation and randomness for Lua services (`require "cirrus.crypt"`, over the
//! native `cirrus.crypt.core`).
//! The game's auth role uses them for passwords (PBKDF2-HMAC-SHA256), challenge proofs
//! (HMAC-SHA256) and tokens; docs/PROTOCOL.md gives the exact construction.
//!
//! Key derivation is deliberately slow, so `pbkdf2_sha256` runs on tokio's blocking pool and
//! answers through the IO bridge: only the calling coroutine waits, never a worker thread.

pub mod skynet;

use crate::lua::io::spawn_io;
use crate::lua::seri::Writer;
use hmac::{Hmac, Mac};
use mlua::{Lua, LuaString};
use sha2::{Digest, Sha256};

/// Upper bound on PBKDF2 iterations from Lua (a typo must not pin a thread for minutes).
pub const MAX_ITERATIONS: u32 = 10_000_000;
/// Upper bound on one `randombytes` / derived key length.
const MAX_BYTES: usize = 1 << 20;

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().into()
}

pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
    out
}

/// Compare without an early exit, so timing does not tell how many leading bytes matched.
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn random_bytes(n: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; n];
    getrandom::getrandom(&mut out).map_err(|e| format!("randombytes: {e}"))?;
    Ok(out)
}

pub fn open(lua: &Lua) -> mlua::Result<mlua::Table> {
    let t = lua.create_table()?;
    t.set(
        "sha256",
        lua.create_function(|lua, s: LuaString| lua.create_string(sha256(&s.as_bytes())))?,
    )?;
    t.set(
        "hmac_sha256",
        lua.create_function(|lua, (k, m): (LuaString, LuaString)| {
            lua.create_string(hmac_sha256(&k.as_bytes(), &m.as_bytes()))
        })?,
    )?;
    // pbkdf2_sha256(password, salt, iterations [, len = 32]) -> session; `crypt.pbkdf2_sha256`
    // in lualib/cirrus/crypt.lua awaits it.
    t.set(
        "pbkdf2_sha256",
        lua.create_function(
            |lua, (pw, salt, iters, len): (LuaString, LuaString, i64, Option<i64>)| {
                let len = len.unwrap_or(32);
                if !(1..=MAX_ITERATIONS as i64).contains(&iters) {
                    return Err(mlua::Error::runtime(format!(
                        "pbkdf2_sha256: iterations must be 1..{MAX_ITERATIONS}, got {iters}"
                    )));
                }
                if !(1..=1024).contains(&len) {
                    return Err(mlua::Error::runtime(format!(
                        "pbkdf2_sha256: key length must be 1..1024, got {len}"
                    )));
                }
                let (pw, salt) = (pw.as_bytes().to_vec(), salt.as_bytes().to_vec());
                spawn_io(lua, async move {
                    let key = tokio::task::spawn_blocking(move || {
                        pbkdf2_sha256(&pw, &salt, iters as u32, len as usize)
                    })
                    .await
                    .map_err(|e| format!("pbkdf2_sha256: {e}"))?;
                    let mut w = Writer::with_capacity(key.len() + 8);
                    w.string(&key);
                    Ok(w.finish())
                })
            },
        )?,
    )?;
    t.set(
        "randombytes",
        lua.create_function(|lua, n: i64| {
            if !(0..=MAX_BYTES as i64).contains(&n) {
                return Err(mlua::Error::runtime(format!(
                    "randombytes: length must be 0..{MAX_BYTES}, got {n}"
                )));
            }
            lua.create_string(random_bytes(n as usize).map_err(mlua::Error::runtime)?)
        })?,
    )?;
    t.set(
        "hexencode",
        lua.create_function(|lua, s: LuaString| lua.create_string(hex::encode(s.as_bytes())))?,
    )?;
    t.set(
        "hexdecode",
        lua.create_function(|lua, s: LuaString| match hex::decode(s.as_bytes()) {
            Ok(b) => Ok((Some(lua.create_string(b)?), None)),
            Err(e) => Ok((None, Some(format!("hexdecode: {e}")))),
        })?,
    )?;
    t.set(
        "equal",
        lua.create_function(|_, (a, b): (LuaString, LuaString)| {
            Ok(equal(&a.as_bytes(), &b.as_bytes()))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: &[u8]) -> String {
        hex::encode(b)
    }

    #[test]
    fn sha256_vector() {
        assert_eq!(
            h(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_rfc4231_case2() {
        assert_eq!(
            h(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn pbkdf2_rfc7914_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64)
        assert_eq!(
            h(&pbkdf2_sha256(b"passwd", b"salt", 1, 64)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
    }

    #[test]
    fn constant_time_equal() {
        assert!(equal(b"abc", b"abc"));
        assert!(!equal(b"abc", b"abd"));
        assert!(!equal(b"abc", b"ab"));
    }
}
