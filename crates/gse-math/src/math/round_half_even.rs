//! Round to nearest, ties to even (IEEE `roundeven`, torch `round`).

use core::cmp::Ordering;

use gse::Dyadic;

use super::integer_part::{signed, split};

/// The integer nearest `x`, ties to the even one, exact.
pub fn round_half_even(x: Dyadic) -> Dyadic {
    match split(x) {
        None => x,
        Some(s) => {
            let up = match s.half {
                Ordering::Greater => true,
                Ordering::Equal => s.whole & 1 == 1,
                Ordering::Less => false,
            };
            signed(s.negative, s.whole + up as u64)
        }
    }
}
