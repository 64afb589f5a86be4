//! A cheap exact order key for stored GSE values, for the hot loops of max/min, sort and
//! comparisons. It orders exactly like [`gse::sort_key::order_key`] but works on the stored
//! `(mantissa, lsb)` pair directly, with no normalization through a [`gse::Dyadic`].

/// Added to the value's top so every key of a non-zero value is positive before the sign.
const TOP_BIAS: i64 = 1 << 10;
/// The normalized magnitude sits in the key's low 31 bits.
const MAG_BITS: u32 = 31;

/// A key with `key(a) < key(b)` exactly when `a < b`, for values `m * 2^e` with `|m| < 2^31`
/// and `|e| < 2^9` (every GSE value). Zero maps to 0.
#[inline(always)]
pub(crate) fn value_key(m: i32, e: i32) -> i64 {
    if m == 0 {
        return 0;
    }
    let mag = m.unsigned_abs();
    let bits = 32 - mag.leading_zeros(); // 1..=31
    // The magnitude lies in [2^(top-1), 2^top); normalized, it fills bits 30..0 from the top.
    let top = (e + bits as i32) as i64;
    let norm = (mag << (MAG_BITS - bits)) as i64;
    let key = ((top + TOP_BIAS) << MAG_BITS) | norm;
    // Branch-free negation for negative values: signs are random in real data.
    let sign = (m >> 31) as i64;
    (key ^ sign) - sign
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::Dyadic;
    use gse::sort_key::order_key;

    #[test]
    fn orders_like_order_key() {
        let mut rng = gse::SplitMix64::new(7);
        let mut draw = || {
            let bits = rng.below(25) as u32;
            let m = (rng.next_u64() & ((1 << bits) - 1)) as i32;
            let m = if rng.below(2) == 0 { -m } else { m };
            (m, rng.below(280) as i32 - 152)
        };
        for _ in 0..200_000 {
            let (a, b) = (draw(), draw());
            let (da, db) = (Dyadic::new(a.0 as i64, a.1), Dyadic::new(b.0 as i64, b.1));
            assert_eq!(
                value_key(a.0, a.1).cmp(&value_key(b.0, b.1)),
                order_key(da).cmp(&order_key(db)),
                "{a:?} {b:?}"
            );
        }
    }
}
