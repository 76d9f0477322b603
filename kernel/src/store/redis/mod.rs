//! `skynet.db.redis`: the redis crate on the node's tokio runtime. Commands from every coroutine
//! of a service share one multiplexed connection; transactions take a dedicated one; pub/sub
//! runs in its own task. See `lualib/skynet/db/redis.lua` for the Lua API.

pub mod conn;
pub mod lua;
pub mod reply;
pub mod watch;

pub use lua::open;
