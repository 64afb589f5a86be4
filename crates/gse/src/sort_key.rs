//! A total-order integer key for values of any scale, so sorting never compares dyadics.

use crate::dyadic::Dyadic;

/// Mantissa bits of the key (values with more significant bits are ordered by their top 52).
const KEY_MANT_BITS: u32 = 52;
/// Added to `top()` so every representable magnitude gives a positive key.
const KEY_TOP_BIAS: i32 = 512;

/// `a < b` exactly when `order_key(a) < order_key(b)` for values with at most 52 significant
/// bits and magnitudes in `[2^-511, 2^511)` (every GSE and f32 value). Zero maps to 0.
pub fn order_key(value: Dyadic) -> i64 {
    if value.is_zero() {
        return 0;
    }
    let top = value.top().clamp(1 - KEY_TOP_BIAS, 1023 - KEY_TOP_BIAS);
    let norm = value.abs().normalized(KEY_MANT_BITS + 1).mant;
    let key =
        (((top + KEY_TOP_BIAS) as i64) << KEY_MANT_BITS) | (norm & ((1 << KEY_MANT_BITS) - 1));
    if value.is_negative() { -key } else { key }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_like_values() {
        let vals = [
            Dyadic::new(-3, 10),
            Dyadic::new(-1, 0),
            Dyadic::new(-1, -100),
            Dyadic::ZERO,
            Dyadic::new(1, -149),
            Dyadic::new(3, -2),
            Dyadic::new(1, 0),
            Dyadic::new(5, 100),
        ];
        for w in vals.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]), "{:?} {:?}", w[0], w[1]);
        }
    }
}
