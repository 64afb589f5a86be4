//! Functions with exact (or correctly rounded) results: sqrt, recip, div, floor, ceil, trunc,
//! round_half_even and remainder, checked bit for bit.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::{Dyadic, SplitMix64};
use gse_math::{Outcome, ceil, div, floor, recip, remainder, round_half_even, sqrt, trunc};

/// A dyadic with a random mantissa of random width (up to 63 bits) and exponent in `[-e, e)`.
fn random_dyadic(r: &mut SplitMix64, e: u64) -> Dyadic {
    let width = 1 + r.below(63);
    let mant = (r.next_u64() >> (64 - width)) as i64;
    let mant = if r.next_u64() & 1 == 1 { -mant } else { mant };
    Dyadic::new(mant, r.below(2 * e) as i32 - e as i32)
}

#[test]
fn sqrt_matches_dyadic_sqrt_exactly() {
    let mut r = rng(40);
    for _ in 0..300_000 {
        let x = random_dyadic(&mut r, 200).abs();
        let expected = match x.sqrt() {
            Some(v) if v.top() <= 128 => Outcome::Finite(v),
            Some(_) => Outcome::Infinite { negative: false },
            None => Outcome::Nan,
        };
        assert_same(sqrt(x), expected);
    }
    assert_eq!(sqrt(d(-4.0)), Outcome::Nan);
    assert_same(sqrt(d(144.0)), Outcome::Finite(Dyadic::from_int(12)));
    assert_same(sqrt(Dyadic::ZERO), Outcome::Finite(Dyadic::ZERO));
    // Correct rounding of the f32 grid: rounding our root to f32 equals f32::sqrt.
    for x in uniform(&mut r, 200_000, 0.0, 1e6) {
        let x = x as f32;
        let ours = sqrt(d(x as f64)).to_f32_bits();
        assert_eq!(ours, x.sqrt().to_bits(), "sqrt({x})");
    }
}

/// The library's range policy applied to an exact result.
fn with_overflow(v: Dyadic) -> Outcome {
    if v.top() > 128 {
        Outcome::Infinite {
            negative: v.is_negative(),
        }
    } else {
        Outcome::Finite(v)
    }
}

#[test]
fn recip_and_div_match_dyadic_div_exactly() {
    let mut r = rng(41);
    for _ in 0..300_000 {
        let (x, y) = (random_dyadic(&mut r, 60), random_dyadic(&mut r, 60));
        if y.is_zero() {
            continue;
        }
        assert_same(div(x, y), with_overflow(x.div(y).unwrap()));
        assert_same(recip(y), with_overflow(Dyadic::ONE.div(y).unwrap()));
    }
    assert_eq!(recip(Dyadic::ZERO), Outcome::Infinite { negative: false });
    assert_eq!(
        recip(Dyadic::new(1, -130)),
        Outcome::Infinite { negative: false }
    );
    assert_eq!(div(Dyadic::ZERO, Dyadic::ZERO), Outcome::Nan);
    assert_eq!(
        div(d(-1.0), Dyadic::ZERO),
        Outcome::Infinite { negative: true }
    );
    // f32 division is correctly rounded, and so is ours after rounding.
    for (a, b) in uniform(&mut r, 100_000, -1e3, 1e3)
        .into_iter()
        .zip(uniform(&mut r, 100_000, 0.1, 1e3))
    {
        let (a, b) = (a as f32, b as f32);
        assert_eq!(
            div(d(a as f64), d(b as f64)).to_f32_bits(),
            (a / b).to_bits(),
            "{a} / {b}"
        );
    }
}

#[test]
fn rounding_to_integers_matches_f64() {
    let mut r = rng(42);
    let mut xs = uniform(&mut r, 200_000, -100.0, 100.0);
    xs.extend(log_spaced(&mut r, 200_000, -10, 70, true));
    xs.extend((-40..40).map(|k| k as f64 * 0.5));
    for x in xs {
        let v = d(x);
        assert_eq!(f(floor(v)), x.floor(), "floor({x})");
        assert_eq!(f(ceil(v)), x.ceil(), "ceil({x})");
        assert_eq!(f(trunc(v)), x.trunc(), "trunc({x})");
        assert_eq!(
            f(round_half_even(v)),
            x.round_ties_even(),
            "round_half_even({x})"
        );
    }
}

