#![deny(clippy::float_arithmetic)]
