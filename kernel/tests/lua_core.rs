//! The skynet core API, exercised by Lua test services under `tests/core/` through the real
//! binary. Each Rust test runs one Lua suite in a fresh node.

mod common;

#[test]
fn messaging() {
    common::assert_lua_suite("test_messaging", 2);
}

#[test]
fn coroutines_timers_queue() {
    common::assert_lua_suite("test_coroutine", 2);
}

#[test]
fn pack_unpack() {
    common::assert_lua_suite("test_pack", 2);
}

#[test]
fn services_lifecycle_sharedata() {
    common::assert_lua_suite("test_services", 2);
}

#[test]
fn messaging_single_thread() {
    // the same suite on one worker: no reliance on parallelism
    common::assert_lua_suite("test_messaging,test_coroutine", 1);
}

#[test]
fn sproto_in_services() {
    common::assert_lua_suite("test_sproto_msg", 2);
}

#[test]
fn skynet_compat_modules() {
    common::assert_lua_suite("test_compat", 2);
}
