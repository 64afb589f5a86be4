//! Differential tests: every float op of burn's `Tensor` API that reaches the `Gsq` backend's
//! `FloatTensorOps` / `ActivationOps` / `ModuleOps`, run on `Gsq` at the default policy
//! (GSE-INT8 matmul operands, STREAM16 results) and at the exact policy (integer-emulated f32),
//! and compared with burn-ndarray on the same seeded data.
//!
//! How the comparison works (see `tests/common/mod.rs`):
//! * every test body is one generic function of the backend, run on `Gsq` and on `NdArray`;
//! * at the default policy the reference gets the values the Gsq input tensors actually hold
//!   (inputs rounded to STREAM16), so the bound is the op's own error — one STREAM16 rounding of
//!   the result is at most 2^-15 relative; input rounding is checked by
//!   `creation_and_round_trip`, and matmul / attention compare against the raw inputs
//!   (end to end, the 3% bar);
//! * at the exact policy the bounds are in f32 ulps of the reference; where the f32 reference's
//!   own rounding would dominate (reductions with cancellation, composite activations,
//!   transcendentals) the reference is `NdArray<f64>`, i.e. the true value;
//! * ints, bools, indices and pure data movement must match exactly at both policies.
//!
//! Run `cargo test --release --test differential -- --nocapture` for the error table
//! (`DIFF family=... level=... rel_l2=... max_ulps=...` lines).

#[macro_use]
mod common;

use burn::module::Param;
use burn::nn::LayerNormConfig;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation;
use burn::tensor::backend::Backend as _;
use burn::tensor::module::{attention, embedding};
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{
    DType, Distribution, FloatDType, IndexingUpdateOp, Tensor, TensorData, bf16, f16, s,
};
use burn_gsq::{Gsq, GsqDevice};
use common::*;

// ---------------------------------------------------------------------------------------------
// Tolerances, derived from the formats
// ---------------------------------------------------------------------------------------------

/// Default policy, exact op on the held inputs, result rounded once to STREAM16: at most 2^-15
/// of the value, plus the f32 reference's own 2^-24 (x 1.01 covers it).
const D_ELEM: Tol = Tol::rel(STREAM * 1.01);
/// Default policy, transcendental functions: one STREAM16 rounding plus the function's
/// evaluation error: 2^-14 relative.
const D_TRANS: Tol = Tol::rel(STREAM * 2.0);
/// Default policy, ops that burn composes from 2-4 rounded primitives (var, silu, softmax's
/// exp/sum/div, layer norm): 2^-13 relative.
const D_COMPOSITE: Tol = Tol::rel(STREAM * 4.0);
/// Default policy, matmul-based ops against the raw (unquantized) inputs: the bar,
/// 3% relative L2 (INT8 operands carry up to 2^-8 of their group's max each).
const D_MATMUL: Tol = Tol::l2_only(0.03).raw();

/// Exact policy, IEEE-style correctly rounded arithmetic (add, sub, mul, div): bit-exact with
/// the f32 reference.
const E_ARITH: Tol = Tol::ulps(0.0);
/// Exact policy, `gse-math` roots/reciprocals and transcendentals: within 2 ulps of the true
/// value (f64 reference).
const E_TRANS: Tol = Tol::ulps(2.0).f64();
/// Exact policy, exactly rounded reductions (sum, mean, prod, scans, matmul) against the true
/// value: 1 ulp.
const E_REDUCE: Tol = Tol::ulps(1.0).f64();

const P15: f64 = STREAM;

// ---------------------------------------------------------------------------------------------
// Creation, data round trip, random
// ---------------------------------------------------------------------------------------------

#[test]
fn creation_and_round_trip() {
    let subnormals: Vec<f32> = [1e-39f32, -3e-40, 1.5e-44, 1.1754942e-38]
        .into_iter()
        .chain(log_uniform(12, -39.0, -37.5, 9))
        .collect();
    let sets: Vec<(&str, Vec<f32>)> = vec![
        ("normal", normal(333, 1.0, 1)),
        ("uniform", uniform(200, -50.0, 50.0, 2)),
        ("wide 1e-20..1e20", wide(300, 3)),
        ("tiny 1e-37..1e-30", log_uniform(100, -37.0, -30.0, 4)),
        ("huge 1e30..3e38", log_uniform(100, 30.0, 38.5, 5)),
        ("subnormal", subnormals),
        (
            "exact values",
            vec![0.0, -0.0, 1.0, -2.5, 0.375, 65504.0, 1024.5, -7.0],
        ),
    ];
    let mut worst_default: f64 = 0.0;
    for (level, dev) in levels() {
        for (name, data) in &sets {
            let n = data.len();
            let t = Tensor::<Gsq, 2>::from_data(TensorData::new(data.clone(), [1, n]), &dev);
            assert_eq!(t.dtype(), DType::F32, "{level} {name}: dtype");
            assert_eq!(t.dims(), [1, n]);
            let out = t.into_data();
            assert_eq!(out.dtype, DType::F32, "{level} {name}: into_data dtype");
            let got: Vec<f32> = out.iter::<f32>().collect();
            for (i, (&g, &x)) in got.iter().zip(data).enumerate() {
                if level == "exact" {
                    // EXACT holds every finite f32 (subnormals included) bit for bit.
                    assert_eq!(
                        g.to_bits() & 0x7fff_ffff,
                        x.to_bits() & 0x7fff_ffff,
                        "{level} {name}[{i}]: {x:e} -> {g:e}"
                    );
                    assert!(g == x, "{level} {name}[{i}]: {x:e} -> {g:e}");
                } else {
                    // STREAM16: half a quantum, 2^-15 of the value; below 2^-127 the scale is
                    // clamped at SCALE_MIN = -127, so the quantum is 2^-142 (half: 2^-143).
                    let err = (g as f64 - x as f64).abs();
                    let allowed = P15 * (x as f64).abs() + 2f64.powi(-143);
                    assert!(
                        err <= allowed,
                        "{level} {name}[{i}]: {x:e} -> {g:e} (error {err:e} > {allowed:e})"
                    );
                    if x.abs() >= 1e-37 {
                        worst_default = worst_default.max(err / (x as f64).abs());
                    }
                }
            }
        }

        // f64 data kept as f64: values round to the stream format, dtype reported as F64.
        let d64: Vec<f64> = [
            0.1f64,
            -1.0 / 3.0,
            1e-30,
            123456.789,
            2.0f64.powi(-60),
            -7.5,
        ]
        .into_iter()
        .collect();
        let t = Tensor::<Gsq, 1>::from_data(
            TensorData::new(d64.clone(), [d64.len()]),
            (&dev, DType::F64),
        );
        assert_eq!(
            t.dtype(),
            DType::F64,
            "{level}: f64 data with DType::F64 reports F64"
        );
        let back = t.into_data();
        assert_eq!(back.dtype, DType::F64);
        for (g, x) in back.iter::<f64>().zip(&d64) {
            let allowed = if level == "exact" {
                2f64.powi(-24) * x.abs()
            } else {
                P15 * x.abs()
            };
            assert!((g - x).abs() <= allowed, "{level}: f64 {x:e} -> {g:e}");
        }
        // f64 data with the default dtype: burn converts to f32 first.
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(d64.clone(), [d64.len()]), &dev);
        assert_eq!(t.dtype(), DType::F32);
        for (g, x) in floats(t).iter().zip(&d64) {
            let x32 = *x as f32;
            let allowed = if level == "exact" {
                0.0
            } else {
                P15 * x32.abs() as f64
            };
            assert!(
                (*g as f64 - x32 as f64).abs() <= allowed,
                "{level}: f64->f32 {x:e} -> {g:e}"
            );
        }
        // f16 / bf16 / int data: every value fits 16 mantissa bits, so both policies are exact.
        let h: Vec<f16> = normal(40, 3.0, 6).into_iter().map(f16::from_f32).collect();
        let t = Tensor::<Gsq, 2>::from_data(TensorData::new(h.clone(), [5, 8]), &dev);
        assert_eq!(
            floats(t),
            h.iter().map(|v| v.to_f32()).collect::<Vec<_>>(),
            "{level}: f16 data"
        );
        let b: Vec<bf16> = wide(40, 7).into_iter().map(bf16::from_f32).collect();
        let t = Tensor::<Gsq, 2>::from_data(TensorData::new(b.clone(), [8, 5]), &dev);
        assert_eq!(
            floats(t),
            b.iter().map(|v| v.to_f32()).collect::<Vec<_>>(),
            "{level}: bf16 data"
        );
        let i64s = ints(30, -20000, 20000, 8);
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(i64s.clone(), [30]), &dev);
        assert_eq!(
            floats(t),
            i64s.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            "{level}: i64 data"
        );
        let i32s: Vec<i32> = ints(30, -300, 300, 9)
            .into_iter()
            .map(|v| v as i32)
            .collect();
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(i32s.clone(), [30]), &dev);
        assert_eq!(
            floats(t),
            i32s.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            "{level}: i32 data"
        );
        let u8s: Vec<u8> = (0..=255).collect();
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(u8s.clone(), [256]), &dev);
        assert_eq!(
            floats(t),
            u8s.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            "{level}: u8 data"
        );

        // Constants.
        let z = Tensor::<Gsq, 3>::zeros([2, 3, 37], &dev);
        assert_eq!(z.dims(), [2, 3, 37]);
        assert!(floats(z).iter().all(|v| v.to_bits() == 0), "{level}: zeros");
        assert!(
            floats(Tensor::<Gsq, 2>::ones([5, 33], &dev))
                .iter()
                .all(|&v| v == 1.0),
            "{level}: ones"
        );
        assert!(
            floats(Tensor::<Gsq, 2>::full([4, 7], -3.25, &dev))
                .iter()
                .all(|&v| v == -3.25),
            "{level}: full"
        );
        let tenth = floats(Tensor::<Gsq, 1>::full([9], 0.1f32, &dev));
        let allowed = if level == "exact" { 0.0 } else { P15 * 0.1 };
        assert!(
            tenth
                .iter()
                .all(|&v| (v as f64 - 0.1f32 as f64).abs() <= allowed),
            "{level}: full(0.1): {tenth:?}"
        );
        let x = Tensor::<Gsq, 2>::from_data(TensorData::new(normal(12, 1.0, 10), [3, 4]), &dev);
        assert!(floats(x.zeros_like()).iter().all(|&v| v == 0.0));
        assert!(floats(x.ones_like()).iter().all(|&v| v == 1.0));
        assert_eq!(Tensor::<Gsq, 2>::empty([3, 0], &dev).dims(), [3, 0]);
        let e = Tensor::<Gsq, 1>::from_floats([1.5, -2.0, 3.25], &dev);
        assert_eq!(floats(e), vec![1.5, -2.0, 3.25]);
    }
    println!(
        "DIFF family=round_trip level=default out=values rel_l2=- max_rel={worst_default:.3e}"
    );
}

