//! Benchmarks (stub).
fn main() {}
