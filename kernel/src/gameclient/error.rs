//! What can go wrong talking to a game server, with enough context to tell where.

use crate::sproto::RpcError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("connect {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connect {addr}: timed out after {secs:.1} s")]
    ConnectTimeout { addr: String, secs: f64 },
    #[error("websocket handshake with {addr}: {source}")]
    Handshake {
        addr: String,
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    WebSocket {
        context: &'static str,
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    #[error("packet of {0} bytes does not fit a 2-byte length frame (at most 65535)")]
    FrameTooLarge(usize),
    #[error("encode {request}: {source}")]
    Encode {
        request: String,
        #[source]
        source: RpcError,
    },
    #[error("{request}: the connection closed before the answer")]
    Closed { request: String },
    #[error("{request}: no answer within {secs:.1} s")]
    Timeout { request: String, secs: f64 },
    #[error("{request}: server answered code {code} ({})", super::codes::name(*code))]
    Code { request: String, code: i64 },
    #[error("{request}: response lacks {field}")]
    MissingField {
        request: &'static str,
        field: &'static str,
    },
    #[error("auth_challenge: server asks for {0} PBKDF2 iterations (allowed 1..=10000000)")]
    BadIterations(i64),
    #[error("auth_proof: the server proof does not match (the server does not know the key)")]
    BadServerProof,
    #[error("random bytes: {0}")]
    Random(String),
    #[error("{0}")]
    Task(String),
    #[error("kicked (reason {reason}: {message})")]
    Kicked { reason: i64, message: String },
}

impl ClientError {
    /// The server's error code when the error is a non-zero response code.
    pub fn code(&self) -> Option<i64> {
        match self {
            ClientError::Code { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A short, stable label for counting errors by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::Connect { .. } => "connect",
            ClientError::ConnectTimeout { .. } => "connect timeout",
            ClientError::Handshake { .. } => "websocket handshake",
            ClientError::Io { .. } | ClientError::WebSocket { .. } => "io",
            ClientError::FrameTooLarge(_) => "frame too large",
            ClientError::Encode { .. } => "encode",
            ClientError::Closed { .. } => "closed by server",
            ClientError::Timeout { .. } => "timeout",
            ClientError::Code { .. } => "error code",
            ClientError::MissingField { .. } => "missing field",
            ClientError::BadIterations(_) => "bad iterations",
            ClientError::BadServerProof => "bad server proof",
            ClientError::Random(_) => "random",
            ClientError::Task(_) => "task",
            ClientError::Kicked { .. } => "kicked",
        }
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;