/// Moments of a sample; `z` bounds are ~5 standard errors, so a correct generator passes
/// for any seed with overwhelming probability, and the seeds are fixed anyway.
fn moments(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

#[test]
fn random_distributions() {
    const N: usize = 20_000;
    let sn = (N as f64).sqrt();
    for (level, dev) in levels() {
        Gsq::seed(&dev, 7);
        let a = floats(Tensor::<Gsq, 2>::random(
            [100, N / 100],
            Distribution::Default,
            &dev,
        ));
        Gsq::seed(&dev, 7);
        let a2 = floats(Tensor::<Gsq, 2>::random(
            [100, N / 100],
            Distribution::Default,
            &dev,
        ));
        assert_eq!(a, a2, "{level}: same seed, same values");
        Gsq::seed(&dev, 8);
        let a3 = floats(Tensor::<Gsq, 2>::random(
            [100, N / 100],
            Distribution::Default,
            &dev,
        ));
        assert_ne!(a, a3, "{level}: another seed, other values");
        // Default: U[0, 1) (burn's contract: 1 excluded), mean 1/2, variance 1/12.
        let ones = a.iter().filter(|&&x| x >= 1.0).count();
        assert!(a.iter().all(|&x| x >= 0.0), "{level}: Default below 0");
        assert_eq!(
            ones, 0,
            "{level}: Distribution::Default gave {ones} of {N} draws equal to 1.0 (must be in [0, 1))"
        );
        let (m, v) = moments(&a);
        assert!(
            (m - 0.5).abs() < 5.0 * (1.0f64 / 12.0).sqrt() / sn,
            "{level}: Default mean {m}"
        );
        assert!(
            (v - 1.0 / 12.0).abs() < 0.05 / 12.0 * 5.0,
            "{level}: Default variance {v}"
        );
        let distinct_vals = {
            let mut s: Vec<u32> = a.iter().map(|x| x.to_bits()).collect();
            s.sort_unstable();
            s.dedup();
            s.len()
        };
        // 16-bit mantissas: 2^15 values per octave, so ~N^2/2^17 birthday collisions in
        // [1/2, 1) alone (~15% of the draws); the exact format has 2^24 per octave.
        let want = if level == "exact" {
            N * 99 / 100
        } else {
            N * 3 / 4
        };
        assert!(
            distinct_vals > want,
            "{level}: only {distinct_vals} distinct values of {N}"
        );

        // Uniform(-3, 5): mean 1, variance 64/12.
        let u = floats(Tensor::<Gsq, 1>::random(
            [N],
            Distribution::Uniform(-3.0, 5.0),
            &dev,
        ));
        assert!(
            u.iter().all(|&x| (-3.0..5.0).contains(&x)),
            "{level}: Uniform out of [-3, 5)"
        );
        // Bounds the stream format cannot hold exactly: draws still in [low, high).
        let u2 = floats(Tensor::<Gsq, 1>::random(
            [N],
            Distribution::Uniform(0.1, 0.3),
            &dev,
        ));
        assert!(
            u2.iter().all(|&x| (0.1..0.3).contains(&(x as f64))),
            "{level}: Uniform(0.1, 0.3) out of [0.1, 0.3)"
        );
        let (m, v) = moments(&u);
        assert!(
            (m - 1.0).abs() < 5.0 * (64.0f64 / 12.0).sqrt() / sn,
            "{level}: Uniform mean {m}"
        );
        assert!(
            (v / (64.0 / 12.0) - 1.0).abs() < 0.05,
            "{level}: Uniform variance {v}"
        );
        assert!(
            u.iter().any(|&x| x < -2.9) && u.iter().any(|&x| x > 4.9),
            "{level}: Uniform does not fill its range"
        );

        // Normal(2, 0.5): mean, std, the 1-sigma mass (0.6827), tails.
        let g = floats(Tensor::<Gsq, 3>::random(
            [4, 50, N / 200],
            Distribution::Normal(2.0, 0.5),
            &dev,
        ));
        let (m, v) = moments(&g);
        assert!((m - 2.0).abs() < 5.0 * 0.5 / sn, "{level}: Normal mean {m}");
        assert!(
            (v.sqrt() / 0.5 - 1.0).abs() < 0.03,
            "{level}: Normal std {}",
            v.sqrt()
        );
        let within = g.iter().filter(|&&x| (x - 2.0).abs() < 0.5).count() as f64 / N as f64;
        assert!(
            (within - 0.6827).abs() < 0.02,
            "{level}: Normal 1-sigma mass {within}"
        );
        let skew = g
            .iter()
            .map(|&x| ((x as f64 - m) / v.sqrt()).powi(3))
            .sum::<f64>()
            / N as f64;
        assert!(skew.abs() < 0.1, "{level}: Normal skew {skew}");
        assert!(
            g.iter().all(|&x| (x - 2.0).abs() < 0.5 * 6.5),
            "{level}: Normal sample beyond 6.5 sigma"
        );

        // Bernoulli(0.3): only 0 and 1, mean 0.3.
        let b = floats(Tensor::<Gsq, 1>::random(
            [N],
            Distribution::Bernoulli(0.3),
            &dev,
        ));
        assert!(
            b.iter().all(|&x| x == 0.0 || x == 1.0),
            "{level}: Bernoulli values"
        );
        let (m, _) = moments(&b);
        assert!(
            (m - 0.3).abs() < 5.0 * (0.21f64).sqrt() / sn,
            "{level}: Bernoulli mean {m}"
        );

        // random_like keeps the shape.
        let like =
            Tensor::<Gsq, 2>::zeros([3, 41], &dev).random_like(Distribution::Normal(0.0, 1.0));
        assert_eq!(like.dims(), [3, 41]);
    }
}

// ---------------------------------------------------------------------------------------------
// Elementwise arithmetic
// ---------------------------------------------------------------------------------------------

/// `x` pushed away from zero: |x| >= 0.5 (denominators).
fn away(x: f32) -> f32 {
    if x >= 0.0 { x + 0.5 } else { x - 0.5 }
}

#[test]
fn binary_arithmetic_with_broadcasting() {
    // Ranks 1-5, broadcast along every position, sizes not divisible by 32.
    let inputs = vec![
        Input::normal(&[37], 1.0, 11),
        Input::normal(&[37], 2.0, 12).map(away),
        Input::normal(&[5, 33], 1.0, 13),
        Input::normal(&[1, 33], 1.0, 14).map(away),
        Input::normal(&[3, 1, 7], 3.0, 15),
        Input::normal(&[1, 4, 7], 1.0, 16).map(away),
        Input::normal(&[2, 3, 4, 5], 1.0, 17),
        Input::normal(&[1, 3, 1, 5], 1.0, 18).map(away),
        Input::normal(&[2, 3, 1, 5, 6], 1.0, 19),
        Input::normal(&[1, 3, 4, 1, 6], 1.0, 20).map(away),
    ];
    diff!("add/sub/mul/div", inputs, [D_ELEM, E_ARITH], |B, dev, x| {
        let mut out = Vec::new();
        let (a, b) = (ft::<B, 1>(&x[0], dev), ft::<B, 1>(&x[1], dev));
        out.push(fo("add r1", a.clone() + b.clone()));
        out.push(fo("sub r1", a.clone() - b.clone()));
        out.push(fo("mul r1", a.clone() * b.clone()));
        out.push(fo("div r1", a / b));
        let (a, b) = (ft::<B, 2>(&x[2], dev), ft::<B, 2>(&x[3], dev));
        out.push(fo("add r2", a.clone().add(b.clone())));
        out.push(fo("sub r2 (bcast lhs)", b.clone().sub(a.clone())));
        out.push(fo("mul r2", a.clone().mul(b.clone())));
        out.push(fo("div r2", a.div(b)));
        let (a, b) = (ft::<B, 3>(&x[4], dev), ft::<B, 3>(&x[5], dev));
        out.push(fo("add r3", a.clone() + b.clone()));
        out.push(fo("sub r3", a.clone() - b.clone()));
        out.push(fo("mul r3", a.clone() * b.clone()));
        out.push(fo("div r3", a / b));
        let (a, b) = (ft::<B, 4>(&x[6], dev), ft::<B, 4>(&x[7], dev));
        out.push(fo("add r4", a.clone() + b.clone()));
        out.push(fo("mul r4", a.clone() * b.clone()));
        out.push(fo("div r4", a / b));
        let (a, b) = (ft::<B, 5>(&x[8], dev), ft::<B, 5>(&x[9], dev));
        out.push(fo("add r5", a.clone() + b.clone()));
        out.push(fo("sub r5", a.clone() - b.clone()));
        out.push(fo("mul r5", a.clone() * b.clone()));
        out.push(fo("div r5", a / b));
        out
    });
}

#[test]
fn arithmetic_on_wide_tiny_and_huge_values() {
    let inputs = vec![
        Input::wide(&[8, 40], 21),                  // 1e-20 .. 1e20 mixed
        Input::normal(&[8, 40], 1.0, 22).map(away), // O(1) partner
        Input::wide(&[8, 40], 23),
        Input::log_uniform(&[64], -37.0, -30.0, 24), // tiny
        Input::log_uniform(&[64], 25.0, 36.0, 25),   // huge
        Input::log_uniform(&[64], -37.0, -30.0, 26),
    ];
    diff!(
        "wide-range arithmetic",
        inputs,
        [D_ELEM, E_ARITH],
        |B, dev, x| {
            let w = ft::<B, 2>(&x[0], dev);
            let n = ft::<B, 2>(&x[1], dev);
            let w2 = ft::<B, 2>(&x[2], dev);
            let tiny = ft::<B, 1>(&x[3], dev);
            let huge = ft::<B, 1>(&x[4], dev);
            let tiny2 = ft::<B, 1>(&x[5], dev);
            vec![
                fo("wide * n", w.clone() * n.clone()),
                fo("wide / n", w.clone() / n.clone()),
                fo("n / wide", n.clone() / w.clone()),
                fo("wide + wide", w.clone() + w2.clone()),
                fo("wide - wide", w.clone() - w2),
                fo("wide + n", w.clone() + n),
                fo("wide * 1e-3", w.clone().mul_scalar(1e-3f32)),
                fo("wide neg", w.clone().neg()),
                fo("wide abs", w.abs()),
                fo("tiny + tiny", tiny.clone() + tiny2.clone()),
                fo("tiny * huge", tiny.clone() * huge.clone()),
                fo("huge / huge", huge.clone() / huge.clone().flip([0])),
                fo("tiny / tiny", tiny.clone() / tiny2),
                fo("huge * 4", huge.clone().mul_scalar(4.0f32)),
                fo("tiny * 0.25", tiny.mul_scalar(0.25f32)),
                fo("huge - huge", huge.clone() - huge.flip([0])),
            ]
        }
    );
    // sqrt / recip / exp / log across the range.
    let inputs = vec![
        Input::log_uniform(&[200], -20.0, 20.0, 27).map(f32::abs),
        Input::log_uniform(&[64], -36.0, -30.0, 28).map(f32::abs),
        Input::log_uniform(&[64], 30.0, 36.0, 29).map(f32::abs),
    ];
    diff!(
        "wide-range math",
        inputs,
        // f64 reference at both policies: burn-ndarray's f32 `recip` is a SIMD approximation
        // (~12 bits, relative error up to ~2.5e-4), not an IEEE division.
        [D_TRANS.f64(), E_TRANS],
        |B, dev, x| {
            let w = ft::<B, 1>(&x[0], dev);
            let tiny = ft::<B, 1>(&x[1], dev);
            let huge = ft::<B, 1>(&x[2], dev);
            vec![
                fo("sqrt wide", w.clone().sqrt()),
                fo("recip wide", w.clone().recip()),
                fo("log wide", w.log()),
                fo("sqrt tiny", tiny.clone().sqrt()),
                fo("recip tiny", tiny.clone().recip()),
                fo("log tiny", tiny.log()),
                fo("sqrt huge", huge.clone().sqrt()),
                fo("recip huge", huge.clone().recip()),
                fo("log huge", huge.log()),
            ]
        }
    );
}

#[test]
fn scalar_arithmetic() {
    let inputs = vec![Input::normal(&[7, 45], 2.0, 31), Input::wide(&[100], 32)];
    diff!("scalar ops", inputs, [D_ELEM, E_ARITH], |B, dev, x| {
        let a = ft::<B, 2>(&x[0], dev);
        let w = ft::<B, 1>(&x[1], dev);
        vec![
            fo("add_scalar", a.clone().add_scalar(0.3f32)),
            fo("sub_scalar", a.clone().sub_scalar(-1.75f32)),
            fo("mul_scalar", a.clone().mul_scalar(3.1f32)),
            fo("div_scalar", a.clone().div_scalar(-0.7f32)),
            fo("+ 2", a.clone() + 2.0),
            fo("- 0.5", a.clone() - 0.5),
            fo("* -3", a.clone() * -3.0),
            fo("/ 8", a / 8.0),
            fo("wide add_scalar", w.clone().add_scalar(1.0f32)),
            fo("wide div_scalar", w.div_scalar(3.0f32)),
        ]
    });
}

#[test]
fn remainder_takes_the_sign_of_the_divisor() {
    let inputs = vec![
        Input::normal(&[6, 35], 5.0, 41),
        Input::normal(&[6, 35], 1.5, 42).map(away),
        Input::new(vec![5.5, -5.5, 5.5, -5.5, 4.0, -4.0, 0.0, 7.25], &[8]),
        Input::new(vec![2.0, 2.0, -2.0, -2.0, 2.0, 2.0, 3.0, 0.5], &[8]),
    ];
    // The reference computes `a - b * floor(a / b)`: in f64 that is the true remainder.
    diff!(
        "remainder",
        inputs,
        [D_ELEM.f64(), E_REDUCE.with_abs(1e-30)],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let b = ft::<B, 2>(&x[1], dev);
            vec![
                fo("remainder", a.clone().remainder(b.clone())),
                fo("remainder_scalar 2.5", a.clone().remainder_scalar(2.5f32)),
                fo("remainder_scalar -1.5", a.clone().remainder_scalar(-1.5f32)),
                fo("% scalar", a % 0.75),
            ]
        }
    );
    // Sign of the divisor, on exact values: [5.5 -5.5 5.5 -5.5] % [2 2 -2 -2] = [1.5 .5 -.5 -1.5].
    for (level, dev) in levels() {
        let a = Tensor::<Gsq, 1>::from_floats([5.5, -5.5, 5.5, -5.5, 4.0, -4.0, 0.0, 7.25], &dev);
        let b = Tensor::<Gsq, 1>::from_floats([2.0, 2.0, -2.0, -2.0, 2.0, 2.0, 3.0, 0.5], &dev);
        let r = floats(a.clone().remainder(b));
        assert_eq!(
            r,
            vec![1.5, 0.5, -0.5, -1.5, 0.0, 0.0, 0.0, 0.25],
            "{level}: remainder"
        );
        let r = floats(a.remainder_scalar(-2.0f32));
        assert_eq!(
            r,
            vec![-0.5, -1.5, -0.5, -1.5, 0.0, 0.0, 0.0, -0.75],
            "{level}: remainder_scalar(-2)"
        );
        // Generic property on random data: sign(r) == sign(b) (or r == 0) and |r| < |b|.
        let a = Tensor::<Gsq, 1>::from_data(TensorData::new(normal(300, 10.0, 43), [300]), &dev);
        let bv: Vec<f32> = normal(300, 2.0, 44).into_iter().map(away).collect();
        let b = Tensor::<Gsq, 1>::from_data(TensorData::new(bv.clone(), [300]), &dev);
        let bh = floats(b.clone());
        for (i, (r, d)) in floats(a.remainder(b)).iter().zip(&bh).enumerate() {
            assert!(
                *r == 0.0 || (r.signum() == d.signum() && r.abs() <= d.abs()),
                "{level}: remainder[{i}] = {r} for divisor {d}"
            );
        }
    }
}

