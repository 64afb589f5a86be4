//! Q62 fixed point: `v` stands for `v / 2^62`, so an `i64` holds values in `[-2, 2)` with an
//! absolute resolution of `2^-62`. Polynomials and small intermediates live here.

/// One in Q62.
pub(crate) const ONE_Q62: i64 = 1 << 62;

/// `a * b` in Q62, rounded to nearest (error at most `2^-63`). The caller keeps `|a * b| < 2`.
#[inline]
pub(crate) fn mul_q62(a: i64, b: i64) -> i64 {
    ((a as i128 * b as i128 + (1 << 61)) >> 62) as i64
}

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
        assert_eq!(horner_q62(&c, ONE_Q62 / 2), ONE_Q62 / 4 + ONE_Q62 / 4 + ONE_Q62 / 16);
        assert_eq!(horner_q62(&[], 5), 0);
    }
}
