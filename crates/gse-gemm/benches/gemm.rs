//! Placeholder until the GEMM bench lands.
fn main() {}
