//! The password handshake's math (docs/PROTOCOL.md, "Logging in"):
//!
//! ```text
//! key          = PBKDF2-HMAC-SHA256(password, salt, iterations, 32 bytes)
//! proof        = HMAC-SHA256(key, client_nonce .. server_nonce)
//! server_proof = HMAC-SHA256(key, server_nonce .. client_nonce)
//! ```
//!
//! PBKDF2 is deliberately slow, so derived keys are cached per account, salt and iterations
//! (and the password they came from), and derived on tokio's blocking pool.

use super::error::{ClientError, Result};
use crate::crypt::{equal, hmac_sha256, pbkdf2_sha256, sha256, MAX_ITERATIONS};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

pub type Key = [u8; 32];

fn concat(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(a.len() + b.len());
    m.extend_from_slice(a);
    m.extend_from_slice(b);
    m
}

pub fn derive_key(password: &[u8], salt: &[u8], iterations: u32) -> Key {
    pbkdf2_sha256(password, salt, iterations, 32)
        .try_into()
        .expect("32-byte key")
}

/// What the client sends in `auth_proof`.
pub fn client_proof(key: &Key, client_nonce: &[u8], server_nonce: &[u8]) -> Key {
    hmac_sha256(key, &concat(client_nonce, server_nonce))
}

/// What the server must answer with; checked in constant time.
pub fn check_server_proof(
    key: &Key,
    client_nonce: &[u8],
    server_nonce: &[u8],
    server_proof: &[u8],
) -> bool {
    equal(
        &hmac_sha256(key, &concat(server_nonce, client_nonce)),
        server_proof,
    )
}

/// The PBKDF2 iteration count a challenge asked for, if it is one we will run.
pub fn iterations(n: i64) -> Result<u32> {
    if (1..=i64::from(MAX_ITERATIONS)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(ClientError::BadIterations(n))
    }
}

/// A cached key with the SHA-256 of the password it came from.
type Entry = ([u8; 32], Key);

#[derive(Hash, PartialEq, Eq)]
struct KeyId {
    account: String,
    salt: Vec<u8>,
    iterations: u32,
}

/// Derived keys shared by every connection of a process (clone to share).
#[derive(Clone, Default)]
pub struct KeyCache {
    /// Each key is kept with the SHA-256 of the password it was derived from, so a changed
    /// password for the same account and salt is derived again instead of reused.
    keys: Arc<Mutex<HashMap<KeyId, Entry>>>,
}

impl KeyCache {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.keys.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key for these parameters: cached, or derived off the async workers.
    pub async fn key(
        &self,
        account: &str,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Result<Key> {
        let id = KeyId {
            account: account.to_string(),
            salt: salt.to_vec(),
            iterations,
        };
        let pw_hash = sha256(password.as_bytes());
        if let Some((h, key)) = self.keys.lock().get(&id) {
            if equal(h, &pw_hash) {
                return Ok(*key);
            }
        }
        let (pw, s) = (password.as_bytes().to_vec(), id.salt.clone());
        let key = tokio::task::spawn_blocking(move || derive_key(&pw, &s, iterations))
            .await
            .map_err(|e| ClientError::Task(format!("PBKDF2 task: {e}")))?;
        self.keys.lock().insert(id, (pw_hash, key));
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed independently with Python's hashlib.pbkdf2_hmac and hmac:
    //   key = pbkdf2_hmac('sha256', b'hunter22', b'NaCl-salt-16byte', 1000, 32)
    //   cn = bytes(range(32)); sn = bytes(range(100, 116))
    const KEY: &str = "cdb8a39ca88843cd99a6b1023252487453405c11a5cf0aadec0766eea7f7fd61";
    const PROOF: &str = "f968e98e24f98af4303024daa751a01c6b72da4ac2e1a632d952323f9a21412b";
    const SERVER_PROOF: &str = "7143212682d10da10dee1b6b709d862a06fc3611c265689a3cb397a7bcd0b38d";

    fn nonces() -> (Vec<u8>, Vec<u8>) {
        ((0..32).collect(), (100..116).collect())
    }

    #[test]
    fn handshake_matches_a_hand_computed_vector() {
        let key = derive_key(b"hunter22", b"NaCl-salt-16byte", 1000);
        assert_eq!(hex::encode(key), KEY);
        let (cn, sn) = nonces();
        assert_eq!(hex::encode(client_proof(&key, &cn, &sn)), PROOF);
        let sp = hex::decode(SERVER_PROOF).unwrap();
        assert!(check_server_proof(&key, &cn, &sn, &sp));
        // The two proofs are not interchangeable: nonce order matters.
        assert!(!check_server_proof(
            &key,
            &cn,
            &sn,
            &hex::decode(PROOF).unwrap()
        ));
        let mut bad = sp.clone();
        bad[31] ^= 1;
        assert!(!check_server_proof(&key, &cn, &sn, &bad));
    }

    #[test]
    fn iteration_bounds() {
        assert_eq!(iterations(1).unwrap(), 1);
        assert_eq!(iterations(100_000).unwrap(), 100_000);
        assert!(iterations(0).is_err());
        assert!(iterations(-5).is_err());
        assert!(iterations(i64::from(MAX_ITERATIONS) + 1).is_err());
    }

    #[tokio::test]
    async fn cache_reuses_keys_and_notices_a_new_password() {
        let cache = KeyCache::new();
        let k1 = cache
            .key("alice", "hunter22", b"NaCl-salt-16byte", 1000)
            .await
            .unwrap();
        assert_eq!(hex::encode(k1), KEY);
        assert_eq!(cache.len(), 1);
        let again = cache
            .key("alice", "hunter22", b"NaCl-salt-16byte", 1000)
            .await
            .unwrap();
        assert_eq!(again, k1);
        assert_eq!(cache.len(), 1);
        let other = cache
            .key("alice", "another-pw", b"NaCl-salt-16byte", 1000)
            .await
            .unwrap();
        assert_ne!(other, k1);
        assert_eq!(other, derive_key(b"another-pw", b"NaCl-salt-16byte", 1000));
        let salted = cache
            .key("alice", "another-pw", b"other-salt", 1000)
            .await
            .unwrap();
        assert_ne!(salted, other);
        assert_eq!(cache.len(), 2);
    }
}
