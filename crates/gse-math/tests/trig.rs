//! Accuracy sweeps for sin, cos, tan (including huge arguments) and the inverse functions.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::Dyadic;
use gse_math::{Outcome, acos, asin, atan, atan2, cos, sin, tan};

fn trig_inputs(seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    let mut xs = uniform(&mut r, 200_000, -10.0, 10.0);
    xs.extend(log_spaced(&mut r, 100_000, -140, 30, true));
    // Huge arguments: Payne-Hanek reduction over the whole f64 range.
    xs.extend(log_spaced(&mut r, 100_000, 30, 1023, true));
    // Floats nearest to multiples of pi/2, where the reduced argument is smallest.
    xs.extend((1..20_000).map(|k| k as f64 * std::f64::consts::FRAC_PI_2));
    xs.extend([
        0.0,
        0.5,
        0.75,
        std::f64::consts::FRAC_PI_4,
        1e22,
        6381956970095103.0 * 2f64.powi(797),
    ]);
    with_f32_twins(xs)
}

#[test]
fn sin_sweep() {
    // Bound 2^-48, not 2^-50: f64's own sin is off by up to 2^-49 relative on huge arguments
    // close to a zero (x = 5.319372648326541e255, checked with mpmath at 3000 bits).
    sweep1("sin", &trig_inputs(10), sin, f64::sin, 0.0, -48);
}

#[test]
fn cos_sweep() {
    // Bound 2^-48, not 2^-50: f64's own cos is off by up to 2^-49 relative on huge arguments
    // close to a zero (x = 5.319372648326541e255, checked with mpmath at 3000 bits).
    sweep1("cos", &trig_inputs(11), cos, f64::cos, 0.0, -48);
}

#[test]
fn tan_sweep() {
    // Bound 2^-48, not 2^-50: f64's own tan is off by up to 2^-49 relative on huge arguments
    // close to a zero (x = 5.319372648326541e255, checked with mpmath at 3000 bits).
    sweep1("tan", &trig_inputs(12), tan, f64::tan, 0.0, -48);
}

#[test]
fn trig_beyond_the_table_is_nan_and_tiny_is_identity() {
    assert_eq!(sin(Dyadic::new(1, 1024)), Outcome::Nan);
    assert_eq!(cos(Dyadic::new(-3, 2000)), Outcome::Nan);
    assert_eq!(tan(Dyadic::new(5, i32::MAX)), Outcome::Nan);
    let tiny = Dyadic::new(3, -200);
    // sin x = x (1 - x^2/6): any rounding to fewer than 62 bits gives x back.
    assert_eq!(f(sin(tiny).finite().unwrap()), f(tiny));
    assert_same(cos(tiny), Outcome::Finite(Dyadic::ONE));
    assert_same(sin(Dyadic::ZERO), Outcome::Finite(Dyadic::ZERO));
    // A 62-bit mantissa at 2^900 reduces without trouble.
    assert!(sin(Dyadic::new((1 << 62) - 12345, 900)).is_finite());
}

#[test]
fn asin_acos_sweep() {
    let mut r = rng(13);
    let mut xs = uniform(&mut r, 200_000, -1.0, 1.0);
    xs.extend(log_spaced(&mut r, 100_000, -140, 0, true));
    // Near +-1, where acos and asin's complement approach 0.
    let near_one: Vec<f64> = log_spaced(&mut r, 100_000, -53, -1, false);
    xs.extend(near_one.iter().map(|e| 1.0 - e));
    xs.extend(near_one.iter().map(|e| e - 1.0));
    xs.extend([0.0, 0.5, -0.5, 1.0, -1.0]);
    let xs = with_f32_twins(xs);
    sweep1("asin", &xs, asin, f64::asin, 0.0, -50);
    sweep1("acos", &xs, acos, f64::acos, 0.0, -50);
    for bad in [1.0 + 2f64.powi(-52), -1.5, 1e30] {
        assert_eq!(asin(d(bad)), Outcome::Nan);
        assert_eq!(acos(d(bad)), Outcome::Nan);
    }
}

#[test]
fn atan_sweep() {
    let mut r = rng(14);
    let mut xs = log_spaced(&mut r, 300_000, -140, 140, true);
    xs.extend(uniform(&mut r, 100_000, -4.0, 4.0));
    xs.extend([0.0, 1.0, -1.0, 2f64.powi(1000)]);
    sweep1("atan", &with_f32_twins(xs), atan, f64::atan, 0.0, -50);
}

#[test]
fn atan2_sweep() {
    let mut r = rng(15);
    let ys = log_spaced(&mut r, 300_000, -140, 140, true);
    let xs = log_spaced(&mut r, 300_000, -140, 140, true);
    let close = uniform(&mut r, 300_000, -3.0, 3.0);
    let mut t = Tracker::new("atan2");
    for i in 0..ys.len() {
        for (y, x) in [
            (ys[i], xs[i]),
            (close[i], xs[i].signum() * close[(i + 1) % close.len()]),
        ] {
            let reference = y.atan2(x);
            t.record(
                &format!("({y:e}, {x:e})"),
                atan2(d(y), d(x)),
                reference,
                reference.abs(),
                0.0,
            );
        }
    }
    t.finish(-50);
}

#[test]
fn atan2_quadrant_rules() {
    let pi = std::f64::consts::PI;
    let cases = [
        (0.0, 0.0, 0.0),
        (0.0, 2.0, 0.0),
        (0.0, -2.0, pi),
        (3.0, 0.0, pi / 2.0),
        (-3.0, 0.0, -pi / 2.0),
        (1.0, -1.0, 3.0 * pi / 4.0),
        (-1.0, -1.0, -3.0 * pi / 4.0),
        (-1.0, 1.0, -pi / 4.0),
    ];
    for (y, x, expected) in cases {
        let got = f(atan2(d(y), d(x)).finite().unwrap());
        assert!((got - expected).abs() <= 1e-15, "atan2({y}, {x}) = {got}");
    }
}
