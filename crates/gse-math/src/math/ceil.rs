//! Round toward positive infinity.

use gse::Dyadic;

use super::integer_part::{signed, split};

/// The smallest integer `>= x`, exact.
pub fn ceil(x: Dyadic) -> Dyadic {
    match split(x) {
        None => x,
        Some(s) => signed(s.negative, s.whole + !s.negative as u64),
    }
}
