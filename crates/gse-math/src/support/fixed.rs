//! Q62 fixed point: `v` stands for `v / 2^62`, so an `i64` holds values in `[-2, 2)` with an
//! absolute resolution of `2^-62`. Polynomials and small intermediates live here.

/// One in Q62.
pub(crate) const ONE_Q62: i64 = 1 << 62;

/// `a * b` in Q62, rounded to nearest (error at most `2^-63`). The caller keeps `|a * b| < 2`.
#[inline]
pub(crate) fn mul_q62(a: i64, b: i64) -> i64 {
    ((a as i128 * b as i128 + (1 << 61)) >> 62) as i64
}

/// Most coefficients a polynomial may have (degree 15).
pub(crate) const MAX_COEFFS: usize = 16;

/// `sum c[k] u^k` by Horner's rule, all in Q62. Each step rounds once, so the evaluation error
/// is at most `degree * 2^-63` beyond the coefficients' own error when `|u| <= 1`.
#[inline]
pub(crate) fn horner_q62(coeffs: &[i64], u: i64) -> i64 {
    match coeffs.split_last() {
        Some((&last, rest)) => rest
            .iter()
            .rev()
            .fold(last, |acc, &c| c.wrapping_add(mul_q62(acc, u))),
        None => 0,
    }
}

/// The same polynomial by a two-level Estrin scheme: pairs `c[2i] + c[2i+1] u`, then pairs of
/// those in `u^2`, then Horner in `u^4`. The dependency chain is about a third of Horner's
/// (latency, not multiplications, bounds these functions), and with `|u| <= 1` every rounding
/// is still at most `2^-63` times a factor at most 1, so the error bound stays
/// `(number of multiplications) * 2^-63`. `N` is a constant, so the loops unroll; at most
/// [`MAX_COEFFS`] coefficients are used.
#[inline(always)]
pub(crate) fn estrin_q62<const N: usize>(coeffs: &[i64; N], u: i64) -> i64 {
    let n = N.min(MAX_COEFFS);
    let u2 = mul_q62(u, u);
    let u4 = mul_q62(u2, u2);
    let mut pairs = [0i64; MAX_COEFFS / 2];
    let pair_count = n.div_ceil(2);
    for (i, slot) in pairs.iter_mut().enumerate().take(pair_count) {
        let even = coeffs[2 * i];
        *slot = if 2 * i + 1 < n {
            even.wrapping_add(mul_q62(coeffs[2 * i + 1], u))
        } else {
            even
        };
    }
    let mut quads = [0i64; MAX_COEFFS / 4];
    let quad_count = pair_count.div_ceil(2);
    for (i, slot) in quads.iter_mut().enumerate().take(quad_count) {
        let even = pairs[2 * i];
        *slot = if 2 * i + 1 < pair_count {
            even.wrapping_add(mul_q62(pairs[2 * i + 1], u2))
        } else {
            even
        };
    }
    horner_q62(&quads[..quad_count], u4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q62_product_rounds_to_nearest() {
        assert_eq!(mul_q62(ONE_Q62, ONE_Q62), ONE_Q62);
        assert_eq!(mul_q62(ONE_Q62 / 2, -ONE_Q62), -ONE_Q62 / 2);
        // 3 * 2^-62 * 2^-1 = 1.5 ulp: ties round up.
        assert_eq!(mul_q62(3, ONE_Q62 / 2), 2);
    }

    #[test]
    fn horner_evaluates_low_order_first() {
        // 1 + 2u + 3u^2 at u = 1/2 is 2.75: out of Q62 range, so use 1/4 + u/2 + u^2/4 at 1/2.
        let c = [ONE_Q62 / 4, ONE_Q62 / 2, ONE_Q62 / 4];
        assert_eq!(
            horner_q62(&c, ONE_Q62 / 2),
            ONE_Q62 / 4 + ONE_Q62 / 4 + ONE_Q62 / 16
        );
        assert_eq!(horner_q62(&[], 5), 0);
    }

    #[test]
    fn estrin_agrees_with_horner() {
        let mut rng = gse::SplitMix64::new(3);
        fn check<const N: usize>(rng: &mut gse::SplitMix64) {
            for _ in 0..500 {
                // Coefficients summing below 2 in magnitude keep every partial sum in range.
                let c: [i64; N] = core::array::from_fn(|_| (rng.next_u64() as i64) >> 8);
                let u = (rng.next_u64() as i64) >> 1; // |u| < 1
                let diff = estrin_q62(&c, u) - horner_q62(&c, u);
                assert!(diff.abs() <= 2 * N as i64, "N = {N}: {diff}");
            }
        }
        check::<1>(&mut rng);
        check::<2>(&mut rng);
        check::<3>(&mut rng);
        check::<5>(&mut rng);
        check::<7>(&mut rng);
        check::<8>(&mut rng);
        check::<11>(&mut rng);
        check::<13>(&mut rng);
        check::<16>(&mut rng);
    }
}
