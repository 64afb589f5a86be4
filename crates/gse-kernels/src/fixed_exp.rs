//! Fixed-point `exp` of non-positive arguments and `ln` of values >= 1, for softmax.
//!
//! Softmax only ever needs `e^z` for `z = x - max(x) <= 0`, so a narrow fixed-point routine is
//! much faster than a general one: `e^z = 2^w` with `w = z * log2(e)`, split into its integer
//! part (an exponent) and a fraction whose power of two comes from a 1024-entry table (8 KiB,
//! L1-resident) times a cubic. Error budget, relative to `e^z`:
//! - the argument is given in Q40, so a caller's rounding of `z` costs at most `2^-41`;
//! - `w` is truncated to Q52: below `2^-52 * ln 2`;
//! - the cubic for `2^r`, `r < 2^-10`, drops `(r ln 2)^4 / 24 < 2^-46.5`;
//! - table entries (products of up to ten roots) and Horner steps truncate in Q62: below
//!   `2^-57`.
//!
//! So [`exp_neg_q40`] is within `2^-46` of `e^z` for the exact `z` it is given.

use gse::Dyadic;

/// Fractional bits of the argument `z` of [`exp_neg_q40`].
pub(crate) const Z_FRAC_BITS: u32 = 40;
/// Below this argument `e^z < 2^-200`: every format flushes it (its smallest half quantum is
/// `2^-152`), so the routine returns zero there.
pub(crate) const Z_MIN: i64 = -(140 << Z_FRAC_BITS);

/// `log2(e)` in Q62, truncated.
const LOG2_E_Q62: i128 = 0x5c55_1d94_ae0b_f85d;
/// `ln 2` in Q64, truncated.
const LN2_Q64: u128 = 0xb172_17f7_d1cf_79ab;
/// `ln 2` in Q62, rounded to nearest.
pub(crate) const LN2: Dyadic = Dyadic::new(0x2c5c_85fd_f473_de6b, -62);

const ONE_Q62: u64 = 1 << 62;
/// Fractional bits of `w = z * log2(e)`.
const W_FRAC_BITS: u32 = 52;
/// The table covers the top 10 fraction bits of `w`.
const TABLE_BITS: u32 = 10;
const TABLE_LEN: usize = 1 << TABLE_BITS;
const REST_BITS: u32 = W_FRAC_BITS - TABLE_BITS;

/// `2^(j/1024)` in Q62 for `j` in `0..1024`, built at compile time from repeated integer
/// square roots of 2 (each entry within a few units of its last place).
static EXP2_TABLE: [u64; TABLE_LEN] = exp2_table();

const fn exp2_table() -> [u64; TABLE_LEN] {
    // roots[k] = 2^(2^-(k+1)) in Q62: sqrt(2), 2^(1/4), ..., 2^(1/1024).
    let mut roots = [0u64; TABLE_BITS as usize];
    let mut prev: u128 = 2 << 62;
    let mut k = 0;
    while k < TABLE_BITS as usize {
        prev = (prev << 62).isqrt();
        roots[k] = prev as u64;
        k += 1;
    }
    let mut table = [0u64; TABLE_LEN];
    let mut j = 0;
    while j < TABLE_LEN {
        let mut acc: u128 = ONE_Q62 as u128;
        let mut bit = 0;
        while bit < TABLE_BITS as usize {
            // The top bit of j is worth 1/2, the lowest 1/1024.
            if j & (1 << (TABLE_BITS as usize - 1 - bit)) != 0 {
                acc = (acc * roots[bit] as u128) >> 62;
            }
            bit += 1;
        }
        table[j] = acc as u64;
        j += 1;
    }
    table
}

#[inline(always)]
fn mul_q62(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) >> 62) as u64
}

/// `e^z` for `z = z_q40 / 2^40 <= 0`, as `(mant, exp)` with `e^z ~ mant * 2^exp` and `mant`
/// in `[2^62, 2^63)`; `(0, 0)` when `z < -140` (see [`Z_MIN`]). Within `2^-46` relative.
#[inline]
pub(crate) fn exp_neg_q40(z_q40: i64) -> (u64, i32) {
    debug_assert!(z_q40 <= 0);
    if z_q40 < Z_MIN {
        return (0, 0);
    }
    // |z| < 2^48 and log2(e) < 2^63: the product fits an i128; Q102 -> Q52.
    let w = ((z_q40 as i128 * LOG2_E_Q62) >> (Z_FRAC_BITS + 62 - W_FRAC_BITS)) as i64;
    let int_part = (w >> W_FRAC_BITS) as i32; // floor
    let frac = (w & ((1 << W_FRAC_BITS) - 1)) as u64;
    let j = (frac >> REST_BITS) as usize;
    let rest = frac & ((1 << REST_BITS) - 1); // still Q52, below 2^-10
    // x = rest * ln 2 in Q62: Q52 * Q64 = Q116, >> 54.
    let x = ((rest as u128 * LN2_Q64) >> (W_FRAC_BITS + 64 - 62)) as u64;
    // 2^rest = e^x = 1 + x(1 + x/2(1 + x/3)), all in Q62.
    let mut h = ONE_Q62 + x / 3;
    h = ONE_Q62 + mul_q62(x, h) / 2;
    h = ONE_Q62 + mul_q62(x, h);
    let mant = mul_q62(EXP2_TABLE[j], h);
    (mant, int_part - 62)
}

