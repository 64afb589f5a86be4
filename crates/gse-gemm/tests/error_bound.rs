//! The stated error of the whole GEMM against f64 of the original (unquantized) values, per
//! operand format: with nearest-even operand quantization each operand value moves by at most
//! one half of its group's quantum, `2^(s - P)` after a carry raised the scale to `s + 1`, so
//!
//! `|err| <= sum_g gs * 2^(sA_g + sB_g) * (2^(1-P) + 2^(-2P))`
//!
//! over the K-groups `g` of the row and column, with `2^sA_g > max |a|` over the group (and
//! likewise for B), plus the output rounding (EXACT output: `2^-24` relative) and f64's own.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::{GseFormat, Rounding, SplitMix64};
use gse_gemm::{GemmConfig, MatRef, matmul};

/// Smallest power of two above `x` (`x >= 0`); 0 for 0.
fn pow2_above(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let mut p = 1.0f64;
    while p <= x {
        p *= 2.0;
    }
    while p / 2.0 > x {
        p /= 2.0;
    }
    p
}

#[test]
fn error_against_f64_is_within_the_stated_bound_for_every_format() {
    let (m, k, n) = (9, 200, 11);
    for (s, spread) in [Spread::Narrow, Spread::Varied].into_iter().enumerate() {
        let mut rng = SplitMix64::new(40 + s as u64);
        let a = random_blocks(&mut rng, m, k, GseFormat::STREAM16, spread);
        let b = random_blocks(&mut rng, k, n, GseFormat::STREAM16, spread);
        let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        let af: Vec<f64> = (0..m * k).map(|i| to_f64(a.get(i))).collect();
        let bf: Vec<f64> = (0..k * n).map(|i| to_f64(b.get(i))).collect();
        for operand in [
            GseFormat::INT8,
            GseFormat::INT6,
            GseFormat::INT5,
            GseFormat::INT4,
        ] {
            let cfg = GemmConfig {
                operand_format: operand,
                out_format: GseFormat::EXACT,
                rounding: Rounding::NearestEven,
            };
            let got = matmul(av, bv, &cfg);
            let p = operand.magnitude_bits() as i32;
            let gs = operand.group_size();
            let factor = 2f64.powi(1 - p) + 2f64.powi(-2 * p);
            let mut worst = 0.0f64;
            for r in 0..m {
                for c in 0..n {
                    let exact: f64 = (0..k).map(|j| af[r * k + j] * bf[j * n + c]).sum();
                    let mut bound = 0.0;
                    for g0 in (0..k).step_by(gs) {
                        let g1 = (g0 + gs).min(k);
                        let ma = (g0..g1).map(|j| af[r * k + j].abs()).fold(0.0, f64::max);
                        let mb = (g0..g1).map(|j| bf[j * n + c].abs()).fold(0.0, f64::max);
                        bound += gs as f64 * pow2_above(ma) * pow2_above(mb) * factor;
                    }
                    let mag: f64 = (0..k).map(|j| (af[r * k + j] * bf[j * n + c]).abs()).sum();
                    let slack = 2f64.powi(-24) * (exact.abs() + bound) + 1e-12 * mag;
                    let err = (to_f64(got.get(r * n + c)) - exact).abs();
                    assert!(
                        err <= bound + slack,
                        "{operand} {spread:?} ({r},{c}): |err| {err:e} > bound {bound:e}"
                    );
                    if bound > 0.0 {
                        worst = worst.max(err / bound);
                    }
                }
            }
            eprintln!("{operand} {spread:?}: largest |err| / bound = {worst:.3}");
        }
    }
}
