//! Function prototypes shared between Lua states (Lua 5.5, vendor/README.md): the Lua suite
//! `tests/core/test_protoshare.lua` checks that framework code is shared, that strings from C,
//! from shared constants and built at run time are one object, that tracebacks, debug.getinfo,
//! string.dump and upvaluejoin work on shared closures, the fallback load of a chunk whose
//! strings a state made first, the heap of an idle service, and 1,000 services collecting
//! garbage in both modes while calling each other.

mod common;

#[test]
fn shared_prototypes_two_threads() {
    common::assert_lua_suite("test_protoshare", 2);
}

#[test]
fn shared_prototypes_one_thread() {
    common::assert_lua_suite_env(
        "test_protoshare",
        1,
        &[("CIRRUS_SHARE_N", "300".to_string())],
    );
}
