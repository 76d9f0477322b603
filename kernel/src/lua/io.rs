//! The IO bridge: Lua bindings (Redis, SQL, sockets, ...) start async Rust work on the node's
//! tokio runtime and get a session back; the result arrives as a PTYPE_RESPONSE (skynet-packed
//! values) or PTYPE_ERROR (message text) with that session, so only the calling coroutine waits
//! (`skynet.await(session)` in Lua) and no worker thread ever blocks.

use super::msgbuf::ctx_of;
use crate::node::node;
use crate::service::{Message, PTYPE_ERROR, PTYPE_RESPONSE};
use bytes::Bytes;
use mlua::Lua;
use std::future::Future;

/// Run `fut` on the IO runtime for the calling service; returns the session to wait on.
pub fn spawn_io<F>(lua: &Lua, fut: F) -> mlua::Result<i32>
where
    F: Future<Output = Result<Vec<u8>, String>> + Send + 'static,
{
    let ctx = ctx_of(lua)?;
    let session = ctx.genid();
    let handle = ctx.handle;
    node().io().spawn(async move {
        let msg = match fut.await {
            Ok(packed) => Message::new(0, session, PTYPE_RESPONSE, Bytes::from(packed)),
            Err(e) => Message::new(0, session, PTYPE_ERROR, Bytes::from(e.into_bytes())),
        };
        // The service may have exited meanwhile; then nobody is waiting.
        let _ = node().send(msg, handle);
    });
    Ok(session)
}
