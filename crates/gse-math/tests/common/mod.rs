//! Shared helpers for the accuracy sweeps: exact f64 <-> Dyadic conversion, seeded input
//! generators and an error tracker. f64 is the reference here (tests are outside the library,
//! so the float-arithmetic lint does not apply).
#![allow(dead_code, clippy::float_arithmetic)]

use gse::{Dyadic, SplitMix64};
use gse_math::Outcome;

/// The exact dyadic value of a finite f64.
pub fn d(x: f64) -> Dyadic {
    assert!(x.is_finite());
    if x == 0.0 {
        return Dyadic::ZERO;
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1 << 52) - 1)) as i64;
    let (mant, exp) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), biased - 1075)
    };
    Dyadic::new(if x < 0.0 { -mant } else { mant }, exp)
}

/// The f64 nearest to a dyadic (for printing and coarse checks).
pub fn f(x: Dyadic) -> f64 {
    x.mant as f64 * 2f64.powi(x.exp.clamp(-1100, 1100))
}

/// `|ours - reference| / scale`, with the difference formed exactly in dyadic arithmetic so
/// our own 62-bit result is not rounded to f64 first.
pub fn err(ours: Dyadic, reference: f64, scale: f64) -> f64 {
    let diff = ours.sub(d(reference));
    (f(diff) / scale).abs()
}

/// Log-spaced magnitudes in `[2^lo, 2^hi)` with random 53-bit mantissas; both signs when
/// `signed`.
pub fn log_spaced(rng: &mut SplitMix64, n: usize, lo: i32, hi: i32, signed: bool) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let e = lo + rng.below((hi - lo) as u64) as i32;
            let mant = (rng.next_u64() >> 11) | (1 << 52);
            let v = mant as f64 * 2f64.powi(e - 52);
            if signed && rng.next_u64() & 1 == 1 {
                -v
            } else {
                v
            }
        })
        .collect()
}

/// Uniform in `[a, b)`, exact f64 values.
pub fn uniform(rng: &mut SplitMix64, n: usize, a: f64, b: f64) -> Vec<f64> {
    (0..n)
        .map(|_| a + (b - a) * ((rng.next_u64() >> 11) as f64 * 2f64.powi(-53)))
        .collect()
}

/// Rounds an f64 to an f32-representable value (24-bit mantissa), to also cover the inputs
/// the kernels will actually see.
pub fn as_f32_value(x: f64) -> f64 {
    x as f32 as f64
}

/// What the f64 reference implies our function must return.
pub fn expected_kind(reference: f64) -> Kind {
    if reference.is_nan() {
        Kind::Nan
    } else if reference.abs() >= 2f64.powi(128) {
        Kind::Infinite(reference < 0.0)
    } else {
        Kind::Finite
    }
}

#[derive(Debug, PartialEq)]
pub enum Kind {
    Nan,
    Infinite(bool),
    Finite,
}

/// Maximum scaled error over a sweep, with the input that produced it.
pub struct Tracker {
    pub name: String,
    pub max: f64,
    pub worst: String,
    pub count: usize,
}

impl Tracker {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            max: 0.0,
            worst: String::new(),
            count: 0,
        }
    }

    /// Checks one result: the kind must match the reference, and a finite result's error
    /// relative to `scale` is tracked. Values whose reference is below `flush` may come back 0.
    pub fn record(&mut self, input: &str, ours: Outcome, reference: f64, scale: f64, flush: f64) {
        self.count += 1;
        let expected = expected_kind(reference);
        // Results within 2^-40 of the overflow threshold may land on either side of it.
        let near_overflow = (reference.abs() / 2f64.powi(128) - 1.0).abs() < 2f64.powi(-40);
        match ours {
            Outcome::Finite(v) => {
                if near_overflow {
                    return;
                }
                assert_eq!(
                    expected,
                    Kind::Finite,
                    "{}({input}) = {v:?}, reference {reference:e}",
                    self.name
                );
                if v.is_zero() && reference.abs() < flush {
                    return;
                }
                let e = err(v, reference, scale.max(f64::MIN_POSITIVE));
                if e > self.max || e.is_nan() {
                    self.max = e;
                    self.worst = format!("{input} -> {:e} (reference {reference:e})", f(v));
                }
            }
            other => {
                if near_overflow && matches!(other, Outcome::Infinite { .. }) {
                    return;
                }
                let kind = match other {
                    Outcome::Nan => Kind::Nan,
                    Outcome::Infinite { negative } => Kind::Infinite(negative),
                    Outcome::Finite(_) => unreachable!(),
                };
                assert_eq!(
                    kind, expected,
                    "{}({input}), reference {reference:e}",
                    self.name
                );
            }
        }
    }

    /// Prints the measured maximum and asserts it is within `2^bound_log2`.
    pub fn finish(&self, bound_log2: i32) {
        let log2 = if self.max > 0.0 {
            self.max.log2()
        } else {
            -999.0
        };
        println!(
            "{:<24} {:>8} points  max error 2^{log2:.1}  at {}",
            self.name, self.count, self.worst
        );
        assert!(
            self.max <= 2f64.powi(bound_log2),
            "{}: max error 2^{log2:.1} above 2^{bound_log2} at {}",
            self.name,
            self.worst
        );
    }
}

/// Sweeps a one-argument function against an f64 reference, with relative error measured
/// against `max(|reference|, abs_floor)`.
pub fn sweep1(
    name: &str,
    inputs: &[f64],
    ours: impl Fn(Dyadic) -> Outcome,
    reference: impl Fn(f64) -> f64,
    abs_floor: f64,
    bound_log2: i32,
) {
    let mut t = Tracker::new(name);
    for &x in inputs {
        let r = reference(x);
        t.record(
            &format!("{x:e}"),
            ours(d(x)),
            r,
            r.abs().max(abs_floor),
            2f64.powi(-159),
        );
    }
    t.finish(bound_log2);
}

pub fn rng(seed: u64) -> SplitMix64 {
    SplitMix64::new(seed)
}

/// `v` with its f32-rounded twin, so every sweep also covers f32-representable inputs.
pub fn with_f32_twins(v: Vec<f64>) -> Vec<f64> {
    let twins: Vec<f64> = v
        .iter()
        .map(|&x| as_f32_value(x))
        .filter(|x| x.is_finite())
        .collect();
    v.into_iter().chain(twins).collect()
}

/// Outcome equality by value (a finite dyadic has many representations).
pub fn same(a: Outcome, b: Outcome) -> bool {
    match (a, b) {
        (Outcome::Finite(x), Outcome::Finite(y)) => x.cmp_value(y).is_eq(),
        _ => a == b,
    }
}

/// Asserts `a` and `b` are the same outcome by value.
#[track_caller]
pub fn assert_same(a: Outcome, b: Outcome) {
    assert!(same(a, b), "{a:?} != {b:?}");
}
