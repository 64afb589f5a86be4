//! Accuracy sweeps for exp, exp_nonpositive, expm1, log, log1p and powf against f64.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::Dyadic;
use gse_math::{Outcome, exp, exp_nonpositive, expm1, log, log1p, powf};

#[test]
fn exp_sweep() {
    let mut r = rng(1);
    let mut xs = uniform(&mut r, 300_000, -115.0, 92.0);
    xs.extend(log_spaced(&mut r, 100_000, -140, 3, true));
    xs.extend([
        0.0,
        88.72,
        88.7228,
        89.0,
        -103.97,
        -110.0,
        -112.0,
        1e-300,
        -1e-300,
        2f64.powi(100),
    ]);
    xs.extend([
        -(2f64.powi(100)),
        0.5,
        -0.5,
        1.0,
        -1.0,
        2f64.powi(-62),
        -(2f64.powi(-62)),
    ]);
    let xs = with_f32_twins(xs);
    sweep1("exp", &xs, exp, f64::exp, 0.0, -51);
}

#[test]
fn exp_extremes() {
    assert_same(exp(Dyadic::ZERO), Outcome::Finite(Dyadic::ONE));
    assert_eq!(exp(d(89.0)), Outcome::Infinite { negative: false });
    assert_eq!(
        exp(Dyadic::new(1, 1000)),
        Outcome::Infinite { negative: false }
    );
    assert_eq!(exp(Dyadic::new(-1, 1000)), Outcome::Finite(Dyadic::ZERO));
    assert_eq!(exp(d(-112.0)), Outcome::Finite(Dyadic::ZERO));
    assert!(exp(d(88.72)).is_finite());
    assert!(!exp(Dyadic::new(i64::MIN, i32::MAX)).is_nan());
    let tiny = exp(Dyadic::new(1, -140)).finite().unwrap();
    assert!(tiny.cmp_value(Dyadic::ONE).is_gt());
}

#[test]
fn exp_nonpositive_sweep() {
    let mut r = rng(2);
    let xs = with_f32_twins(uniform(&mut r, 200_000, -120.0, 0.0));
    sweep1(
        "exp_nonpositive",
        &xs,
        |x| Outcome::Finite(exp_nonpositive(x)),
        f64::exp,
        0.0,
        -51,
    );
    assert_eq!(
        exp_nonpositive(d(3.0)),
        Dyadic::ONE,
        "positive arguments clamp to e^0"
    );
    assert_eq!(exp_nonpositive(d(-200.0)), Dyadic::ZERO);
}

#[test]
fn expm1_sweep() {
    let mut r = rng(3);
    let mut xs = log_spaced(&mut r, 200_000, -140, 6, true);
    xs.extend(uniform(&mut r, 100_000, -0.02, 0.02));
    sweep1("expm1", &with_f32_twins(xs), expm1, f64::exp_m1, 0.0, -51);
}

#[test]
fn log_sweep() {
    let mut r = rng(4);
    let mut xs = log_spaced(&mut r, 300_000, -149, 128, false);
    // Just above and below 1, where the result crosses zero: relative accuracy still holds.
    xs.extend(
        log_spaced(&mut r, 100_000, -52, -1, false)
            .iter()
            .map(|e| 1.0 + e),
    );
    xs.extend(
        log_spaced(&mut r, 100_000, -53, -1, false)
            .iter()
            .map(|e| 1.0 - e),
    );
    xs.extend((1..200).map(|k| k as f64));
    xs.extend([
        1.0,
        2.0,
        0.5,
        f64::MIN_POSITIVE,
        2f64.powi(-1074),
        2f64.powi(1000),
    ]);
    sweep1("log", &with_f32_twins(xs), log, f64::ln, 0.0, -51);
}

#[test]
fn log_specials() {
    assert_eq!(log(Dyadic::ZERO), Outcome::Infinite { negative: true });
    assert_eq!(log(d(-1.0)), Outcome::Nan);
    assert_same(log(Dyadic::ONE), Outcome::Finite(Dyadic::ZERO));
    // Dyadic exponents far beyond f64 still work: ln(2^(2^30)) = 2^30 ln 2.
    let big = log(Dyadic::new(1, 1 << 30)).finite().unwrap();
    let expected = d((1u64 << 30) as f64 * std::f64::consts::LN_2);
    assert!(f(big.sub(expected)).abs() < 1e-6);
}

