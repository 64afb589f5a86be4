//! Accuracy sweeps for sigmoid, erf, erfc and the GELU family, including their far tails.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::Dyadic;
use gse_math::{Outcome, erf, erfc, gelu_erf, gelu_erf_derivative, gelu_tanh, sigmoid};

const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;

fn inputs(seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut r = rng(seed);
    let mut xs = uniform(&mut r, 300_000, lo, hi);
    xs.extend(log_spaced(&mut r, 100_000, -140, 4, true));
    xs.extend([0.0, 1.0, -1.0, 0.5, -0.5, 2f64.powi(100), -(2f64.powi(100))]);
    with_f32_twins(xs)
}

#[test]
fn sigmoid_sweep() {
    let reference = |x: f64| {
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            x.exp() / (1.0 + x.exp())
        }
    };
    sweep1(
        "sigmoid",
        &inputs(30, -120.0, 120.0),
        sigmoid,
        reference,
        0.0,
        -50,
    );
}

#[test]
fn erf_sweep() {
    sweep1("erf", &inputs(31, -7.0, 7.0), erf, libm::erf, 0.0, -50);
}

#[test]
fn erfc_sweep() {
    // Relative precision all along the right tail, down to the 2^-160 flush.
    sweep1("erfc", &inputs(32, -7.0, 11.0), erfc, libm::erfc, 0.0, -49);
    assert_same(erfc(d(11.0)), Outcome::Finite(Dyadic::ZERO));
    assert_same(erfc(d(-30.0)), Outcome::Finite(Dyadic::from_int(2)));
}

#[test]
fn gelu_erf_sweep() {
    // The f64 reference computes -x/sqrt2 with a rounding that erfc's steep tail amplifies
    // (by 2 z^2 at z = -x/sqrt2: ~2^-45 at x = -14), hence the looser bound.
    let reference = |x: f64| x * 0.5 * libm::erfc(-x * FRAC_1_SQRT_2);
    sweep1(
        "gelu_erf",
        &inputs(33, -15.0, 15.0),
        gelu_erf,
        reference,
        0.0,
        -44,
    );
    assert_same(gelu_erf(d(-20.0)), Outcome::Finite(Dyadic::ZERO));
    assert_eq!(
        gelu_erf(Dyadic::new(1, 200)),
        Outcome::Infinite { negative: false }
    );
}

#[test]
fn gelu_tanh_sweep() {
    let reference = |x: f64| {
        let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
        x / (1.0 + (-2.0 * u).exp())
    };
    sweep1(
        "gelu_tanh",
        &inputs(34, -8.0, 8.0),
        gelu_tanh,
        reference,
        0.0,
        -44,
    );
}

#[test]
fn gelu_erf_derivative_sweep() {
    // Phi(x) + x phi(x) crosses zero near x = -0.7518: error is measured relative to the
    // larger of the two terms, which is how the documented bound is stated.
    let mut t = Tracker::new("gelu_erf_derivative");
    for x in inputs(35, -15.0, 15.0) {
        let cdf = 0.5 * libm::erfc(-x * FRAC_1_SQRT_2);
        let density_term = x * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let reference = cdf + density_term;
        let scale = cdf.abs().max(density_term.abs());
        t.record(
            &format!("{x:e}"),
            gelu_erf_derivative(d(x)),
            reference,
            scale,
            2f64.powi(-159),
        );
    }
    t.finish(-44);
}
