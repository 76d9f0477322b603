//! One error type per stage, so callers can tell a bad schema from a bad message.

use thiserror::Error;

/// A schema text error; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    pub line: usize,
    pub reason: String,
}

/// A binary schema bundle that cannot be loaded, or a schema that fails validation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid sproto schema: {0}")]
pub struct SchemaError(pub String);

#[derive(Debug, Clone, PartialEq, Error)]
pub enum EncodeError {
    #[error("unknown sproto type {0}")]
    UnknownType(String),
    #[error("{ty}.{field}: expected {expected}, got {got}")]
    Mismatch {
        ty: String,
        field: String,
        expected: &'static str,
        got: &'static str,
    },
    #[error("type {ty} has no field {field}")]
    UnknownField { ty: String, field: String },
    #[error("{ty}.{field}: {len} bytes exceed the 4 GiB length prefix")]
    TooLarge {
        ty: String,
        field: String,
        len: usize,
    },
    #[error("message nested deeper than {0} levels")]
    TooDeep(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("unknown sproto type {0}")]
    UnknownType(String),
    #[error("truncated {ty} message")]
    Truncated { ty: String },
    #[error("{ty}.{field}: {reason}")]
    Invalid {
        ty: String,
        field: String,
        reason: &'static str,
    },
    #[error("message nested deeper than {0} levels")]
    TooDeep(usize),
}

/// A 0-packed stream that ends in the middle of a group.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid packed sproto stream (truncated at byte {offset})")]
pub struct UnpackError {
    pub offset: usize,
}

/// RPC failures: framing problems plus the encode/decode errors underneath.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RpcError {
    #[error("unknown package type {0}")]
    UnknownType(String),
    #[error("unknown protocol {0}")]
    UnknownProtocol(String),
    #[error("unknown session {0}")]
    UnknownSession(i64),
    #[error("package header has neither type nor session")]
    MissingSession,
    #[error("package header field {0} must be an integer")]
    BadHeader(&'static str),
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// `sprotoloader` slot numbers run from 0 to [`super::loader::SLOTS`] - 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid sproto slot {0} (expected 0..{max})", max = super::loader::SLOTS)]
pub struct SlotError(pub i64);
