//! cirrus-bench: load generators for Cirrus nodes.
fn main() {
    eprintln!("cirrus-bench: being written");
}
