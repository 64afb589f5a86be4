//! Prints sample inputs and outputs of every function, exactly, for `tools/check_mpmath.py`,
//! which recomputes them with mpmath at 256 bits and reports the true maximum error (the f64
//! sweeps in `tests/` cannot see below the reference's own ~2^-53).
//!
//! `cargo run --release -p gse-math --example dump_samples > /tmp/samples.txt`
//! `python3 crates/gse-math/tools/check_mpmath.py /tmp/samples.txt`
//!
//! Inputs have full 62-bit mantissas (beyond f64's 53), log-spaced magnitudes and uniform
//! samples over each function's interesting range. Line format:
//! `name x_mant x_exp [y_mant y_exp] -> kind [out_mant out_exp]`.

use gse::{Dyadic, SplitMix64};
use gse_math::*;

const PER_RANGE: usize = 4000;

/// Random 62-bit mantissa with magnitude in `[2^lo, 2^hi)`.
fn log_spaced(r: &mut SplitMix64, lo: i32, hi: i32, signed: bool) -> Dyadic {
    let e = lo + r.below((hi - lo) as u64) as i32;
    let mant = ((r.next_u64() >> 2) | (1 << 61)) as i64;
    let mant = if signed && r.next_u64() & 1 == 1 {
        -mant
    } else {
        mant
    };
    Dyadic::new(mant, e - 61)
}

/// Uniform in `[a, b)` at resolution `2^-56`, where `a` and `b` are integers over 16.
fn uniform(r: &mut SplitMix64, a16: i64, b16: i64) -> Dyadic {
    let lo = (a16 as i128) << 52;
    let span = ((b16 - a16) as u128) << 52;
    let off = (r.next_u64() as u128 * span) >> 64;
    Dyadic::from_i128(lo + off as i128, -56)
}

fn show(o: Outcome) -> String {
    match o {
        Outcome::Finite(v) => format!("F {} {}", v.mant, v.exp),
        Outcome::Nan => "N".into(),
        Outcome::Infinite { negative } => format!("I {}", if negative { "-" } else { "+" }),
    }
}

fn unary(r: &mut SplitMix64, name: &str, f: fn(Dyadic) -> Outcome, ranges: &[Range]) {
    for range in ranges {
        for _ in 0..PER_RANGE {
            let x = range.sample(r);
            println!("{name} {} {} -> {}", x.mant, x.exp, show(f(x)));
        }
    }
}

#[derive(Clone, Copy)]
enum Range {
    Log(i32, i32, bool),
    /// Negative log-spaced magnitudes in `[2^lo, 2^hi)`.
    NegLog(i32, i32),
    /// Uniform between two sixteenths.
    Uniform(i64, i64),
    /// `1 + s` or `1 - s` for log-spaced `s` in `[2^lo, 2^hi)`.
    NearOne(i32, i32, bool),
}

impl Range {
    fn sample(self, r: &mut SplitMix64) -> Dyadic {
        match self {
            Range::Log(lo, hi, signed) => log_spaced(r, lo, hi, signed),
            Range::NegLog(lo, hi) => log_spaced(r, lo, hi, false).neg(),
            Range::Uniform(a, b) => uniform(r, a, b),
            Range::NearOne(lo, hi, below) => {
                let s = log_spaced(r, lo, hi, false);
                let s = if below { s.neg() } else { s };
                Dyadic::ONE.add(s)
            }
        }
    }
}

fn main() {
    use Range::*;
    let r = &mut SplitMix64::new(2024);
    let wide = [Log(-140, 7, true), Uniform(-16 * 16, 16 * 16)];
    unary(
        r,
        "exp",
        exp,
        &[Log(-140, 7, true), Uniform(-115 * 16, 89 * 16)],
    );
    unary(r, "expm1", expm1, &[Log(-140, 6, true)]);
    unary(
        r,
        "log",
        log,
        &[
            Log(-149, 128, false),
            NearOne(-62, -1, false),
            NearOne(-62, -1, true),
        ],
    );
    unary(r, "log1p", log1p, &[Log(-140, 100, false), NegLog(-140, 0)]);
    unary(r, "sqrt", sqrt, &[Log(-149, 128, false)]);
    unary(r, "recip", recip, &[Log(-120, 120, true)]);
    unary(r, "tanh", tanh, &wide);
    unary(
        r,
        "sigmoid",
        sigmoid,
        &[Log(-140, 7, true), Uniform(-112 * 16, 40 * 16)],
    );
    unary(r, "erf", erf, &wide);
    unary(
        r,
        "erfc",
        erfc,
        &[Log(-140, 3, true), Uniform(-6 * 16, 11 * 16)],
    );
    unary(
        r,
        "gelu_erf",
        gelu_erf,
        &[Log(-140, 4, true), Uniform(-15 * 16, 8 * 16)],
    );
    unary(
        r,
        "gelu_tanh",
        gelu_tanh,
        &[Log(-140, 4, true), Uniform(-11 * 16, 8 * 16)],
    );
    unary(
        r,
        "gelu_erf_derivative",
        gelu_erf_derivative,
        &[Log(-140, 4, true), Uniform(-15 * 16, 8 * 16)],
    );
    unary(r, "sin", sin, &[Uniform(-160, 160), Log(-140, 1000, true)]);
    unary(r, "cos", cos, &[Uniform(-160, 160), Log(-140, 1000, true)]);
    unary(r, "tan", tan, &[Uniform(-160, 160), Log(-140, 1000, true)]);
    unary(
        r,
        "sinh",
        sinh,
        &[Log(-140, 7, true), Uniform(-89 * 16, 89 * 16)],
    );
    unary(
        r,
        "cosh",
        cosh,
        &[Log(-140, 7, true), Uniform(-89 * 16, 89 * 16)],
    );
    unary(
        r,
        "asin",
        asin,
        &[Uniform(-16, 16), Log(-140, 0, true), NearOne(-62, -1, true)],
    );
    unary(
        r,
        "acos",
        acos,
        &[Uniform(-16, 16), Log(-140, 0, true), NearOne(-62, -1, true)],
    );
    unary(r, "atan", atan, &[Log(-140, 140, true)]);
    unary(r, "asinh", asinh, &[Log(-140, 127, true)]);
    unary(
        r,
        "acosh",
        acosh,
        &[NearOne(-62, 7, false), Log(0, 127, false)],
    );
    unary(
        r,
        "atanh",
        atanh,
        &[Log(-140, 0, true), NearOne(-62, -1, true)],
    );
    for _ in 0..3 * PER_RANGE {
        let (y, x) = (
            log_spaced(r, -140, 140, true),
            log_spaced(r, -140, 140, true),
        );
        println!(
            "atan2 {} {} {} {} -> {}",
            y.mant,
            y.exp,
            x.mant,
            x.exp,
            show(atan2(y, x))
        );
        let (b, e) = (log_spaced(r, -20, 20, false), uniform(r, -40 * 16, 40 * 16));
        println!(
            "powf {} {} {} {} -> {}",
            b.mant,
            b.exp,
            e.mant,
            e.exp,
            show(powf(b, e))
        );
    }
}
