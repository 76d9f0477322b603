// cirrus: not in the published crate. Rebuild (and so rebuild Lua in mlua-sys, whose build
// script depends on this crate) when a Lua source file changes.
fn main() {
    println!("cargo:rerun-if-changed=lua-5.5.1");
    println!("cargo:rerun-if-changed=lua-5.4.9");
    println!("cargo:rerun-if-changed=src");
}
