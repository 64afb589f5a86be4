//! Accuracy sweeps for sinh, cosh, tanh, asinh, acosh and atanh.
//!
//! The inverse functions use the `libm` crate (musl) as reference: Rust's own `f64::acosh` and
//! `f64::atanh` use textbook formulas that lose up to 30 bits near 1 and -1 (for example
//! `f64::atanh(-(1 - 2^-53))` gives -18.37 where the true value, confirmed with mpmath, is
//! -18.715).
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::Dyadic;
use gse_math::{Outcome, acosh, asinh, atanh, cosh, sinh, tanh};

fn inputs(seed: u64, hi: f64) -> Vec<f64> {
    let mut r = rng(seed);
    let mut xs = uniform(&mut r, 200_000, -hi, hi);
    xs.extend(log_spaced(&mut r, 150_000, -140, 7, true));
    xs.extend([0.0, 1.0, -1.0, 89.4, -89.4, 89.5, 1000.0, -1000.0]);
    with_f32_twins(xs)
}

#[test]
fn sinh_sweep() {
    sweep1("sinh", &inputs(20, 92.0), sinh, f64::sinh, 0.0, -50);
    assert_eq!(
        sinh(Dyadic::new(-1, 40)),
        Outcome::Infinite { negative: true }
    );
}

#[test]
fn cosh_sweep() {
    sweep1("cosh", &inputs(21, 92.0), cosh, f64::cosh, 0.0, -50);
    assert_eq!(
        cosh(Dyadic::new(-1, 40)),
        Outcome::Infinite { negative: false }
    );
}

#[test]
fn tanh_sweep() {
    sweep1("tanh", &inputs(22, 40.0), tanh, f64::tanh, 0.0, -50);
    assert_same(tanh(Dyadic::new(1, 100)), Outcome::Finite(Dyadic::ONE));
    assert_same(
        tanh(Dyadic::new(-1, 100)),
        Outcome::Finite(Dyadic::ONE.neg()),
    );
}

#[test]
fn asinh_sweep() {
    let mut r = rng(23);
    let mut xs = log_spaced(&mut r, 300_000, -140, 127, true);
    xs.extend(uniform(&mut r, 100_000, -3.0, 3.0));
    sweep1("asinh", &with_f32_twins(xs), asinh, libm::asinh, 0.0, -50);
}

#[test]
fn acosh_sweep() {
    let mut r = rng(24);
    let mut xs: Vec<f64> = log_spaced(&mut r, 200_000, -52, 7, false)
        .iter()
        .map(|e| 1.0 + e)
        .collect();
    xs.extend(log_spaced(&mut r, 200_000, 0, 127, false));
    xs.push(1.0);
    sweep1("acosh", &with_f32_twins(xs), acosh, libm::acosh, 0.0, -50);
    assert_eq!(acosh(d(0.999)), Outcome::Nan);
    assert_eq!(acosh(d(-2.0)), Outcome::Nan);
}

#[test]
fn atanh_sweep() {
    let mut r = rng(25);
    let mut xs = log_spaced(&mut r, 200_000, -140, 0, true);
    let near_one = log_spaced(&mut r, 100_000, -53, -1, false);
    xs.extend(near_one.iter().map(|e| 1.0 - e));
    xs.extend(near_one.iter().map(|e| e - 1.0));
    sweep1("atanh", &with_f32_twins(xs), atanh, libm::atanh, 0.0, -50);
    assert_eq!(atanh(d(1.0)), Outcome::Infinite { negative: false });
    assert_eq!(atanh(d(-1.0)), Outcome::Infinite { negative: true });
    assert_eq!(atanh(d(1.5)), Outcome::Nan);
}