#[test]
fn unary_ops() {
    let inputs = vec![
        Input::normal(&[9, 37], 2.0, 51),
        Input::grid(&[50], 3, 52), // exact zeros included (sign)
    ];
    diff!(
        "neg/abs/sign",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let g = ft::<B, 1>(&x[1], dev);
            vec![
                fx("neg", a.clone().neg()),
                fx("-x", -a.clone()),
                fx("abs", a.clone().abs()),
                fx("sign", a.sign()),
                fx("sign grid (zeros)", g.clone().sign()),
                fx("abs grid", g.abs()),
            ]
        }
    );
    let inputs = vec![
        Input::normal(&[9, 37], 2.0, 53).map(away),
        Input::uniform(&[9, 37], 0.0, 100.0, 54),
    ];
    // recip and sqrt are exact results rounded once. The reference is f64: burn-ndarray's f32
    // `recip` is a SIMD approximation (~12 bits, relative error up to ~2.5e-4).
    diff!(
        "recip/sqrt",
        inputs,
        [D_ELEM.f64(), Tol::ulps(1.0).f64()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let p = ft::<B, 2>(&x[1], dev);
            vec![
                fo("recip", a.clone().recip()),
                fo("sqrt", p.sqrt()),
                fo("square", a.clone().square()),
                fo("powf_scalar(-1)", a.powf_scalar(-1.0f32)),
            ]
        }
    );
    let inputs = vec![
        Input::normal(&[9, 37], 3.0, 55),
        Input::log_uniform(&[9, 37], -3.0, 3.0, 56).map(f32::abs),
        Input::uniform(&[200], -0.9, 10.0, 57),
        Input::log_uniform(&[40], -12.0, -4.0, 58),
    ];
    diff!("exp/log/log1p", inputs, [D_TRANS, E_TRANS], |B, dev, x| {
        let a = ft::<B, 2>(&x[0], dev);
        let p = ft::<B, 2>(&x[1], dev);
        let u = ft::<B, 1>(&x[2], dev);
        let tiny = ft::<B, 1>(&x[3], dev);
        vec![
            fo("exp", a.exp()),
            fo("log", p.log()),
            fo("log1p", u.log1p()),
            fo("log1p tiny", tiny.clone().log1p()),
            fo("exp tiny", tiny.exp()),
        ]
    });
}

