//! Placeholder; replaced by the nginx comparison bench.
fn main() {}
