//! Softmax, log-softmax, layer/RMS norm and GELU against f64 references.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::{GseFormat, Rounding};
use gse_kernels as k;

const NE: Rounding = Rounding::NearestEven;

/// Inputs for the fused kernels: the shared kinds plus logits-like extremes.
fn fused_values(rng: &mut Rng, kind: &str, n: usize) -> Vec<f32> {
    match kind {
        // Large logits: differences of hundreds, so most exponentials underflow.
        "logits" => rng.values("normal", n).iter().map(|v| v * 60.0).collect(),
        // An attention mask: -1e4 on a third of the entries.
        "masked" => (0..n)
            .map(|i| {
                if i % 3 == 1 {
                    -1.0e4
                } else {
                    rng.normal() as f32
                }
            })
            .collect(),
        // A large common offset: the statistics must not cancel.
        "offset" => rng.values("normal", n).iter().map(|v| v + 1000.0).collect(),
        // Beyond the softmax fast path (|x| >= 2^21).
        "huge" => rng.values("normal", n).iter().map(|v| v * 3.0e7).collect(),
        other => rng.values(other, n),
    }
}

const FUSED_KINDS: [&str; 9] = [
    "normal", "uniform", "wide", "ties", "mixed", "logits", "masked", "offset", "huge",
];

fn softmax_ref(line: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let m = line.iter().copied().fold(f64::MIN, f64::max);
    let s: f64 = line.iter().map(|v| (v - m).exp()).sum();
    let soft = line.iter().map(|v| (v - m).exp() / s).collect();
    let log = line.iter().map(|v| (v - m) - s.ln()).collect();
    (soft, log)
}

#[test]
fn softmax_is_within_half_an_ulp_plus_2_pow_minus_40() {
    let mut rng = Rng::new(21);
    for shape in SHAPES {
        for kind in FUSED_KINDS {
            let n: usize = shape.iter().product();
            let values = fused_values(&mut rng, kind, n);
            for (view, x) in views(&values, shape, GseFormat::EXACT) {
                let logical = f64s(&x);
                for dim in 0..shape.len() {
                    let lines = lines_of(&logical, shape, dim);
                    let refs: Vec<(Vec<f64>, Vec<f64>)> =
                        lines.iter().map(|l| softmax_ref(l)).collect();
                    let soft: Vec<Vec<f64>> = refs.iter().map(|r| r.0.clone()).collect();
                    let log: Vec<Vec<f64>> = refs.iter().map(|r| r.1.clone()).collect();
                    let (soft, log) = (from_lines(&soft, shape, dim), from_lines(&log, shape, dim));
                    let what = format!("{kind} {shape:?} {view} dim {dim}");
                    let y = k::softmax(&x, dim, GseFormat::EXACT, NE);
                    assert_close(
                        &format!("softmax {what}"),
                        &y,
                        &soft,
                        0.5,
                        2f64.powi(-40),
                        0.0,
                    );
                    let y = k::softmax(&x, dim, GseFormat::STREAM16, NE);
                    assert_close(
                        &format!("softmax16 {what}"),
                        &y,
                        &soft,
                        0.5,
                        2f64.powi(-40),
                        0.0,
                    );
                    let y = k::log_softmax(&x, dim, GseFormat::EXACT, NE);
                    // The f64 reference loses ~2^-52 of the larger of (x - m) and ln s.
                    let mags: Vec<f64> = lines_of(&logical, shape, dim)
                        .iter()
                        .map(|l| {
                            let m = l.iter().copied().fold(f64::MIN, f64::max);
                            l.iter().map(|v| (v - m).abs()).fold(1.0, f64::max)
                        })
                        .collect();
                    let abs = mags.iter().copied().fold(0.0, f64::max) * 2f64.powi(-50);
                    assert_close(
                        &format!("log_softmax {what}"),
                        &y,
                        &log,
                        0.5,
                        2f64.powi(-38),
                        abs,
                    );
                }
            }
        }
    }
}