#[test]
fn powers() {
    let inputs = vec![
        Input::uniform(&[7, 35], 0.1, 4.0, 61),
        Input::normal(&[7, 35], 2.0, 62),
        Input::grid(&[60], 3, 63).map(|v| v.round()), // integer exponents -3..3
        Input::normal(&[60], 1.5, 64)
            .map(|v| if v == 0.0 { 1.0 } else { v })
            .map(away),
    ];
    // Default: held inputs, exact result rounded once (2^-15) plus pow's evaluation (2^-15):
    // 2^-14. `powf_scalar(2)`/`powi_scalar(2)` are x*x in burn (one rounding).
    // f64 reference: powf_scalar(-1) and powi_scalar(-2) are `recip` in burn, which burn-ndarray
    // approximates in f32 (see `unary_ops`).
    diff!(
        "powf/powi",
        inputs,
        [D_TRANS.f64(), E_TRANS],
        |B, dev, x| {
            let base = ft::<B, 2>(&x[0], dev);
            let e = ft::<B, 2>(&x[1], dev);
            let ie = ft::<B, 1>(&x[2], dev);
            let nb = ft::<B, 1>(&x[3], dev);
            vec![
                fo("powf", base.clone().powf(e)),
                fo("powf_scalar(2)", base.clone().powf_scalar(2.0f32)),
                fo("powf_scalar(0.5)", base.clone().powf_scalar(0.5f32)),
                fo("powf_scalar(-1)", base.clone().powf_scalar(-1.0f32)),
                fo("powf_scalar(3.3)", base.clone().powf_scalar(3.3f32)),
                fo("powf_scalar(3)", base.clone().powf_scalar(3.0f32)),
                fo("powi_scalar(3)", nb.clone().powi_scalar(3)),
                fo("powi_scalar(-2)", nb.clone().powi_scalar(-2)),
                fo("powi_scalar(5)", nb.clone().powi_scalar(5)),
                fo(
                    "negative base ^ integer tensor",
                    nb.clone().powf(ie.clone()),
                ),
                fo("powi(tensor)", nb.powi(ie)),
            ]
        }
    );
}

#[test]
fn trigonometric_and_hyperbolic() {
    let inputs = vec![
        Input::uniform(&[6, 50], -6.0, 6.0, 71),
        Input::uniform(&[6, 50], -5.0, 5.0, 72),
        Input::uniform(&[6, 50], -0.999, 0.999, 73),
        Input::normal(&[6, 50], 5.0, 74),
        Input::normal(&[6, 50], 1.0, 75),
        Input::uniform(&[6, 50], 1.0, 50.0, 76),
        Input::normal(&[6, 50], 2.0, 77),
    ];
    diff!(
        "trig/hyperbolic/erf",
        inputs,
        [D_TRANS, E_TRANS],
        |B, dev, x| {
            let t = ft::<B, 2>(&x[0], dev);
            let h = ft::<B, 2>(&x[1], dev);
            let unit = ft::<B, 2>(&x[2], dev);
            let big = ft::<B, 2>(&x[3], dev);
            let n = ft::<B, 2>(&x[4], dev);
            let ge1 = ft::<B, 2>(&x[5], dev);
            let e = ft::<B, 2>(&x[6], dev);
            vec![
                fo("sin", t.clone().sin()),
                fo("cos", t.clone().cos()),
                fo("tan", t.tan()),
                fo("sinh", h.clone().sinh()),
                fo("cosh", h.clone().cosh()),
                fo("tanh", h.tanh()),
                fo("asin", unit.clone().asin()),
                fo("acos", unit.clone().acos()),
                fo("atanh", unit.atanh()),
                fo("atan", big.clone().atan()),
                fo("asinh", big.clone().asinh()),
                fo("atan2", big.atan2(n)),
                fo("acosh", ge1.acosh()),
                fo("erf", e.erf()),
            ]
        }
    );
}

#[test]
fn rounding_ops() {
    // Quarters (all ties of round() included) and a few larger values; all exact at 16 bits.
    let mut q: Vec<f32> = (-40..=40).map(|k| k as f32 / 4.0).collect();
    q.extend([1024.5, -1025.5, 2047.5, 16383.5, -0.0]);
    let n = q.len();
    let inputs = vec![
        Input::new(q.clone(), &[n]),
        Input::normal(&[5, 37], 20.0, 81),
    ];
    diff!(
        "round/floor/ceil/trunc",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 1>(&x[0], dev);
            let n = ft::<B, 2>(&x[1], dev);
            vec![
                fx("round", a.clone().round()),
                fx("floor", a.clone().floor()),
                fx("ceil", a.clone().ceil()),
                fx("trunc", a.trunc()),
                fx("round n", n.clone().round()),
                fx("floor n", n.clone().floor()),
                fx("ceil n", n.clone().ceil()),
                fx("trunc n", n.trunc()),
            ]
        }
    );
    // Half to even, spelled out.
    for (level, dev) in levels() {
        let t = Tensor::<Gsq, 1>::from_floats([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 1024.5], &dev);
        assert_eq!(
            floats(t.round()),
            vec![0.0, 2.0, 2.0, 0.0, -2.0, -2.0, 4.0, 1024.0],
            "{level}: half to even"
        );
    }
}

#[test]
fn clamp_ops() {
    let inputs = vec![Input::normal(&[8, 37], 1.0, 91)];
    // Bounds representable at 16 bits: clamping selects held values or the bound, exactly.
    diff!(
        "clamp",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            vec![
                fx("clamp", a.clone().clamp(-0.5f32, 0.75f32)),
                fx("clamp_min", a.clone().clamp_min(0.25f32)),
                fx("clamp_max", a.clone().clamp_max(-0.125f32)),
                fx("max_pair", a.clone().max_pair(a.clone().flip([1]))),
                fx("min_pair", a.clone().min_pair(a.flip([0]))),
            ]
        }
    );
    // Bounds that a 16-bit mantissa cannot hold: at the default policy a clamped element is the
    // bound rounded to STREAM16 (one rounding); at the exact policy it is the f32 bound.
    diff!(
        "clamp (inexact bounds)",
        inputs,
        [D_ELEM, E_ARITH],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            vec![
                fo("clamp_min 0.2", a.clone().clamp_min(0.2f32)),
                fo("clamp_max -0.1", a.clone().clamp_max(-0.1f32)),
                fo("clamp 0.1..0.3", a.clamp(0.1f32, 0.3f32)),
            ]
        }
    );
}

#[test]
fn comparisons() {
    let inputs = vec![
        Input::grid(&[6, 35], 2, 101), // many ties
        Input::grid(&[6, 35], 2, 102),
        Input::normal(&[6, 35], 1.0, 103),
        Input::normal(&[6, 35], 1.0, 104),
    ];
    diff!(
        "comparisons",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let b = ft::<B, 2>(&x[1], dev);
            let n = ft::<B, 2>(&x[2], dev);
            let m = ft::<B, 2>(&x[3], dev);
            vec![
                bo("equal", a.clone().equal(b.clone())),
                bo("not_equal", a.clone().not_equal(b.clone())),
                bo("greater", a.clone().greater(b.clone())),
                bo("greater_equal", a.clone().greater_equal(b.clone())),
                bo("lower", a.clone().lower(b.clone())),
                bo("lower_equal", a.clone().lower_equal(b.clone())),
                bo("equal_elem", a.clone().equal_elem(0.25f32)),
                bo("not_equal_elem", a.clone().not_equal_elem(-0.5f32)),
                bo("greater_elem", a.clone().greater_elem(0.25f32)),
                bo("greater_equal_elem", a.clone().greater_equal_elem(0.25f32)),
                bo("lower_elem", a.clone().lower_elem(-0.25f32)),
                bo("lower_equal_elem", a.lower_equal_elem(-0.25f32)),
                bo("normal greater", n.clone().greater(m.clone())),
                bo("normal lower_equal", n.clone().lower_equal(m)),
                bo("normal equal self", n.clone().equal(n.clone())),
                bo("normal greater_elem", n.clone().greater_elem(0.1f32)),
                bo("is_nan", n.clone().is_nan()),
                bo("is_inf", n.is_inf()),
            ]
        }
    );
}

#[test]
fn masks() {
    let inputs = vec![
        Input::normal(&[4, 5, 6], 1.0, 111),
        Input::normal(&[4, 5, 6], 1.0, 112),
    ];
    diff!(
        "mask_where/mask_fill",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 3>(&x[0], dev);
            let v = ft::<B, 3>(&x[1], dev);
            let mask = bt::<B, 3>(bools(120, 0.4, 113), [4, 5, 6], dev);
            let row_mask = bt::<B, 3>(bools(6, 0.5, 114), [1, 1, 6], dev);
            vec![
                fx("mask_where", a.clone().mask_where(mask.clone(), v.clone())),
                fx("mask_fill", a.clone().mask_fill(mask, -2.5f32)),
                fx(
                    "mask_fill broadcast mask",
                    a.clone().mask_fill(row_mask.clone(), 1e4f32),
                ),
                fx(
                    "mask_fill -1e4",
                    a.clone().mask_fill(row_mask.clone(), -1e4f32),
                ),
                fx(
                    "mask_where broadcast mask",
                    a.mask_where(row_mask.expand([4, 5, 6]), v),
                ),
            ]
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Indexing
// ---------------------------------------------------------------------------------------------

#[test]
fn gather_scatter_select() {
    let inputs = vec![
        Input::normal(&[4, 7], 1.0, 121),
        Input::normal(&[4, 5], 1.0, 122),
        Input::normal(&[6, 4], 1.0, 123),
        Input::normal(&[3, 6, 5], 1.0, 124),
        Input::normal(&[5, 4], 1.0, 125),
    ];
    diff!(
        "gather/select",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let s = ft::<B, 2>(&x[2], dev);
            let c = ft::<B, 3>(&x[3], dev);
            let idx = it::<B, 2>(ints(12, 0, 7, 126), [4, 3], dev);
            let idx0 = it::<B, 3>(ints(2 * 6 * 5, 0, 3, 127), [2, 6, 5], dev);
            let sel = it::<B, 1>(vec![5, 0, 0, 3, 2], [5], dev);
            let sel3 = it::<B, 1>(vec![4, 1, 1, 0], [4], dev);
            vec![
                fx("gather dim 1", a.gather(1, idx)),
                fx("gather dim 0 (3-D)", c.clone().gather(0, idx0)),
                fx("select dim 0", s.select(0, sel)),
                fx("select dim 2 (3-D)", c.select(2, sel3)),
            ]
        }
    );
    let inputs = vec![
        Input::normal(&[4, 7], 1.0, 128),
        Input::normal(&[4, 5], 1.0, 129),
        Input::normal(&[6, 4], 1.0, 130),
        Input::normal(&[5, 4], 1.0, 131),
    ];
    // Accumulations: exact sums rounded once (f64 reference = the true sum).
    diff!(
        "scatter/select_assign (add)",
        inputs,
        [D_ELEM.f64(), E_REDUCE],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let v = ft::<B, 2>(&x[1], dev);
            let s = ft::<B, 2>(&x[2], dev);
            let sv = ft::<B, 2>(&x[3], dev);
            let idx = it::<B, 2>(ints(20, 0, 7, 132), [4, 5], dev); // duplicates accumulate
            let sel = it::<B, 1>(vec![5, 0, 0, 3, 5], [5], dev);
            vec![
                fo("scatter add", a.scatter(1, idx, v, IndexingUpdateOp::Add)),
                fo(
                    "select_assign add",
                    s.select_assign(0, sel, sv, IndexingUpdateOp::Add),
                ),
            ]
        }
    );
}

