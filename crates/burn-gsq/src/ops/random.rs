//! Random tensors from an integer generator: reproducible for a seed, whatever the thread count.
//!
//! The generator is per thread: `Gsq::seed` seeds the calling thread's stream, so two threads
//! (parallel tests, data loaders) never interleave each other's draws. Element `i` of a tensor
//! takes `random_bits(key, i)` for a key drawn once per tensor, so the values do not depend on
//! how rayon splits the work.

use std::cell::RefCell;

use burn_backend::Distribution;
use burn_std::{FloatDType, Shape};
use gse::rounding::random_bits;
use gse::{Dyadic, GseFormat, SplitMix64};
use gse_kernels::generate;

use crate::convert::scalar_to_dyadic;
use crate::{GsqDevice, GsqTensor};

const DEFAULT_SEED: u64 = 0x6753_515f_7365_6564;

thread_local! {
    static RNG: RefCell<SplitMix64> = const { RefCell::new(SplitMix64::new(DEFAULT_SEED)) };
}

pub(crate) fn seed(seed: u64) {
    RNG.with(|rng| *rng.borrow_mut() = SplitMix64::new(seed));
}

/// A fresh stream key; each element then draws `random_bits(key, index)`.
fn next_stream() -> u64 {
    RNG.with(|rng| rng.borrow_mut().next_u64())
}

/// Uniform in `[0, 1)` with 53 random bits.
fn unit(bits: u64) -> Dyadic {
    Dyadic::new((bits >> 11) as i64, -53)
}

/// Uniform in `(0, 1]`, for logarithms.
fn unit_open_low(bits: u64) -> Dyadic {
    Dyadic::new((bits >> 11) as i64 + 1, -53)
}

fn finite(o: gse_math::Outcome) -> Dyadic {
    match o {
        gse_math::Outcome::Finite(d) => d,
        _ => Dyadic::ZERO,
    }
}

/// A standard normal sample by Box–Muller: `sqrt(-2 ln u1) * cos(2 pi u2)`.
fn standard_normal(b1: u64, b2: u64) -> Dyadic {
    let radius = finite(gse_math::sqrt(
        finite(gse_math::log(unit_open_low(b1))).shl(1).neg(),
    ));
    let angle = unit(b2).mul(gse_math::PI).shl(1);
    radius.mul(finite(gse_math::cos(angle)))
}

/// `x` rounded toward minus infinity onto values `format` stores exactly, so that storing it
/// rounds nothing and a draw below a bound stays below it (round-to-nearest would carry the
/// draws just under `1` up to `1`, outside burn's `[low, high)`). With a scale per value the
/// grid is `x`'s own (its top `bits - 1` magnitude bits); with shared scales it is the grid of
/// the coarsest scale a group of draws can have, that of `bound`, the largest magnitude.
/// Returns the floored value and the grid's spacing exponent.
fn floor_to_format(x: Dyadic, format: GseFormat, bound: Dyadic) -> (Dyadic, i32) {
    let keep = format.mantissa_bits() - 1;
    let lsb = if format.group_size() == 1 {
        x.top() - keep as i32
    } else {
        bound.top() - keep as i32
    };
    if x.is_zero() || x.exp >= lsb {
        return (x, lsb);
    }
    let shift = (lsb - x.exp) as u32;
    let mant = if shift >= 64 {
        if x.is_negative() { -1 } else { 0 }
    } else {
        x.mant >> shift
    };
    (Dyadic::new(mant, lsb), lsb)
}

/// A draw `x` in `[low, high)` on the format's grid, still in `[low, high)`: floored, or one
/// grid step up when `low` itself is not on the grid and the floor went below it.
fn in_range(x: Dyadic, format: GseFormat, low: Dyadic, bound: Dyadic) -> Dyadic {
    let (y, lsb) = floor_to_format(x, format, bound);
    if y.cmp_value(low).is_lt() {
        y.add(Dyadic::new(1, lsb))
    } else {
        y
    }
}

pub(crate) fn random(
    shape: Shape,
    distribution: Distribution,
    device: &GsqDevice,
    dtype: FloatDType,
) -> GsqTensor {
    let p = device.policy();
    let key = next_stream();
    let f = |x: f64| scalar_to_dyadic(burn_backend::Scalar::Float(x), p.special);
    let dims: Vec<usize> = shape.iter().copied().collect();
    let sample: Box<dyn Fn(usize) -> Dyadic + Sync> = match distribution {
        Distribution::Default => Box::new(move |i| {
            floor_to_format(unit(random_bits(key, i as u64)), p.stream, Dyadic::ONE).0
        }),
        Distribution::Uniform(low, high) => {
            let (low, high) = (f(low), f(high));
            let span = high.sub(low);
            let bound = super::math::max(low.abs(), high.abs());
            Box::new(move |i| {
                let x = low.add(span.mul(unit(random_bits(key, i as u64))));
                in_range(x, p.stream, low, bound)
            })
        }
        Distribution::Bernoulli(prob) => {
            let prob = f(prob);
            Box::new(move |i| {
                let u = unit(random_bits(key, i as u64));
                Dyadic::from_int((u.cmp_value(prob) == core::cmp::Ordering::Less) as i64)
            })
        }
        Distribution::Normal(mean, std) => {
            let (mean, std) = (f(mean), f(std));
            Box::new(move |i| {
                let i = i as u64;
                let z = standard_normal(random_bits(key, 2 * i), random_bits(key, 2 * i + 1));
                mean.add(std.mul(z))
            })
        }
    };
    let t = generate(&dims, p.stream, p.rounding, sample);
    GsqTensor {
        dtype,
        ..GsqTensor::new(t, *device)
    }
}