#[test]
fn softmax_rows_sum_to_one_on_long_rows_and_ignore_thread_count() {
    let mut rng = Rng::new(22);
    let (rows, n) = (4, 49_152);
    let values = fused_values(&mut rng, "logits", rows * n);
    let x = tensor(&values, &[rows, n], GseFormat::STREAM16);
    let y = k::softmax(&x, 1, GseFormat::EXACT, NE);
    for row in f64s(&y).chunks(n) {
        let s: f64 = row.iter().sum();
        assert!((s - 1.0).abs() < 1e-6, "row sum {s}");
    }
    assert_thread_independent("softmax", || k::softmax(&x, 1, GseFormat::STREAM16, NE));
    assert_thread_independent("log_softmax", || {
        k::log_softmax(&x, 0, GseFormat::STREAM16, NE)
    });
}

fn layer_norm_ref(
    line: &[f64],
    gamma: &[f64],
    beta: Option<&[f64]>,
    eps: f64,
    rms: bool,
) -> Vec<f64> {
    let n = line.len() as f64;
    let (mean, denom) = if rms {
        (
            0.0,
            (line.iter().map(|v| v * v).sum::<f64>() / n + eps).sqrt(),
        )
    } else {
        let m = line.iter().sum::<f64>() / n;
        let var = line.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
        (m, (var + eps).sqrt())
    };
    line.iter()
        .enumerate()
        .map(|(k, v)| (v - mean) / denom * gamma[k] + beta.map_or(0.0, |b| b[k]))
        .collect()
}

#[test]
fn layer_and_rms_norm_match_f64() {
    let mut rng = Rng::new(23);
    let eps32 = 1e-5f32;
    let eps = eps32 as f64;
    for shape in SHAPES {
        for kind in FUSED_KINDS {
            let n: usize = shape.iter().product();
            let d = *shape.last().unwrap();
            let values = fused_values(&mut rng, kind, n);
            let gamma_v = rng.values("normal", d);
            let beta_v = rng.values("normal", d);
            let gamma = tensor(&gamma_v, &[d], GseFormat::EXACT);
            let beta = tensor(&beta_v, &[d], GseFormat::EXACT);
            let (g, b) = (f64s(&gamma), f64s(&beta));
            for (view, x) in views(&values, shape, GseFormat::EXACT) {
                let logical = f64s(&x);
                let dim = shape.len() - 1;
                let lines = lines_of(&logical, shape, dim);
                let what = format!("{kind} {shape:?} {view}");
                let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                let abs = 2f64.powi(-30) * (gmax + 1.0);
                let want: Vec<Vec<f64>> = lines
                    .iter()
                    .map(|l| layer_norm_ref(l, &g, Some(&b), eps, false))
                    .collect();
                let y = k::layer_norm(&x, &gamma, Some(&beta), dy(eps), GseFormat::EXACT, NE);
                assert_close(
                    &format!("layer_norm {what}"),
                    &y,
                    &from_lines(&want, shape, dim),
                    0.5,
                    2f64.powi(-40),
                    abs,
                );
                let want: Vec<Vec<f64>> = lines
                    .iter()
                    .map(|l| layer_norm_ref(l, &g, None, eps, false))
                    .collect();
                let y = k::layer_norm(&x, &gamma, None, dy(eps), GseFormat::STREAM16, NE);
                assert_close(
                    &format!("layer_norm16 {what}"),
                    &y,
                    &from_lines(&want, shape, dim),
                    0.5,
                    2f64.powi(-40),
                    abs,
                );
                let want: Vec<Vec<f64>> = lines
                    .iter()
                    .map(|l| layer_norm_ref(l, &g, None, eps, true))
                    .collect();
                let y = k::rms_norm(&x, &gamma, dy(eps), GseFormat::EXACT, NE);
                assert_close(
                    &format!("rms_norm {what}"),
                    &y,
                    &from_lines(&want, shape, dim),
                    0.5,
                    2f64.powi(-40),
                    abs,
                );
            }
        }
    }
}

