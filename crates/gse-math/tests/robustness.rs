//! Every function on arbitrary dyadics, including extreme exponents and `i64::MIN` mantissas:
//! no panic (also run in debug, with overflow checks), finite results below 2^128, and exact
//! symmetries.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::{Dyadic, SplitMix64};
use gse_math::*;
use proptest::prelude::*;

type Unary = fn(Dyadic) -> Outcome;

const UNARY: [(&str, Unary); 28] = [
    ("exp", exp),
    ("expm1", expm1),
    ("log", log),
    ("log1p", log1p),
    ("sqrt", sqrt),
    ("recip", recip),
    ("tanh", tanh),
    ("sigmoid", sigmoid),
    ("erf", erf),
    ("erfc", erfc),
    ("sin", sin),
    ("cos", cos),
    ("tan", tan),
    ("sinh", sinh),
    ("cosh", cosh),
    ("asin", asin),
    ("acos", acos),
    ("atan", atan),
    ("asinh", asinh),
    ("acosh", acosh),
    ("atanh", atanh),
    ("gelu_erf", gelu_erf),
    ("gelu_tanh", gelu_tanh),
    ("gelu_erf_derivative", gelu_erf_derivative),
    ("exp_nonpositive", |x| Outcome::Finite(exp_nonpositive(x))),
    ("floor", |x| Outcome::Finite(floor(x))),
    ("round_half_even", |x| Outcome::Finite(round_half_even(x))),
    ("trunc", |x| Outcome::Finite(trunc(x))),
];

fn wild(r: &mut SplitMix64) -> Dyadic {
    let mant = match r.below(6) {
        0 => i64::MIN,
        1 => i64::MAX,
        2 => 0,
        _ => r.next_u64() as i64 >> r.below(63),
    };
    let exp = match r.below(5) {
        0 => i32::MIN + r.below(200) as i32,
        1 => i32::MAX - r.below(200) as i32,
        2 => r.next_u64() as i32,
        _ => r.below(600) as i32 - 300,
    };
    Dyadic::new(mant, exp)
}

fn check_range(name: &str, x: Dyadic, out: Outcome) {
    if let Outcome::Finite(v) = out {
        // Rounding functions return their argument unchanged when it is already an integer.
        let exempt = matches!(name, "floor" | "ceil" | "round_half_even" | "trunc");
        assert!(
            exempt || v.top() <= 128,
            "{name}({x:?}) = {v:?} is not below 2^128"
        );
    }
}

#[test]
fn no_panic_on_wild_inputs() {
    let mut r = rng(50);
    for _ in 0..20_000 {
        let (x, y) = (wild(&mut r), wild(&mut r));
        for (name, func) in UNARY {
            check_range(name, x, func(x));
        }
        check_range("ceil", x, Outcome::Finite(ceil(x)));
        check_range("powf", x, powf(x, y));
        check_range("atan2", x, atan2(x, y));
        check_range("div", x, div(x, y));
        let _ = remainder(x, y);
    }
}

/// atan2 is odd in y.
fn atan2_in_y(y: Dyadic) -> Outcome {
    atan2(y, Dyadic::new(3, -1))
}

fn moderate() -> impl Strategy<Value = Dyadic> {
    (any::<i64>(), -120i32..40).prop_map(|(m, e)| Dyadic::new(m >> 2, e))
}

proptest! {
    #[test]
    fn odd_functions_are_exactly_odd(x in moderate()) {
        for f in [sin, tan, atan, tanh, erf, sinh, asinh, asin, atanh, atan2_in_y] {
            let (a, b) = (f(x), f(x.neg()));
            match (a, b) {
                (Outcome::Finite(a), Outcome::Finite(b)) => prop_assert!(a.cmp_value(b.neg()).is_eq()),
                (Outcome::Infinite { negative: p }, Outcome::Infinite { negative: q }) => prop_assert!(p != q),
                _ => prop_assert_eq!(a, b),
            }
        }
    }

    #[test]
    fn even_functions_are_exactly_even(x in moderate()) {
        for f in [cos, cosh] {
            prop_assert!(same(f(x), f(x.neg())));
        }
    }

    #[test]
    fn log_inverts_exp(x in (-(80i64 << 40)..(80i64 << 40)).prop_map(|m| Dyadic::new(m, -40))) {
        let y = log(exp(x).finite().unwrap()).finite().unwrap();
        let err = f(y.sub(x)).abs();
        prop_assert!(err <= 2f64.powi(-50) * f(x).abs().max(1.0), "{x:?} -> {y:?}");
    }

    #[test]
    fn sigmoid_is_symmetric(x in moderate()) {
        // sigmoid(x) + sigmoid(-x) = 1 up to rounding.
        let s = sigmoid(x).finite().unwrap().add(sigmoid(x.neg()).finite().unwrap());
        prop_assert!(f(s.sub(Dyadic::ONE)).abs() <= 2f64.powi(-56));
    }
}