#[test]
fn log1p_sweep() {
    let mut r = rng(5);
    let mut xs = log_spaced(&mut r, 200_000, -140, 100, false);
    xs.extend(
        log_spaced(&mut r, 200_000, -140, 0, false)
            .iter()
            .map(|x| -x),
    );
    xs.extend([-0.5, -0.99, -(2f64.powi(-7)), 2f64.powi(-7)]);
    sweep1("log1p", &with_f32_twins(xs), log1p, f64::ln_1p, 0.0, -51);
    assert_eq!(log1p(d(-1.0)), Outcome::Infinite { negative: true });
    assert_eq!(log1p(d(-1.5)), Outcome::Nan);
    assert_same(log1p(Dyadic::ZERO), Outcome::Finite(Dyadic::ZERO));
}

#[test]
fn powf_sweep() {
    let mut r = rng(6);
    let mut t = Tracker::new("powf");
    let mut check = |x: f64, y: f64| {
        let reference = x.powf(y);
        t.record(
            &format!("{x:e}^{y:e}"),
            powf(d(x), d(y)),
            reference,
            reference.abs(),
            2f64.powi(-159),
        );
    };
    let bases = log_spaced(&mut r, 200_000, -30, 30, false);
    let exps = uniform(&mut r, 200_000, -40.0, 40.0);
    for (&x, &y) in bases.iter().zip(&exps) {
        check(x, y);
        check(as_f32_value(x), as_f32_value(y));
    }
    // Integer exponents, negative bases, and large exponents near 1.
    for k in 0..100_000 {
        let x = uniform(&mut r, 1, -8.0, 8.0)[0];
        let y = (k % 129) as f64 - 64.0;
        check(x, y);
        let near_one = 1.0 + uniform(&mut r, 1, -1e-6, 1e-6)[0];
        check(near_one, uniform(&mut r, 1, -1e7, 1e7)[0]);
    }
    t.finish(-45);
}

#[test]
fn powf_c_rules() {
    let inf = Outcome::Infinite { negative: false };
    let one = Outcome::Finite(Dyadic::ONE);
    assert_same(powf(Dyadic::ZERO, Dyadic::ZERO), one);
    assert_same(powf(d(-3.5), Dyadic::ZERO), one);
    assert_same(powf(Dyadic::ONE, d(1e300)), one);
    assert_same(powf(Dyadic::ZERO, d(-2.0)), inf);
    assert_same(powf(Dyadic::ZERO, d(-3.0)), inf);
    assert_same(powf(Dyadic::ZERO, d(0.5)), Outcome::Finite(Dyadic::ZERO));
    assert_same(powf(d(-2.0), d(0.5)), Outcome::Nan);
    assert_eq!(f(powf(d(-2.0), d(3.0)).finite().unwrap()), -8.0);
    assert_eq!(f(powf(d(-2.0), d(-2.0)).finite().unwrap()), 0.25);
    assert_eq!(f(powf(d(-1.0), d(1e30)).finite().unwrap()), 1.0);
    assert_eq!(f(powf(d(-1.0), d(3.0)).finite().unwrap()), -1.0);
    assert_same(powf(d(2.0), d(130.0)), inf);
    assert_same(
        powf(d(-2.0), d(129.0)),
        Outcome::Infinite { negative: true },
    );
    assert_same(powf(d(2.0), d(-200.0)), Outcome::Finite(Dyadic::ZERO));
    assert_same(powf(d(10.0), d(1e30)), inf);
    assert_same(powf(d(0.1), d(1e30)), Outcome::Finite(Dyadic::ZERO));
    // Squares are exact: the product of two 24-bit mantissas fits in 62 bits.
    let x = d(1.000_000_1_f32 as f64);
    assert_eq!(
        powf(x, d(2.0)).finite().unwrap().cmp_value(x.mul(x)),
        core::cmp::Ordering::Equal
    );
}