#[test]
fn slices_with_steps_and_slice_assign() {
    let inputs = vec![
        Input::normal(&[7, 9], 1.0, 141),
        Input::normal(&[4, 6, 5], 1.0, 142),
        Input::normal(&[2, 4], 1.0, 143),
        Input::normal(&[7, 3], 1.0, 144),
    ];
    diff!(
        "slice/slice_assign",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let c = ft::<B, 3>(&x[1], dev);
            let v = ft::<B, 2>(&x[2], dev);
            let w = ft::<B, 2>(&x[3], dev);
            vec![
                fx("slice ranges", a.clone().slice([1..5, 2..9])),
                fx("slice step 2", a.clone().slice(s![1..6;2, ..])),
                fx("slice step 3 cols", a.clone().slice(s![.., ..;3])),
                fx("slice reverse", a.clone().slice(s![..;-1, 2..])),
                fx("slice step -2", a.clone().slice(s![..;-2, ..;-3])),
                fx("slice 1..6;-2", a.clone().slice(s![1..6;-2, 3])),
                fx(
                    "slice negative indices (3-D)",
                    c.clone().slice(s![-3.., .., 1..-1]),
                ),
                fx("slice_dim", c.clone().slice_dim(2, 1..4)),
                fx(
                    "slice of slice",
                    c.slice(s![.., 1..;2, ..]).slice(s![1..;2, .., ..;-1]),
                ),
                fx(
                    "slice_assign step",
                    a.clone().slice_assign(s![1..5;2, 2..6], v),
                ),
                fx(
                    "slice_assign reversed",
                    a.clone().slice_assign(s![..;-1, 0..3], w),
                ),
                fx("slice_fill", a.slice_fill(s![2..4, ..;2], -1.5f32)),
            ]
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Shapes and views
// ---------------------------------------------------------------------------------------------

#[test]
fn shape_ops() {
    let inputs = vec![
        Input::normal(&[3, 5], 1.0, 151),
        Input::normal(&[2, 5], 1.0, 152),
        Input::normal(&[3, 2], 1.0, 153),
        Input::normal(&[4, 5, 6], 1.0, 154),
        Input::normal(&[1, 5, 1], 1.0, 155),
        Input::normal(&[4, 9], 1.0, 156),
    ];
    diff!(
        "cat/stack/repeat/flip/permute/reshape/expand/narrow/chunk/split/unfold",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let b = ft::<B, 2>(&x[1], dev);
            let c = ft::<B, 2>(&x[2], dev);
            let t = ft::<B, 3>(&x[3], dev);
            let e = ft::<B, 3>(&x[4], dev);
            let u = ft::<B, 2>(&x[5], dev);
            let mut out = vec![
                fx("cat dim 0", Tensor::cat(vec![a.clone(), b.clone()], 0)),
                fx(
                    "cat dim 1",
                    Tensor::cat(vec![a.clone(), c.clone(), a.clone()], 1),
                ),
                fx(
                    "cat of views",
                    Tensor::cat(vec![a.clone().transpose(), b.clone().transpose()], 1),
                ),
                fx(
                    "stack dim 0",
                    Tensor::stack::<3>(vec![a.clone(), a.clone().neg(), a.clone()], 0),
                ),
                fx(
                    "stack dim 2",
                    Tensor::stack::<3>(vec![a.clone(), a.clone().abs()], 2),
                ),
                fx("repeat_dim", a.clone().repeat_dim(1, 3)),
                fx("repeat", a.clone().repeat(&[2, 2])),
                fx("flip", t.clone().flip([0, 2])),
                fx("flip negative axis", t.clone().flip([-1])),
                fx("permute", t.clone().permute([2, 0, 1])),
                fx("swap_dims", t.clone().swap_dims(0, 2)),
                fx("transpose", t.clone().transpose()),
                fx(
                    "reshape of permuted view",
                    t.clone().permute([2, 0, 1]).reshape([6, 20]),
                ),
                fx(
                    "reshape of flipped view",
                    t.clone().flip([1]).reshape([20, 6]),
                ),
                fx("reshape -1", t.clone().swap_dims(1, 2).reshape([4, -1])),
                fx("flatten", t.clone().permute([1, 2, 0]).flatten::<2>(0, 1)),
                fx("expand", e.clone().expand([3, 5, 4])),
                fx("expand new dims", a.clone().expand([2, 3, 5])),
                fx("narrow", t.clone().narrow(1, 2, 3)),
                fx("unfold", u.clone().unfold::<3, _>(1, 3, 2)),
                fx("unfold dim 0", u.clone().unfold::<3, _>(0, 2, 1)),
                fx(
                    "unsqueeze/squeeze",
                    a.clone().unsqueeze_dim::<3>(1).squeeze_dim::<2>(1),
                ),
                fx("movedim", t.clone().movedim(0, 2)),
                fx("roll", u.clone().roll(&[2, -1], &[0, 1])),
                fx("triu", u.clone().triu(1)),
                fx("tril", u.clone().tril(-1)),
            ];
            for (i, ch) in t.clone().chunk(3, 1).into_iter().enumerate() {
                out.push(fx(&format!("chunk {i}"), ch));
            }
            for (i, sp) in u.clone().split(3, 1).into_iter().enumerate() {
                out.push(fx(&format!("split {i}"), sp));
            }
            for (i, sp) in u.split_with_sizes(vec![1, 3], 0).into_iter().enumerate() {
                out.push(fx(&format!("split_with_sizes {i}"), sp));
            }
            out
        }
    );
}

#[test]
fn ops_on_non_contiguous_views() {
    let inputs = vec![
        Input::normal(&[4, 5, 6], 1.0, 161),
        Input::normal(&[6, 4, 5], 1.0, 162),
        Input::normal(&[9, 12], 1.0, 163),
        Input::normal(&[1, 5, 1], 1.0, 164),
        Input::normal(&[3, 5, 4], 1.0, 165),
        Input::normal(&[9, 12], 1.0, 169).map(away),
    ];
    diff!(
        "views: elementwise",
        inputs,
        [D_ELEM, E_ARITH],
        |B, dev, x| {
            let t = ft::<B, 3>(&x[0], dev);
            let y = ft::<B, 3>(&x[1], dev);
            let m = ft::<B, 2>(&x[2], dev);
            let e = ft::<B, 3>(&x[3], dev).expand([3, 5, 4]);
            let z = ft::<B, 3>(&x[4], dev);
            let p = t.clone().permute([2, 0, 1]);
            let s = m.clone().slice(s![..;2, 1..;3]);
            vec![
                fo("permuted + contiguous", p.clone() + y.clone()),
                fo("permuted * permuted", p.clone() * y.clone().flip([0, 2])),
                fo("strided slice * 3", s.clone() * 3.0),
                fo(
                    "strided slice / reversed slice",
                    s.clone() / ft::<B, 2>(&x[5], dev).slice(s![..;-2, ..;-3]),
                ),
                fo("expanded * z", e.clone() * z.clone()),
                fo("expanded + expanded", e.clone() + e.clone().flip([1])),
                fo(
                    "transposed - transposed",
                    m.clone().transpose() - m.clone().transpose().flip([1]),
                ),
            ]
        }
    );
    let inputs = vec![
        Input::normal(&[4, 5, 6], 1.0, 166),
        Input::normal(&[9, 12], 1.0, 167),
        Input::normal(&[1, 5, 1], 1.0, 168),
    ];
    diff!(
        "views: math/reductions",
        inputs,
        [D_TRANS.f64(), E_TRANS],
        |B, dev, x| {
            let t = ft::<B, 3>(&x[0], dev);
            let m = ft::<B, 2>(&x[1], dev);
            let e = ft::<B, 3>(&x[2], dev).expand([3, 5, 4]);
            let p = t.clone().permute([2, 0, 1]);
            let s = m.clone().slice(s![..;2, 1..;3]);
            vec![
                fo("exp of permuted", p.clone().exp()),
                fo("sum_dim of permuted", p.clone().sum_dim(1)),
                fo("mean_dim of strided slice", s.clone().mean_dim(0)),
                fo("sum of expanded", e.clone().sum_dim(0)),
                fo(
                    "cumsum of flipped slice",
                    m.clone().flip([1]).slice(s![.., 2..;2]).cumsum(1),
                ),
                fo(
                    "softmax of transposed",
                    activation::softmax(m.clone().transpose(), 1),
                ),
                fo("tanh of reversed", m.slice(s![..;-1, ..]).tanh()),
            ]
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Reductions, scans, sorting
// ---------------------------------------------------------------------------------------------

#[test]
fn reductions() {
    let inputs = vec![
        Input::normal(&[6, 37], 1.0, 171),
        Input::normal(&[3, 4, 35], 2.0, 172),
        Input::wide(&[4, 50], 173),
    ];
    // Exactly rounded sums against the true value (f64 reference).
    diff!("sum/mean", inputs, [D_ELEM.f64(), E_REDUCE], |B, dev, x| {
        let a = ft::<B, 2>(&x[0], dev);
        let c = ft::<B, 3>(&x[1], dev);
        let w = ft::<B, 2>(&x[2], dev);
        vec![
            fo("sum", a.clone().sum()),
            fo("sum_dim 0", a.clone().sum_dim(0)),
            fo("sum_dim 1", a.clone().sum_dim(1)),
            fo("mean", a.clone().mean()),
            fo("mean_dim 1", a.mean_dim(1)),
            fo("mean_dim 2 (3-D)", c.clone().mean_dim(2)),
            fo("sum_dim 1 (3-D)", c.sum_dim(1)),
            fo("sum wide", w.clone().sum()),
            fo("sum_dim wide", w.sum_dim(1)),
        ]
    });
    // sum_dims/mean_dims are successive sum_dim/mean_dim calls in burn: two roundings, the
    // second of inexact partial results. The first rounding errs by 2^-15 of each *partial*,
    // and the second reduction may cancel them down to a much smaller result, so the bound is
    // one rounding of the result plus one of every partial it combines: for a sum, 2^-15 of
    // the sum of the partials' magnitudes; for a mean, of the largest partial. (A bound relative
    // to the result alone, 2 * 2^-15, was mis-derived: it fails on `mean_dims [1, 2]`, whose
    // result is ~1e-3 while its partial means reach ~1.)
    let c = Input::normal(&[3, 4, 35], 2.0, 172);
    let at = |a: usize, j: usize, k: usize| c.data[(a * 4 + j) * 35 + k] as f64;
    let sum_partials = (0..4)
        .map(|j| {
            (0..35)
                .map(|k| (0..3).map(|a| at(a, j, k)).sum::<f64>().abs())
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let mean_partials = (0..3)
        .flat_map(|a| (0..35).map(move |k| (a, k)))
        .map(|(a, k)| ((0..4).map(|j| at(a, j, k)).sum::<f64>() / 4.0).abs())
        .fold(0.0, f64::max);
    // The relative L2 bound follows from the elementwise one: P15 + abs * sqrt(n) / ||w||.
    let norm = |v: Vec<f64>| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let sums = norm(
        (0..4)
            .map(|j| {
                (0..3)
                    .flat_map(|a| (0..35).map(move |k| (a, k)))
                    .map(|(a, k)| at(a, j, k))
                    .sum()
            })
            .collect(),
    );
    let means = norm(
        (0..3)
            .map(|a| {
                (0..4)
                    .flat_map(|j| (0..35).map(move |k| (j, k)))
                    .map(|(j, k)| at(a, j, k))
                    .sum::<f64>()
                    / 140.0
            })
            .collect(),
    );
    let sum_tol = Tol::rel(P15 * 1.01).with_abs(P15 * 1.01 * sum_partials);
    let sum_tol = sum_tol.with_l2(P15 * 1.01 + sum_tol.abs * 2.0 / sums * 1.01);
    let mean_tol = Tol::rel(P15 * 1.01).with_abs(P15 * 1.01 * mean_partials);
    let mean_tol = mean_tol.with_l2(P15 * 1.01 + mean_tol.abs * 3f64.sqrt() / means * 1.01);
    let inputs = vec![c.clone()];
    diff!(
        "sum_dims",
        inputs,
        [
            sum_tol.f64(),
            Tol::ulps(2.0).f64().with_scale_rel(2f64.powi(-23))
        ],
        |B, dev, x| {
            let c = ft::<B, 3>(&x[0], dev);
            vec![fo("sum_dims [0, 2]", c.sum_dims(&[0, 2]))]
        }
    );
    diff!(
        "mean_dims",
        inputs,
        [
            mean_tol.f64(),
            Tol::ulps(2.0).f64().with_scale_rel(2f64.powi(-23))
        ],
        |B, dev, x| {
            let c = ft::<B, 3>(&x[0], dev);
            vec![fo("mean_dims [1, 2]", c.mean_dims(&[1, 2]))]
        }
    );
    // Products, with negatives and exact zeros.
    let mut pz = uniform(45, 0.5, 1.5, 174);
    let signs = bools(45, 0.5, 175);
    for (v, s) in pz.iter_mut().zip(signs) {
        if s {
            *v = -*v;
        }
    }
    pz[7] = 0.0;
    pz[31] = 0.0;
    let inputs = vec![
        Input::new(pz, &[5, 9]),
        Input::uniform(&[12], -2.0, 2.0, 176),
    ];
    diff!("prod", inputs, [D_ELEM.f64(), E_REDUCE], |B, dev, x| {
        let p = ft::<B, 2>(&x[0], dev);
        let q = ft::<B, 1>(&x[1], dev);
        vec![
            fo("prod_dim 1 (zeros, negatives)", p.clone().prod_dim(1)),
            fo("prod_dim 0", p.clone().prod_dim(0)),
            fo("prod (zeros)", p.prod()),
            fo("prod", q.prod()),
        ]
    });
    // var = burn's composition (mean, sub, square, sum, div): 4-5 roundings.
    let inputs = vec![Input::normal(&[6, 37], 3.0, 177).map(|v| v + 10.0)];
    diff!(
        "var",
        inputs,
        [D_COMPOSITE.f64(), Tol::ulps(6.0).f64()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let (v, m) = a.clone().var_mean(1);
            vec![
                fo("var dim 1", a.clone().var(1)),
                fo("var dim 0", a.var_bias(0)),
                fo("var_mean var", v),
                fo("var_mean mean", m),
            ]
        }
    );
    // Max/min and their indices on distinct values (a unique answer at every policy).
    let inputs = vec![
        Input::distinct(&[6, 37], 178),
        Input::distinct(&[3, 4, 9], 179),
        Input::normal(&[6, 37], 1.0, 180),
    ];
    diff!(
        "max/min/arg",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let c = ft::<B, 3>(&x[1], dev);
            let n = ft::<B, 2>(&x[2], dev);
            let (mx, imx) = a.clone().max_dim_with_indices(1);
            let (mn, imn) = c.clone().min_dim_with_indices(1);
            vec![
                fx("max", a.clone().max()),
                fx("min", a.clone().min()),
                fx("max_dim 1", a.clone().max_dim(1)),
                fx("min_dim 0", a.clone().min_dim(0)),
                io("argmax 1", a.clone().argmax(1)),
                io("argmin 0", a.clone().argmin(0)),
                io("argmax 1 (3-D)", c.clone().argmax(1)),
                io("argmin 2 (3-D)", c.clone().argmin(2)),
                fx("max_dim_with_indices values", mx),
                io("max_dim_with_indices indices", imx),
                fx("min_dim_with_indices values", mn),
                io("min_dim_with_indices indices", imn),
                fx("max_abs", a.clone().max_abs()),
                fx("max_abs_dim", a.max_abs_dim(1)),
                fx("max normal", n.clone().max()),
                fx("min_dim normal", n.clone().min_dim(1)),
                fx("max_dim normal", n.max_dim(0)),
            ]
        }
    );
}

#[test]
fn scans() {
    let inputs = vec![
        Input::normal(&[5, 37], 1.0, 181),
        Input::uniform(&[4, 20], 0.6, 1.5, 182),
        Input::distinct(&[4, 23], 183),
    ];
    diff!(
        "cumsum/cumprod",
        inputs,
        [D_ELEM.f64(), E_REDUCE],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let p = ft::<B, 2>(&x[1], dev);
            vec![
                fo("cumsum 1", a.clone().cumsum(1)),
                fo("cumsum 0", a.cumsum(0)),
                fo("cumprod 1", p.clone().cumprod(1)),
                fo("cumprod 0", p.neg().cumprod(0)),
            ]
        }
    );
    let inputs = vec![
        Input::normal(&[5, 37], 1.0, 184),
        Input::grid(&[4, 23], 3, 185),
    ];
    diff!(
        "cummax/cummin",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let g = ft::<B, 2>(&x[1], dev);
            vec![
                fx("cummax 1", a.clone().cummax(1)),
                fx("cummin 0", a.cummin(0)),
                fx("cummax ties", g.clone().cummax(1)),
                fx("cummin ties", g.cummin(1)),
            ]
        }
    );
}

#[test]
fn sorting_and_topk() {
    let inputs = vec![
        Input::distinct(&[6, 37], 191),
        Input::distinct(&[5, 4, 7], 192),
        Input::normal(&[4, 50], 1.0, 193),
    ];
    diff!(
        "sort/argsort/topk",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let c = ft::<B, 3>(&x[1], dev);
            let n = ft::<B, 2>(&x[2], dev);
            let (sv, si) = a.clone().sort_with_indices(1);
            let (dv, di) = c.clone().sort_descending_with_indices(0);
            let (tv, ti) = a.clone().topk_with_indices(5, 1);
            vec![
                fx("sort 1", a.clone().sort(1)),
                fx("sort 0", a.clone().sort(0)),
                fx("sort_descending 1", a.clone().sort_descending(1)),
                fx("sort_with_indices values", sv),
                io("sort_with_indices indices", si),
                fx("sort_descending_with_indices values", dv),
                io("sort_descending_with_indices indices", di),
                io("argsort 1", a.clone().argsort(1)),
                io("argsort_descending 2", c.clone().argsort_descending(2)),
                fx("topk 3 dim 1", a.clone().topk(3, 1)),
                fx("topk 2 dim 0 (3-D)", c.topk(2, 0)),
                fx("topk_with_indices values", tv),
                io("topk_with_indices indices", ti),
                fx("sort normal", n.clone().sort(1)),
                fx("topk normal", n.topk(7, 1)),
            ]
        }
    );
    // argtopk (burn-ndarray does not implement it): the indices of topk_with_indices.
    for (level, dev) in levels() {
        let a = Tensor::<Gsq, 2>::from_data(TensorData::new(distinct(6 * 37, 194), [6, 37]), &dev);
        let (_, idx) = a.clone().topk_with_indices(4, 1);
        assert_eq!(
            values(&a.argtopk(4, 1).into_data()),
            values(&idx.into_data()),
            "{level}: argtopk"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Matmul, cross
// ---------------------------------------------------------------------------------------------

#[test]
fn matmul_shapes() {
    let inputs = vec![
        Input::normal(&[17, 45], 1.0, 201),
        Input::normal(&[45, 23], 1.0, 202),
        Input::normal(&[64, 96], 1.0, 203),
        Input::normal(&[96, 40], 1.0, 204),
        Input::normal(&[3, 9, 40], 1.0, 205),
        Input::normal(&[3, 40, 11], 1.0, 206),
        Input::normal(&[2, 1, 7, 33], 1.0, 207),
        Input::normal(&[1, 3, 33, 5], 1.0, 208),
        Input::normal(&[45, 17], 1.0, 209),
        Input::normal(&[23, 45], 1.0, 210),
        Input::normal(&[13, 1], 1.0, 211),
        Input::normal(&[1, 9], 1.0, 212),
        Input::uniform(&[8, 70], 0.0, 1.0, 213),
        Input::normal(&[70, 6], 0.01, 214),
    ];
    // Default: INT8 operands (<= 2^-8 of each group's max per value): 3% relative L2 against
    // the raw inputs. Exact: exact dot products rounded once: 1 ulp of the true value.
    diff!(
        "matmul",
        inputs,
        [D_MATMUL, E_REDUCE.with_scale_rel(2e-7)],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let b = ft::<B, 2>(&x[1], dev);
            let c = ft::<B, 2>(&x[2], dev);
            let d = ft::<B, 2>(&x[3], dev);
            let e = ft::<B, 3>(&x[4], dev);
            let f = ft::<B, 3>(&x[5], dev);
            let g = ft::<B, 4>(&x[6], dev);
            let h = ft::<B, 4>(&x[7], dev);
            let at = ft::<B, 2>(&x[8], dev);
            let bt_ = ft::<B, 2>(&x[9], dev);
            let k1a = ft::<B, 2>(&x[10], dev);
            let k1b = ft::<B, 2>(&x[11], dev);
            let probs = ft::<B, 2>(&x[12], dev);
            let small = ft::<B, 2>(&x[13], dev);
            vec![
                fo("2D 17x45 @ 45x23", a.clone().matmul(b.clone())),
                fo("2D 64x96 @ 96x40", c.matmul(d)),
                fo("batched 3x9x40 @ 3x40x11", e.clone().matmul(f)),
                fo("broadcast batch 2x1 @ 1x3", g.matmul(h)),
                fo("lhs transposed view", at.transpose().matmul(b.clone())),
                fo("rhs transposed view", a.clone().matmul(bt_.transpose())),
                fo(
                    "both transposed (A^T B^T)^T",
                    b.transpose().matmul(a.transpose()),
                ),
                fo("K = 1", k1a.matmul(k1b)),
                fo("uniform @ small", probs.matmul(small)),
                fo(
                    "batched transposed view",
                    e.clone()
                        .swap_dims(1, 2)
                        .swap_dims(1, 2)
                        .matmul(e.transpose()),
                ),
            ]
        }
    );
}

#[test]
fn cross_product() {
    let inputs = vec![
        Input::normal(&[4, 3], 1.0, 221),
        Input::normal(&[4, 3], 1.0, 222),
        Input::normal(&[3, 5], 1.0, 223),
        Input::normal(&[3, 5], 1.0, 224),
    ];
    // a_j b_k - a_k b_j: exact products, difference rounded once (f64 reference is exact).
    diff!("cross", inputs, [D_ELEM.f64(), E_REDUCE], |B, dev, x| {
        let a = ft::<B, 2>(&x[0], dev);
        let b = ft::<B, 2>(&x[1], dev);
        let c = ft::<B, 2>(&x[2], dev);
        let d = ft::<B, 2>(&x[3], dev);
        vec![
            fo("cross dim 1", a.cross(b, 1)),
            fo("cross dim 0", c.cross(d, 0)),
        ]
    });
}

// ---------------------------------------------------------------------------------------------
// Casts
// ---------------------------------------------------------------------------------------------

#[test]
fn casts() {
    for (level, dev) in levels() {
        let data = normal(80, 30.0, 231);
        let t = Tensor::<Gsq, 2>::from_data(TensorData::new(data, [8, 10]), &dev);
        let held = floats(t.clone());

        let h = t.clone().cast(FloatDType::F16);
        assert_eq!(h.dtype(), DType::F16, "{level}: cast to f16 reports F16");
        let hd = h.clone().into_data();
        assert_eq!(hd.dtype, DType::F16, "{level}: f16 into_data dtype");
        let want: Vec<f32> = held.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
        assert_eq!(
            hd.iter::<f32>().collect::<Vec<_>>(),
            want,
            "{level}: f16 values (round to nearest)"
        );
        let h2 = h.clone() + h.clone();
        assert_eq!(h2.dtype(), DType::F16, "{level}: f16 + f16 stays F16");
        let back = h.cast(FloatDType::F32);
        assert_eq!(back.dtype(), DType::F32);
        assert_eq!(
            floats(back),
            want,
            "{level}: f16 -> f32 keeps the f16 values"
        );

        let b = t.clone().cast(FloatDType::BF16);
        assert_eq!(b.dtype(), DType::BF16, "{level}: cast to bf16 reports BF16");
        let want: Vec<f32> = held.iter().map(|&v| bf16::from_f32(v).to_f32()).collect();
        assert_eq!(
            b.into_data().iter::<f32>().collect::<Vec<_>>(),
            want,
            "{level}: bf16 values"
        );

        let d = t.cast(FloatDType::F64);
        assert_eq!(d.dtype(), DType::F64);
        assert_eq!(
            d.into_data().iter::<f32>().collect::<Vec<_>>(),
            held,
            "{level}: f64 cast keeps the values"
        );
    }
    // float -> int truncates toward zero; int -> float is exact.
    let inputs = vec![
        Input::normal(&[6, 20], 40.0, 232),
        Input::grid(&[50], 4, 233),
    ];
    diff!(
        "int()/float()",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let g = ft::<B, 1>(&x[1], dev);
            let i = it::<B, 2>(ints(60, -100_000, 100_000, 234), [3, 20], dev);
            vec![
                io("int() normal", a.clone().int()),
                io("int() quarters", g.int()),
                fx("float()", i.clone().float()),
                io("int -> float -> int", i.float().int()),
                fx("float() of argmax", a.clone().argmax(1).float()),
                fx("int() then float()", a.int().float()),
            ]
        }
    );
    // Arithmetic on an int -> float tensor: one rounding of the result at the tensor's policy
    // (the ints reach 1e5, beyond 15 bits, so the default policy rounds the product).
    let inputs: Vec<Input> = vec![];
    diff!(
        "int -> float arithmetic",
        inputs,
        [D_ELEM, E_ARITH],
        |B, dev, x| {
            let i = it::<B, 2>(ints(60, -100_000, 100_000, 234), [3, 20], dev);
            let f = ft::<B, 2>(&Input::normal(&[3, 20], 1.0, 235), dev);
            vec![
                fo("float() * 2", i.clone().float() * 2.0),
                fo("float() + float tensor", i.float() + f),
            ]
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Activations and transformer modules
// ---------------------------------------------------------------------------------------------

#[test]
fn activations() {
    let inputs = vec![
        Input::normal(&[6, 37], 3.0, 241),
        Input::uniform(&[4, 45], -6.0, 6.0, 242),
    ];
    diff!(
        "softmax/log_softmax/softmin",
        inputs,
        [
            D_COMPOSITE.with_scale_rel(P15),
            Tol::ulps(3.0).f64().with_scale_rel(2e-7)
        ],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let u = ft::<B, 2>(&x[1], dev);
            vec![
                fo("softmax 1", activation::softmax(a.clone(), 1)),
                fo("softmax 0", activation::softmax(a.clone(), 0)),
                fo("log_softmax 1", activation::log_softmax(a.clone(), 1)),
                fo("log_softmax 0", activation::log_softmax(u.clone(), 0)),
                fo("softmin 1", activation::softmin(u.clone(), 1)),
                fo(
                    "softmax of 3-D last",
                    activation::softmax(a.reshape([2, 3, 37]), 2),
                ),
            ]
        }
    );
    // Elementwise activations. Exact: the f64 reference's own gelu loses relative accuracy
    // below x ~ -6 (1 + erf cancels), hence the small allowance relative to max |output|.
    diff!(
        "gelu/sigmoid/silu/tanh/...",
        inputs,
        [
            D_COMPOSITE.with_scale_rel(P15 / 4.0),
            Tol::ulps(3.0).f64().with_scale_rel(1e-7)
        ],
        |B, dev, x| {
            let a = ft::<B, 2>(&x[0], dev);
            let u = ft::<B, 2>(&x[1], dev);
            vec![
                fo("gelu", activation::gelu(a.clone())),
                fo("gelu uniform", activation::gelu(u.clone())),
                fo("sigmoid", activation::sigmoid(a.clone())),
                fo("silu", activation::silu(a.clone())),
                fo("tanh", activation::tanh(u.clone())),
                fo("log_sigmoid", activation::log_sigmoid(a.clone())),
                fo(
                    "hard_sigmoid",
                    activation::hard_sigmoid(u.clone(), 0.2, 0.5),
                ),
                fo("leaky_relu 0.125", activation::leaky_relu(a.clone(), 0.125)),
                fo("leaky_relu 0.1", activation::leaky_relu(u.clone(), 0.1)),
                fo("softplus", activation::softplus(u, 1.0)),
                fx("relu", activation::relu(a)),
            ]
        }
    );
}

#[test]
fn layer_norm() {
    let inputs = vec![
        Input::normal(&[3, 5, 48], 2.0, 251).map(|v| v + 1.0),
        Input::normal(&[48], 0.5, 252).map(|v| v + 1.0),
        Input::normal(&[48], 0.5, 253),
        Input::normal(&[7, 40], 0.01, 254).map(|v| v + 100.0), // large mean, small spread
    ];
    // (x - mean) / sqrt(var + eps) * gamma + beta: output elements near zero come from
    // cancellation, hence an allowance relative to the output's largest magnitude. The f32
    // reference's own mean of 100 + 0.01 N errs by ~2^-24 * 100, which shifts its normalized
    // outputs by ~6e-4: the true value (f64 reference) is the only fair one at both policies.
    diff!(
        "layer_norm",
        inputs,
        [
            D_COMPOSITE.with_scale_rel(P15).f64(),
            Tol::ulps(4.0).f64().with_scale_rel(4e-7)
        ],
        |B, dev, x| {
            let mut ln = LayerNormConfig::new(48).init::<B>(dev);
            ln.gamma = Param::from_tensor(ft::<B, 1>(&x[1], dev));
            ln.beta = Some(Param::from_tensor(ft::<B, 1>(&x[2], dev)));
            let mut plain = LayerNormConfig::new(40).with_bias(false).init::<B>(dev);
            plain.gamma = Param::from_tensor(ft::<B, 1>(&Input::new(vec![1.0; 40], &[40]), dev));
            let input = ft::<B, 3>(&x[0], dev);
            vec![
                fo("LayerNorm gamma+beta", ln.forward(input.clone())),
                fo(
                    "LayerNorm on a permuted view",
                    ln.forward(input.swap_dims(0, 1)),
                ),
                fo(
                    "LayerNorm no bias, mean 100",
                    plain.forward(ft::<B, 2>(&x[3], dev)),
                ),
            ]
        }
    );
}

#[test]
fn embedding_lookup() {
    let inputs = vec![Input::normal(&[11, 19], 1.0, 261)];
    diff!(
        "embedding",
        inputs,
        [Tol::exact(), Tol::exact()],
        |B, dev, x| {
            let w = ft::<B, 2>(&x[0], dev);
            let idx = it::<B, 2>(ints(21, 0, 11, 262), [3, 7], dev);
            vec![fx("embedding", embedding(w, idx))]
        }
    );
}

#[test]
fn attention_module_op() {
    let inputs = vec![
        Input::normal(&[2, 3, 7, 16], 1.0, 271),
        Input::normal(&[2, 3, 9, 16], 1.0, 272),
        Input::normal(&[2, 3, 9, 12], 1.0, 273),
        Input::normal(&[2, 3, 7, 9], 0.5, 274),
        Input::normal(&[2, 3, 9, 16], 1.0, 275),
    ];
    // Default: two INT8 matmuls around the softmax, against the raw inputs: 3% relative L2.
    // Exact: relative L2 1e-6 (f64 reference); the context is a sum of products, so elements
    // get 8 ulps plus 2^-21 of the largest magnitude.
    let exact = Tol::ulps(8.0).f64().with_scale_rel(5e-7);
    diff!("attention", inputs, [D_MATMUL, exact], |B, dev, x| {
        let q = ft::<B, 4>(&x[0], dev);
        let k = ft::<B, 4>(&x[1], dev);
        let v = ft::<B, 4>(&x[2], dev);
        let bias = ft::<B, 4>(&x[3], dev);
        let q9 = ft::<B, 4>(&x[4], dev);
        let mut mv = bools(2 * 3 * 7 * 9, 0.3, 276);
        // One fully masked row: every backend gives zeros.
        for j in 0..9 {
            mv[9 * 2 + j] = true;
        }
        let mask = bt::<B, 4>(mv, [2, 3, 7, 9], dev);
        let bmask = bt::<B, 4>(bools(7 * 9, 0.25, 277), [1, 1, 7, 9], dev).expand([2, 3, 7, 9]);
        let opts = AttentionModuleOptions::default();
        let causal = AttentionModuleOptions {
            is_causal: true,
            ..Default::default()
        };
        vec![
            fo(
                "no mask",
                attention(q.clone(), k.clone(), v.clone(), None, None, opts),
            ),
            fo(
                "bool mask",
                attention(q.clone(), k.clone(), v.clone(), Some(mask), None, opts),
            ),
            fo(
                "broadcast mask",
                attention(q.clone(), k.clone(), v.clone(), Some(bmask), None, opts),
            ),
            fo(
                "causal (cross, offset 2)",
                attention(q.clone(), k.clone(), v.clone(), None, None, causal),
            ),
            fo(
                "causal self",
                attention(q9.clone(), q9.clone(), q9.clone(), None, None, causal),
            ),
            fo(
                "scale + softcap + bias",
                attention(
                    q.clone(),
                    k.clone(),
                    v.clone(),
                    None,
                    Some(bias),
                    AttentionModuleOptions {
                        scale: Some(0.4),
                        softcap: Some(3.0),
                        is_causal: false,
                    },
                ),
            ),
            fo(
                "permuted inputs",
                attention(
                    q.swap_dims(1, 2).swap_dims(1, 2),
                    k.flip([2]),
                    v.flip([2]),
                    None,
                    None,
                    opts,
                ),
            ),
        ]
    });
}

#[test]
fn cross_entropy_loss() {
    let inputs = vec![
        Input::normal(&[13, 10], 2.0, 281),
        Input::normal(&[4, 6, 33], 1.5, 282),
    ];
    diff!(
        "cross-entropy",
        inputs,
        [D_COMPOSITE.f64(), Tol::ulps(4.0).f64()],
        |B, dev, x| {
            let logits = ft::<B, 2>(&x[0], dev);
            let targets = it::<B, 1>(ints(13, 0, 10, 283), [13], dev);
            let big = ft::<B, 3>(&x[1], dev).reshape([24, 33]);
            let big_targets = it::<B, 1>(ints(24, 0, 33, 284), [24], dev);
            let ce = CrossEntropyLossConfig::new().init::<B>(dev);
            vec![
                fo("cross_entropy", ce.forward(logits, targets)),
                fo("cross_entropy 33 classes", ce.forward(big, big_targets)),
            ]
        }
    );
    // Label smoothing builds a one-hot float tensor from the int targets. burn-nn creates it
    // with `Tensor::zeros(shape, device)`, in the backend's *default* float dtype, which is F32
    // on NdArray<f64> too (burn keys default dtypes by device type), so NdArray<f64> cannot run
    // it and an f32 reference would add its own rounding to the bound. The reference is
    // computed here in f64 from the values the Gsq logits hold, with burn-nn's formula and its
    // f32 constants `1 - alpha` and `alpha / classes`.
    let targets = ints(13, 0, 10, 283);
    for (level, dev) in levels() {
        let x = &held(&inputs[..1], &dev)[0];
        let (on, off) = ((1.0f32 - 0.1f32) as f64, (0.1f32 / 10.0f32) as f64);
        let mut total = 0.0;
        for (i, &t) in targets.iter().enumerate() {
            let row: Vec<f64> = x.data[i * 10..(i + 1) * 10]
                .iter()
                .map(|&v| v as f64)
                .collect();
            let m = row.iter().copied().fold(f64::MIN, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            for (j, v) in row.iter().enumerate() {
                let w = if j as i64 == t { on + off } else { off };
                total += (v - lse) * w;
            }
        }
        let want = -total / targets.len() as f64;
        let logits = ft::<Gsq, 2>(&inputs[0], &dev);
        let t = it::<Gsq, 1>(targets.clone(), [13], &dev);
        let smooth = CrossEntropyLossConfig::new()
            .with_smoothing(Some(0.1))
            .init::<Gsq>(&dev);
        let got = fo("cross_entropy smoothing", smooth.forward(logits, t));
        let reference = Out {
            vals: vec![want],
            ..got.clone()
        };
        let tol = if level == "exact" {
            Tol::ulps(4.0)
        } else {
            D_COMPOSITE
        };
        if let Some(f) = compare("cross-entropy smoothing", level, &got, &reference, &tol) {
            panic!("{f}");
        }
    }
}

/// The inputs a transformer block sees, end to end at the default policy against raw f32:
/// embedding -> layer norm -> attention -> gelu MLP, the 3% bar.
#[test]
fn transformer_block_end_to_end() {
    let inputs = vec![
        Input::normal(&[50, 32], 1.0, 291),
        Input::normal(&[32, 96], 0.18, 292),
        Input::normal(&[32, 64], 0.18, 293),
        Input::normal(&[64, 32], 0.12, 294),
        Input::normal(&[32], 0.1, 295).map(|v| v + 1.0),
    ];
    diff!(
        "transformer block",
        inputs,
        [D_MATMUL, Tol::ulps(16.0).f64().with_scale_rel(1e-6)],
        |B, dev, x| {
            let emb = ft::<B, 2>(&x[0], dev);
            let wqkv = ft::<B, 2>(&x[1], dev);
            let w1 = ft::<B, 2>(&x[2], dev);
            let w2 = ft::<B, 2>(&x[3], dev);
            let mut ln = LayerNormConfig::new(32).init::<B>(dev);
            ln.gamma = Param::from_tensor(ft::<B, 1>(&x[4], dev));
            ln.beta = Some(Param::from_tensor(ft::<B, 1>(
                &Input::new(vec![0.0; 32], &[32]),
                dev,
            )));
            let tokens = it::<B, 2>(ints(2 * 12, 0, 50, 296), [2, 12], dev);
            let h = embedding(emb, tokens); // [2, 12, 32]
            let n = ln.forward(h.clone());
            let qkv = n.matmul(wqkv.unsqueeze::<3>()); // [2, 12, 96]
            let split = |i: usize| {
                qkv.clone()
                    .narrow(2, 32 * i, 32)
                    .reshape([2, 12, 4, 8])
                    .swap_dims(1, 2)
            };
            let ctx = attention(
                split(0),
                split(1),
                split(2),
                None,
                None,
                AttentionModuleOptions {
                    is_causal: true,
                    ..Default::default()
                },
            );
            let h = h + ctx.swap_dims(1, 2).reshape([2, 12, 32]);
            let mlp = activation::gelu(ln.forward(h.clone()).matmul(w1.unsqueeze::<3>()))
                .matmul(w2.unsqueeze::<3>());
            let out = h + mlp;
            vec![
                fo("block output", out.clone()),
                fo("mean logit", out.mean_dim(2)),
            ]
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Device/policy plumbing seen through the public API
// ---------------------------------------------------------------------------------------------

#[test]
fn devices_and_dtypes() {
    let d = GsqDevice::default();
    let e = GsqDevice::exact();
    assert_ne!(d, e);
    let t = Tensor::<Gsq, 2>::from_data(TensorData::new(normal(6, 1.0, 301), [2, 3]), &e);
    assert_eq!(t.device(), e, "tensors remember their device");
    assert_eq!(
        (t.clone() * 2.0).device(),
        e,
        "op results stay on the input's device"
    );
    let moved = t.to_device(&d);
    assert_eq!(moved.device(), d);
    assert_eq!(Tensor::<Gsq, 1>::zeros([3], &d).dtype(), DType::F32);
}