#[test]
fn rounding_to_integers_is_exact_on_wide_mantissas() {
    let mut r = rng(43);
    for _ in 0..200_000 {
        let x = random_dyadic(&mut r, 1);
        let x = Dyadic::new(x.mant, -(r.below(65) as i32));
        // Reference: exact arithmetic on the i128 value scaled by 2^64.
        let scaled = (x.mant as i128) << (x.exp + 64);
        let unit = 1i128 << 64;
        let fl = scaled.div_euclid(unit);
        let frac = scaled.rem_euclid(unit);
        let ce = fl + (frac != 0) as i128;
        let tr = if scaled < 0 { ce } else { fl };
        let ro = match (2 * frac).cmp(&unit) {
            core::cmp::Ordering::Less => fl,
            core::cmp::Ordering::Greater => fl + 1,
            core::cmp::Ordering::Equal => fl + (fl & 1),
        };
        let int = |v: Dyadic| (v.mant as i128) << v.exp.max(0) >> (-v.exp).max(0);
        assert_eq!(int(floor(x)), fl, "floor {x:?}");
        assert_eq!(int(ceil(x)), ce, "ceil {x:?}");
        assert_eq!(int(trunc(x)), tr, "trunc {x:?}");
        assert_eq!(int(round_half_even(x)), ro, "round {x:?}");
    }
    let huge = Dyadic::new(i64::MIN, 5);
    assert_eq!(floor(huge), huge);
    assert_eq!(trunc(Dyadic::new(i64::MIN, -200)), Dyadic::ZERO);
    assert_eq!(f(floor(Dyadic::new(i64::MIN, -200))), -1.0);
    assert_eq!(f(ceil(Dyadic::new(i64::MAX, -200))), 1.0);
}

/// Python's `x % y` computed exactly: fmod is exact in IEEE arithmetic, and the sign fix-up
/// is done in dyadic arithmetic (rounded to odd at 62 bits, like ours when inexact).
fn python_mod(x: f64, y: f64) -> Dyadic {
    let r = x % y;
    if r != 0.0 && (r < 0.0) != (y < 0.0) {
        d(y).add(d(r))
    } else {
        d(r)
    }
}

#[test]
fn remainder_is_floored_and_exact() {
    let mut r = rng(44);
    let xs = log_spaced(&mut r, 200_000, -300, 300, true);
    let ys = log_spaced(&mut r, 200_000, -300, 300, true);
    let near = uniform(&mut r, 200_000, -50.0, 50.0);
    for i in 0..xs.len() {
        for (x, y) in [
            (xs[i], ys[i]),
            (near[i], near[(i + 7) % near.len()]),
            (xs[i], near[i]),
        ] {
            if y == 0.0 {
                continue;
            }
            let got = remainder(d(x), d(y)).finite().unwrap();
            let expected = python_mod(x, y);
            assert!(
                got.cmp_value(expected).is_eq(),
                "{x:e} % {y:e}: {got:?} vs {expected:?}"
            );
            assert!(got.is_zero() || got.is_negative() == (y < 0.0));
        }
    }
    assert_eq!(remainder(d(1.0), Dyadic::ZERO), Outcome::Nan);
    assert_eq!(f(remainder(d(-7.0), d(3.0)).finite().unwrap()), 2.0);
    assert_eq!(f(remainder(d(7.0), d(-3.0)).finite().unwrap()), -2.0);
    assert_eq!(f(remainder(d(-7.5), d(-2.0)).finite().unwrap()), -1.5);
    assert_eq!(f(remainder(d(6.0), d(3.0)).finite().unwrap()), 0.0);
    // Exponent gaps far beyond 64 bits: 2^1000 mod 3 = 1, (-2^1000) mod 3 = 2.
    assert_eq!(
        f(remainder(Dyadic::new(1, 1000), d(3.0)).finite().unwrap()),
        1.0
    );
    assert_eq!(
        f(remainder(Dyadic::new(-1, 1000), d(3.0)).finite().unwrap()),
        2.0
    );
    assert!(
        remainder(
            Dyadic::new(i64::MIN, i32::MAX),
            Dyadic::new(i64::MIN + 1, -5)
        )
        .is_finite()
    );
}
