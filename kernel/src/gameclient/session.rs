//! Logging in and out as docs/PROTOCOL.md describes: visitor login, register, the password
//! handshake (auth_challenge, auth_proof, login), logout and reconnect.

use super::auth::{self, KeyCache};
use super::conn::{Client, Response};
use super::error::{ClientError, Result};
use crate::crypt::random_bytes;
use crate::sproto::{Struct, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PLATFORM: &str = "cirrus-gameclient";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long `logout` waits for the server to close the connection after answering.
const LOGOUT_CLOSE: Duration = Duration::from_secs(5);

/// A successful login.
#[derive(Debug, Clone)]
pub struct Login {
    pub uid: i64,
    /// The reconnect token.
    pub token: String,
    pub player: Struct,
    pub server_time: Option<i64>,
    /// From the first handshake request to the login answer (queue time included).
    pub latency: Duration,
    /// `queue_wait` pushes received while waiting.
    pub queue_waits: u64,
}

impl Login {
    pub fn gold(&self) -> Option<i64> {
        self.player.get("gold").and_then(Value::as_integer)
    }

    pub fn nickname(&self) -> Option<&str> {
        self.player.get("nickname").and_then(Value::as_str)
    }
}

/// The answer to `reconnect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    pub resumed: bool,
    /// The server's current packet sequence.
    pub seq: i64,
    pub room_id: i64,
    pub desk_id: i64,
}

fn bytes_field(r: &Response, field: &'static str) -> Result<Vec<u8>> {
    r.body
        .get(field)
        .and_then(Value::as_bytes)
        .map(|b| b.to_vec())
        .ok_or(ClientError::MissingField {
            request: static_name(&r.name),
            field,
        })
}

fn int_field(r: &Response, field: &'static str) -> Result<i64> {
    r.int(field).ok_or(ClientError::MissingField {
        request: static_name(&r.name),
        field,
    })
}

/// The request names this module sends, as `'static` for error values.
fn static_name(name: &str) -> &'static str {
    [
        "visitor_login",
        "login",
        "register",
        "auth_challenge",
        "auth_proof",
        "reconnect",
    ]
    .into_iter()
    .find(|n| *n == name)
    .unwrap_or("response")
}

pub fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Client {
    fn login_answer(&self, r: Response, started: Instant, queue_before: u64) -> Result<Login> {
        let r = r.check()?;
        let token = r
            .body
            .get("token")
            .and_then(Value::as_str)
            .ok_or(ClientError::MissingField {
                request: static_name(&r.name),
                field: "token",
            })?
            .to_string();
        Ok(Login {
            uid: int_field(&r, "uid")?,
            token,
            player: r
                .body
                .get("player")
                .and_then(Value::as_struct)
                .cloned()
                .unwrap_or_default(),
            server_time: r.int("server_time"),
            latency: started.elapsed(),
            queue_waits: self.stats().queue_waits - queue_before,
        })
    }

    /// `visitor_login { device_id }`: the same device always gets the same player. Waits in
    /// the login queue if the server is full.
    pub async fn visitor_login(&self, device_id: &str) -> Result<Login> {
        let started = Instant::now();
        let queued = self.stats().queue_waits;
        let body = Struct::new()
            .with("device_id", device_id)
            .with("platform", PLATFORM)
            .with("version", VERSION);
        let r = self.request_queued("visitor_login", body).await?;
        self.login_answer(r, started, queued)
    }

    /// `register { account, password, nickname }`: the new player's uid.
    pub async fn register(&self, account: &str, password: &str, nickname: &str) -> Result<i64> {
        let body = Struct::new()
            .with("account", account)
            .with("password", password)
            .with("nickname", nickname);
        let r = self.request("register", body).await?.check()?;
        int_field(&r, "uid")
    }

    /// The challenge-response half of a password login: `auth_challenge`, then `auth_proof`
    /// with the derived key, checking the server's proof. Returns the one-time auth token.
    /// A code from the server (e.g. 13, unknown account) comes back as `ClientError::Code`.
    pub async fn auth_token(
        &self,
        account: &str,
        password: &str,
        keys: &KeyCache,
    ) -> Result<String> {
        let client_nonce = random_bytes(32).map_err(ClientError::Random)?;
        let body = Struct::new()
            .with("account", account)
            .with("client_nonce", client_nonce.clone());
        let ch = self.request("auth_challenge", body).await?.check()?;
        let server_nonce = bytes_field(&ch, "server_nonce")?;
        let salt = bytes_field(&ch, "salt")?;
        let iterations = auth::iterations(int_field(&ch, "iterations")?)?;
        let key = keys.key(account, password, &salt, iterations).await?;
        let proof = auth::client_proof(&key, &client_nonce, &server_nonce);
        let body = Struct::new()
            .with("account", account)
            .with("proof", proof.to_vec());
        let pr = self.request("auth_proof", body).await?.check()?;
        let server_proof = bytes_field(&pr, "server_proof")?;
        if !auth::check_server_proof(&key, &client_nonce, &server_nonce, &server_proof) {
            return Err(ClientError::BadServerProof);
        }
        pr.body
            .get("auth_token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(ClientError::MissingField {
                request: "auth_proof",
                field: "auth_token",
            })
    }

    /// A whole password login: the handshake, then `login { account, auth_token }` (which may
    /// wait in the login queue).
    pub async fn password_login(
        &self,
        account: &str,
        password: &str,
        keys: &KeyCache,
    ) -> Result<Login> {
        let started = Instant::now();
        let queued = self.stats().queue_waits;
        let token = self.auth_token(account, password, keys).await?;
        let body = Struct::new()
            .with("account", account)
            .with("auth_token", token)
            .with("platform", PLATFORM)
            .with("version", VERSION);
        let r = self.request_queued("login", body).await?;
        self.login_answer(r, started, queued)
    }

    /// `heartbeat { client_time }`.
    pub async fn heartbeat(&self) -> Result<Response> {
        self.request(
            "heartbeat",
            Struct::new().with("client_time", unix_millis()),
        )
        .await
    }

    /// `logout`, then wait for the server to close the connection as the protocol says
    /// (it pushes `kick { reason = 5 }` and closes).
    pub async fn logout(&self) -> Result<()> {
        self.request("logout", Struct::new()).await?.check()?;
        if self.wait_closed(LOGOUT_CLOSE).await {
            Ok(())
        } else {
            self.close().await;
            Err(ClientError::Timeout {
                request: "logout: the server closing the connection".to_string(),
                secs: LOGOUT_CLOSE.as_secs_f64(),
            })
        }
    }

    /// `reconnect { uid, token, last_seq }` on a fresh connection (opened with
    /// `Options::resume_from = Some(last_seq)`). When the server cannot resume, the sequence
    /// continues from the server's `seq`.
    pub async fn reconnect(&self, uid: i64, token: &str, last_seq: i64) -> Result<Resume> {
        let body = Struct::new()
            .with("uid", uid)
            .with("token", token)
            .with("last_seq", last_seq);
        let r = self.request("reconnect", body).await?.check()?;
        let resume = Resume {
            resumed: r
                .body
                .get("resumed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            seq: int_field(&r, "seq")?,
            room_id: r.int("room_id").unwrap_or(0),
            desk_id: r.int("desk_id").unwrap_or(0),
        };
        if !resume.resumed {
            self.reset_seq(resume.seq);
        }
        Ok(resume)
    }
}
