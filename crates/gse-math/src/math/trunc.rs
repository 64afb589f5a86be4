//! Round toward zero.

use gse::Dyadic;

use super::integer_part::{signed, split};

/// The integer part of `x` (rounded toward zero), exact.
pub fn trunc(x: Dyadic) -> Dyadic {
    match split(x) {
        None => x,
        Some(s) => signed(s.negative, s.whole),
    }
}
