//! Sigmoid at the output format's precision (SiLU/SwiGLU's hot path).
//!
//! `gse_math::sigmoid` is accurate to `2^-58`, which a 25-bit output needs (the `EXACT`
//! preset) but which costs ~80 ns a value through normalized 128-bit arithmetic. For outputs of
//! at most 16 mantissa bits, `e^-|x|` comes from the fixed-point exponential of the fused
//! kernels (`2^-46` relative) and `1 / (1 + e^-|x|)` from one 128-by-64-bit division in Q62:
//! the result is within `2^-45` relative, so it rounds to the same 16-bit value as the exact
//! sigmoid except when the exact value lies within `2^-45` of a rounding boundary.

use gse::{Dyadic, GseFormat, Rounding};

use crate::elementwise::map_unary;
use crate::fixed_exp::{Z_FRAC_BITS, Z_MIN, exp_neg_q40};
use crate::tensor::GseTensor;

/// The widest output that takes the fixed-point path.
const FAST_MAX_BITS: u32 = 16;

/// `1 / (1 + e^-x)` elementwise, rounded to `format`. Error: below half a quantum of `format`
/// plus `2^-45` relative for formats of at most 16 bits; `2^-58` relative before the final
/// rounding otherwise (see `gse_math::sigmoid`).
pub fn sigmoid(x: &GseTensor, format: GseFormat, rounding: Rounding) -> GseTensor {
    if format.mantissa_bits() <= FAST_MAX_BITS {
        map_unary(x, format, rounding, sigmoid_fixed)
    } else {
        map_unary(x, format, rounding, |v| match gse_math::sigmoid(v) {
            gse_math::Outcome::Finite(d) => d,
            // sigmoid is finite everywhere.
            _ => Dyadic::ZERO,
        })
    }
}

/// `-|x|` in Q40, rounded toward zero; anything below `-2^21` (far past [`Z_MIN`]) clamps.
#[inline]
fn neg_abs_q40(x: Dyadic) -> i64 {
    let mag = x.mant.unsigned_abs();
    let shift = x.exp + Z_FRAC_BITS as i32;
    let q = if shift >= 0 {
        if mag != 0 && (64 - mag.leading_zeros()) as i32 + shift > 61 {
            return Z_MIN - 1;
        }
        mag << shift
    } else if shift > -64 {
        mag >> -shift
    } else {
        0
    };
    -(q as i64)
}

/// The fixed-point sigmoid: `q = 2^124 / (2^62 + t)` is `1 / (1 + t)` in Q62 for
/// `t = e^-|x|` in Q62; `sigmoid(x) = q` for `x >= 0` and `t * q` for `x < 0`.
#[inline]
pub(crate) fn sigmoid_fixed(x: Dyadic) -> Dyadic {
    let (mant, exp) = exp_neg_q40(neg_abs_q40(x));
    // t = mant * 2^exp <= 1, so exp <= -62 whenever mant != 0.
    let down = (-62 - exp).clamp(0, 64) as u32;
    let t_q62 = mant.checked_shr(down).unwrap_or(0);
    let q = ((1u128 << 124) / ((1u128 << 62) + t_q62 as u128)) as u64;
    if x.mant >= 0 {
        Dyadic::new(q as i64, -62)
    } else {
        Dyadic::from_i128(mant as i128 * q as i128, exp - 62)
    }
}

#[cfg(test)]
#[allow(clippy::float_arithmetic)] // the f64 reference
mod tests {
    use super::*;

    fn to_f64(d: Dyadic) -> f64 {
        d.mant as f64 * 2f64.powi(d.exp)
    }

    #[test]
    fn fixed_point_sigmoid_is_within_2_pow_minus_45() {
        let mut worst = 0f64;
        for i in -40_000i64..=40_000 {
            // x from -40 to 40 in steps of 2^-10, plus odd offsets off the grid.
            let x = Dyadic::new(i * 1024 + (i % 7), -20);
            let exact = 1.0 / (1.0 + (-to_f64(x)).exp());
            let got = to_f64(sigmoid_fixed(x));
            worst = worst.max(((got - exact) / exact).abs());
        }
        assert!(worst < 2f64.powi(-45), "worst relative error {worst:e}");
        assert_eq!(
            sigmoid_fixed(Dyadic::ZERO).cmp_value(Dyadic::new(1, -1)),
            core::cmp::Ordering::Equal
        );
        // Far out: 1 and (next to) 0, no overflow.
        assert_eq!(
            sigmoid_fixed(Dyadic::new(1, 40)).cmp_value(Dyadic::ONE),
            core::cmp::Ordering::Equal
        );
        assert!(to_f64(sigmoid_fixed(Dyadic::new(-1, 40))) == 0.0);
        assert!(to_f64(sigmoid_fixed(Dyadic::new(-100, 0))) > 0.0);
    }
}