#[test]
fn norms_of_constant_rows_and_threads() {
    // A constant row has zero variance: the output is beta exactly (eps > 0).
    let x = tensor(&[3.5; 8], &[2, 4], GseFormat::EXACT);
    let gamma = tensor(&[2.0; 4], &[4], GseFormat::EXACT);
    let beta = tensor(&[0.25, -1.0, 0.0, 7.0], &[4], GseFormat::EXACT);
    let y = k::layer_norm(&x, &gamma, Some(&beta), dy(1e-5), GseFormat::EXACT, NE);
    assert_eq!(y.to_f32(), [0.25, -1.0, 0.0, 7.0, 0.25, -1.0, 0.0, 7.0]);
    // Zero rows with eps = 0 are 0/0: zeros, counted as NaN.
    let z = tensor(&[0.0; 4], &[1, 4], GseFormat::EXACT);
    let before = gse::special::totals().nan;
    let y = k::rms_norm(&z, &gamma, dy(0.0), GseFormat::EXACT, NE);
    assert_eq!(y.to_f32(), [0.0; 4]);
    assert!(gse::special::totals().nan >= before + 4);

    let mut rng = Rng::new(24);
    let x = tensor(
        &rng.values("normal", 64 * 768),
        &[64, 768],
        GseFormat::STREAM16,
    );
    let gamma = tensor(&rng.values("normal", 768), &[768], GseFormat::STREAM16);
    assert_thread_independent("layer_norm", || {
        k::layer_norm(&x, &gamma, None, dy(1e-5), GseFormat::STREAM16, NE)
    });
    assert_thread_independent("rms_norm", || {
        k::rms_norm(&x, &gamma, dy(1e-6), GseFormat::INT8, NE)
    });
}

#[test]
#[should_panic(expected = "layer_norm: parameter of shape [3] does not match the last dim (4)")]
fn norm_parameters_are_checked() {
    let x = tensor(&[1.0; 8], &[2, 4], GseFormat::EXACT);
    let gamma = tensor(&[1.0; 3], &[3], GseFormat::EXACT);
    k::layer_norm(&x, &gamma, None, dy(1e-5), GseFormat::EXACT, NE);
}

fn gelu_ref(x: f64) -> f64 {
    0.5 * x * libm::erfc(-x / std::f64::consts::SQRT_2)
}

fn gelu_grad_ref(x: f64) -> f64 {
    let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) + x * pdf
}

#[test]
fn gelu_and_its_backward_match_f64() {
    let mut rng = Rng::new(25);
    for kind in ["normal", "uniform", "mixed", "logits"] {
        let values: Vec<f32> = fused_values(&mut rng, kind, 3 * 41)
            .iter()
            .map(|v| v.clamp(-30.0, 30.0))
            .collect();
        let grads = rng.values("normal", 3 * 41);
        for (view, x) in views(&values, &[3, 41], GseFormat::EXACT) {
            let g = tensor(&grads, &[3, 41], GseFormat::EXACT);
            let xs = f64s(&x);
            let want: Vec<f64> = xs.iter().map(|&v| gelu_ref(v)).collect();
            let y = k::gelu(&x, GseFormat::EXACT, NE);
            assert_close(
                &format!("gelu {kind} {view}"),
                &y,
                &want,
                0.5,
                2f64.powi(-44),
                0.0,
            );
            let want: Vec<f64> = xs
                .iter()
                .zip(f64s(&g))
                .map(|(&v, g)| g * gelu_grad_ref(v))
                .collect();
            let y = k::gelu_backward(&x, &g, GseFormat::STREAM16, NE);
            assert_close(
                &format!("gelu_backward {kind} {view}"),
                &y,
                &want,
                0.5,
                2f64.powi(-44),
                2f64.powi(-50),
            );
        }
    }
}
