//! Being written (helper-5).
fn main() {}
