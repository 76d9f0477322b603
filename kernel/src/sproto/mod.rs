//! sproto: cloudwu's schema-driven binary protocol, reimplemented in Rust.
//!
//! Why a rewrite instead of binding the C library: the gate and other native actors need to
//! encode and decode client messages without a Lua state, the decoder must treat every byte
//! from the network as hostile (bounded allocations, no panics), and schemas must be shared by
//! `Arc` across the Lua states of one process. Compatibility is the contract: the wire format,
//! the 0-packing and the binary schema bundle are byte-identical to cloudwu/sproto, and
//! `lualib/sproto.lua` exposes the same Lua API on top of [`lua::open_core`].
//!
//! Pipeline: schema text --[`parser`]--> [`Sproto`] <--bundle--> bytes;
//! [`Struct`] --encode--> wire --[`pack`]--> packet, and back with [`unpack`] and decode.
//! [`rpc`] adds the package header / session layer, [`loader`] the process-wide slots.

mod bundle;
mod cli;
mod decode;
mod encode;
mod error;
pub mod loader;
pub mod lua;
mod pack;
mod parser;
pub mod rpc;
mod schema;
mod value;

#[cfg(test)]
mod tests;

pub use cli::{cli_check, cli_dump, dump};
pub use error::{
    DecodeError, EncodeError, ParseError, RpcError, SchemaError, SlotError, UnpackError,
};
pub use pack::{pack, pack_into, unpack, unpack_into};
pub use rpc::{Host, Message, Request, Responder, Response};
pub use schema::{Field, FieldType, Protocol, Sproto, Type, MAX_DECIMAL, MAX_DEPTH, MAX_TAG};
pub use value::{Name, Struct, Value};