/// `ln(s)` for `s >= 1`, within `2^-58` relative: `s = 2^k * m` with `m` in
/// `[sqrt(1/2), sqrt(2))`, `ln m = 2 atanh(t)` with `t = (m - 1)/(m + 1)`, `|t| < 0.172`.
/// Used once per softmax row, so it favours simplicity over speed.
pub(crate) fn ln_at_least_one(s: Dyadic) -> Dyadic {
    debug_assert!(s.cmp_value(Dyadic::ONE).is_ge());
    let s = s.normalized(Dyadic::PRECISION);
    // s = mant * 2^exp with mant in [2^61, 2^62): m = mant * 2^-61 in [1, 2).
    let mut k = s.exp + 61;
    let mut m = Dyadic::new(s.mant, -61);
    // Fold m above sqrt(2) ~ 1.0110101b into the lower half so |t| stays small; the test on
    // the top 8 bits (1.0110101b = 181) may err either way by 2^-7, which keeps |t| < 0.18.
    if s.mant >> 54 >= 0b1011_0101 {
        m = m.shl(-1);
        k += 1;
    }
    let num = m.sub(Dyadic::ONE);
    let den = m.add(Dyadic::ONE);
    let t = num.div(den).unwrap_or(Dyadic::ZERO);
    let t2 = t.mul(t);
    // atanh t = t + t^3/3 + t^5/5 + ...; |t|^2 < 2^-5, 13 terms reach 2^-64.
    let mut power = t;
    let mut series = t;
    for j in 1..=13i64 {
        power = power.mul(t2);
        let term = power
            .div(Dyadic::from_int(2 * j + 1))
            .unwrap_or(Dyadic::ZERO);
        series = series.add(term);
    }
    Dyadic::from_int(k as i64).mul(LN2).add(series.shl(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_starts_at_one_and_squares_back_to_two() {
        assert_eq!(EXP2_TABLE[0], ONE_Q62);
        // (2^(512/1024))^2 = 2 within a few units of Q62.
        let sq = (EXP2_TABLE[512] as u128 * EXP2_TABLE[512] as u128) >> 62;
        assert!((2u128 << 62).abs_diff(sq) < 16);
        for w in EXP2_TABLE.windows(2) {
            assert!(w[0] < w[1]);
        }
    }

    #[test]
    fn exp_of_exact_powers() {
        // e^0 = 1: mant 2^62 at exponent -62.
        let (m, e) = exp_neg_q40(0);
        assert_eq!(e, -62);
        assert!(m.abs_diff(ONE_Q62) < 64);
        // e^(-ln 2 * 3) = 1/8.
        let z = -(((LN2_Q64 * 3) >> 24) as i64);
        let (m, e) = exp_neg_q40(z);
        let value = Dyadic::new(m as i64, e);
        let err = value.sub(Dyadic::new(1, -3)).abs();
        assert!(err.top() < -3 - 38, "{value:?}");
        assert_eq!(exp_neg_q40(Z_MIN - 1), (0, 0));
    }

    #[test]
    fn exp_is_within_2_pow_minus_46_of_gse_math() {
        let mut rng = gse::SplitMix64::new(17);
        for i in 0..100_000 {
            // Small arguments densely, then the whole range down to Z_MIN.
            let z = if i % 2 == 0 {
                -(rng.below(1 << 44) as i64)
            } else {
                -(rng.below((-Z_MIN) as u64) as i64)
            };
            let (m, e) = exp_neg_q40(z);
            let got = Dyadic::new(m as i64, e);
            let want = gse_math::exp(Dyadic::new(z, -40)).finite().unwrap();
            if want.is_zero() {
                // gse-math flushes below 2^-160.
                assert!(got.top() <= -159, "z = {z}");
                continue;
            }
            let err = got.sub(want).abs();
            assert!(
                err.shl(46).cmp_value(want).is_le(),
                "z = {z}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn ln_of_powers_of_two_and_near_one() {
        let l8 = ln_at_least_one(Dyadic::from_int(8));
        let err = l8.sub(Dyadic::from_int(3).mul(LN2)).abs();
        assert!(err.top() < -56);
        assert!(ln_at_least_one(Dyadic::ONE).is_zero());
        // ln(1 + 2^-40) = 2^-40 - 2^-81 + ...
        let tiny = ln_at_least_one(Dyadic::ONE.add(Dyadic::new(1, -40)));
        let err = tiny.sub(Dyadic::new(1, -40)).abs();
        assert!(err.top() <= -80, "{tiny:?}");
    }
}
