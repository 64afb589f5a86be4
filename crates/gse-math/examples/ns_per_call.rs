//! Nanoseconds per call of each function on typical inputs.
//!
//! `cargo run --release -p gse-math --example ns_per_call`
//!
//! Inputs are 4096 values with 24-bit mantissas in each function's working range, cycled through
//! so the branch predictor cannot learn them. Each function is timed 25 times over 200k calls
//! and the fastest run is reported, which filters out interference from other processes on a
//! shared machine. Pass a function name to time only that one.

use std::hint::black_box;
use std::time::Instant;

use gse::{Dyadic, SplitMix64};
use gse_math::*;

const CALLS: usize = 200_000;
const REPEATS: usize = 25;

/// 4096 values `lo + (hi - lo) * u` with 24-bit mantissas, in integer arithmetic:
/// `lo_q20` and `hi_q20` are the bounds times 2^20.
fn inputs(lo_q20: i64, hi_q20: i64) -> Vec<Dyadic> {
    let mut r = SplitMix64::new(9);
    (0..4096)
        .map(|_| {
            let span = (hi_q20 - lo_q20) as u64;
            Dyadic::new(lo_q20 + r.below(span) as i64, -20)
        })
        .collect()
}

fn time(name: &str, xs: &[Dyadic], f: impl Fn(Dyadic) -> Outcome) {
    if std::env::args().nth(1).is_some_and(|only| only != name) {
        return;
    }
    let mut sink = 0i64;
    for &x in xs {
        sink ^= f(x).finite_or(Dyadic::ZERO).mant;
    }
    let mut ns = f64::MAX;
    for _ in 0..REPEATS {
        let start = Instant::now();
        for i in 0..CALLS {
            let x = black_box(xs[i & (xs.len() - 1)]);
            sink ^= black_box(f(x)).finite_or(Dyadic::ZERO).mant;
        }
        ns = ns.min(start.elapsed().as_nanos() as f64 / CALLS as f64);
    }
    black_box(sink);
    println!("{name:<22} {ns:6.1} ns/call");
}

fn main() {
    const ONE: i64 = 1 << 20;
    let wide = inputs(-8 * ONE, 8 * ONE);
    let positive = inputs(ONE / 64, 64 * ONE);
    let unit = inputs(-ONE, ONE);
    let nonpositive = inputs(-30 * ONE, 0);
    let tenth = |k: i64| {
        Dyadic::from_int(k)
            .div(Dyadic::from_int(10))
            .unwrap_or(Dyadic::ZERO)
    };
    let (p17, p07, p03) = (tenth(17), tenth(7), tenth(3));
    time("exp", &wide, exp);
    time("exp_nonpositive", &nonpositive, |x| {
        Outcome::Finite(exp_nonpositive(x))
    });
    time("log", &positive, log);
    time("log1p", &positive, log1p);
    time("sqrt", &positive, sqrt);
    time("recip", &wide, recip);
    time("powf(x, 1.7)", &positive, |x| powf(x, p17));
    time("powf(x, 2)", &positive, |x| powf(x, Dyadic::from_int(2)));
    time("tanh", &wide, tanh);
    time("sigmoid", &wide, sigmoid);
    time("erf", &wide, erf);
    time("gelu_erf", &wide, gelu_erf);
    time("gelu_tanh", &wide, gelu_tanh);
    time("gelu_erf_derivative", &wide, gelu_erf_derivative);
    time("sin", &wide, sin);
    time("cos", &wide, cos);
    time("tan", &wide, tan);
    time("sinh", &wide, sinh);
    time("cosh", &wide, cosh);
    time("asin", &unit, asin);
    time("acos", &unit, acos);
    time("atan", &wide, atan);
    time("atan2(x, 0.7)", &wide, |y| atan2(y, p07));
    time("asinh", &wide, asinh);
    time("acosh", &positive, |x| acosh(x.add(Dyadic::ONE)));
    time("atanh", &unit, atanh);
    time("floor", &wide, |x| Outcome::Finite(floor(x)));
    time("round_half_even", &wide, |x| {
        Outcome::Finite(round_half_even(x))
    });
    time("remainder(x, 0.3)", &wide, |x| remainder(x, p03));
}
