//! Round toward negative infinity.

use gse::Dyadic;

use super::integer_part::{signed, split};

/// The largest integer `<= x`, exact.
pub fn floor(x: Dyadic) -> Dyadic {
    match split(x) {
        None => x,
        Some(s) => signed(s.negative, s.whole + s.negative as u64),
    }
}
