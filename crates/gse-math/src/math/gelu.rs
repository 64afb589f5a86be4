//! GELU in its exact (erf) and tanh forms, and the exact form's derivative.
//!
//! Method: both forms are written so that nothing cancels in the left tail, where the naive
//! `x/2 (1 + erf(x/sqrt 2))` loses every bit:
//! - `gelu_erf(x) = x Phi(x)`, `Phi(x) = erfc(-x/sqrt 2) / 2` with erfc's relative precision;
//! - `gelu_tanh(x) = x sigmoid(2u)`, `u = sqrt(2/pi) (x + 0.044715 x^3)`, because
//!   `(1 + tanh u) / 2 = sigmoid(2u)` exactly;
//! - `gelu_erf'(x) = Phi(x) + x phi(x)`, `phi(x) = e^(-x^2/2) / sqrt(2 pi)`.

use gse::Dyadic;

use super::erf::{erfc_norm, erfc_tail_from_gauss, is_small};
use super::exp::exp_norm;
use super::sigmoid::sigmoid_norm;
use crate::consts::{FRAC_1_SQRT_2, FRAC_1_SQRT_2PI, GELU_TANH_CUBIC, SQRT_2_OVER_PI};
use crate::outcome::{Outcome, flush_underflow};
use crate::support::norm::Norm;

/// The standard normal CDF.
fn phi_cdf(x: Norm) -> Norm {
    erfc_norm(x.mul(Norm::from_dyadic(FRAC_1_SQRT_2)).neg()).shl(-1)
}

/// `x * Phi(x)` with `Phi` the standard normal CDF: the exact GELU. Relative error below
/// `2^-54` for every `x`, including the left tail down to the `2^-160` underflow (measured
/// maximum against mpmath: `2^-54.9`).
pub fn gelu_erf(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    Outcome::from_norm(flush_underflow(x.mul(phi_cdf(x))))
}

/// `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`, computed as `x sigmoid(2u)`: relative error
/// below `2^-54` everywhere, the left tail included (measured maximum against mpmath: `2^-55.3`).
pub fn gelu_tanh(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    let cubic = x.mul(x).mul(x).mul(Norm::from_dyadic(GELU_TANH_CUBIC));
    let u = x.add(cubic).mul(Norm::from_dyadic(SQRT_2_OVER_PI));
    Outcome::from_norm(flush_underflow(x.mul(sigmoid_norm(u.shl(1)))))
}

/// `d/dx gelu_erf(x) = Phi(x) + x phi(x)`. Both terms are computed to a relative `2^-55`, so
/// the error is below `2^-54` times the larger term: relative away from the zero at
/// `x ~ -0.7518`, absolute (below `2^-56`) near it (measured maximum against mpmath, scaled by the larger
/// term: `2^-56.9`). The Gaussian `e^(-x^2/2)` is computed once and shared by both terms.
pub fn gelu_erf_derivative(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    let gauss = exp_norm(x.mul(x).shl(-1).neg());
    let z = x.mul(Norm::from_dyadic(FRAC_1_SQRT_2)); // Phi(x) = erfc(-z) / 2
    let cdf = if is_small(z) {
        phi_cdf(x)
    } else {
        // erfc(|z|) = e^(-z^2) H(|z|), and e^(-z^2) is the Gaussian above.
        let tail = erfc_tail_from_gauss(z.abs(), |_| gauss).shl(-1);
        if z.negative {
            tail
        } else {
            Norm::ONE.sub(tail)
        }
    };
    let density = gauss.mul(Norm::from_dyadic(FRAC_1_SQRT_2PI));
    Outcome::from_norm(flush_underflow(cdf.add(x.mul(density))))
}
