//! Differential tests of burn's `ModuleOps` on `Gsq`: convolutions (2-D/3-D, transposed,
//! deformable), pooling, interpolation, unfold and the real FFT, forward and backward (through
//! `Autodiff`), at the default policy and at the exact policy, against burn-ndarray (f32, or f64
//! where the f32 reference's own rounding would dominate) and burn-flex where ndarray lacks the op.
//!
//! Tolerances:
//! * convolutions at the default policy: the GEMM quantizes both operands to INT8/g32, so the
//!   bar is the 3% relative L2 against the raw inputs (measured: below 1%);
//! * everything else at the default policy is exact arithmetic on the values the inputs hold,
//!   rounded once to STREAM16: 2^-15 relative per element (against an f64 reference);
//! * at the exact policy, results are the exact value (62-bit intermediates) rounded once to
//!   f32: within 1 ulp of an f64 reference; pure data movement (max pooling, unfold, nearest
//!   interpolation, indices) must match bit for bit.
//!
//! `cargo test --release --test module_ops -- --nocapture` prints the `DIFF` error table.

#![allow(clippy::type_complexity)] // test tables of (name, closure) pairs

#[macro_use]
mod common;

use burn::backend::{Autodiff, Flex};
use burn::tensor::module::{
    adaptive_avg_pool2d, avg_pool2d, conv_transpose2d, conv_transpose3d, conv2d, conv3d,
    deform_conv2d, interpolate, max_pool2d, max_pool2d_with_indices, unfold4d,
};
use burn::tensor::ops::{
    ConvOptions, ConvTransposeOptions, DeformConvOptions, InterpolateMode, InterpolateOptions,
    UnfoldOptions,
};
use burn::tensor::signal::{irfft, rfft};
use burn::tensor::{Tensor, TensorData, TensorPrimitive};
use burn_gsq::{Gsq, GsqDevice};
use common::*;

// ---------------------------------------------------------------------------------------------
// Tolerances
// ---------------------------------------------------------------------------------------------

/// Default policy, convolutions: INT8 operands, against the raw inputs.
const D_CONV: Tol = Tol::l2_only(0.03).raw();
/// Default policy, exact arithmetic rounded once to STREAM16 (2^-15 relative), against the true
/// value; the tiny absolute slack covers the f64 reference's own rounding under cancellation.
const D_LIN: Tol = Tol::rel(STREAM * 1.01).with_scale_rel(1e-12).f64();
/// Exact policy: the exact value rounded once to f32.
const E_LIN: Tol = Tol::ulps(1.0).with_scale_rel(1e-12).f64();
/// Data movement: bit for bit.
const EXACT: Tol = Tol::exact();

type Ad<B> = Autodiff<B>;

/// `sum(out * g)` with a fixed pseudo-random `g`, so gradients are not all alike. `g` holds
/// multiples of 1/64 in [-2, 2], which every policy stores exactly, so the output gradient the
/// backward pass starts from is the same on every backend.
fn weighted_sum<B: burn::tensor::backend::AutodiffBackend, const D: usize>(
    out: Tensor<B, D>,
    seed: u64,
) -> Tensor<B, 1> {
    let dims = out.dims();
    let n: usize = dims.iter().product();
    let g: Vec<f32> = grid(n, 32, seed).into_iter().map(|v| v / 16.0).collect();
    let g = Tensor::<B, D>::from_data(
        TensorData::new(g, dims.to_vec()),
        (&out.device(), float_dtype::<B>()),
    );
    (out * g).sum()
}

// ---------------------------------------------------------------------------------------------
// Convolutions
// ---------------------------------------------------------------------------------------------

#[test]
fn conv2d_forward() {
    // (x, weight, stride, padding, dilation, groups)
    let cases: [(
        [usize; 4],
        [usize; 4],
        [usize; 2],
        [usize; 2],
        [usize; 2],
        usize,
    ); 5] = [
        ([2, 3, 7, 6], [4, 3, 3, 3], [1, 1], [0, 0], [1, 1], 1),
        ([2, 4, 9, 8], [6, 2, 3, 2], [2, 1], [1, 2], [1, 2], 2),
        ([1, 6, 11, 10], [6, 1, 3, 3], [2, 3], [1, 1], [2, 1], 6),
        ([2, 48, 6, 5], [8, 48, 2, 2], [1, 1], [1, 0], [1, 1], 1),
        ([1, 8, 5, 13], [4, 4, 1, 5], [1, 4], [0, 2], [1, 3], 2),
    ];
    for (i, (xs, ws, stride, padding, dilation, groups)) in cases.into_iter().enumerate() {
        let inputs = vec![
            Input::normal(&xs, 1.0, 100 + i as u64),
            Input::normal(&ws, 0.5, 200 + i as u64),
            Input::normal(&[ws[0]], 0.5, 300 + i as u64),
        ];
        let opts = [stride, padding, dilation].concat();
        let inputs = [
            inputs,
            vec![Input::new(
                opts.iter()
                    .map(|&v| v as f32)
                    .chain([groups as f32])
                    .collect(),
                &[7],
            )],
        ]
        .concat();
        diff!("conv2d", inputs, [D_CONV, E_LIN], |B, dev, x| {
            let o: Vec<usize> = x[3].data.iter().map(|&v| v as usize).collect();
            let opt = ConvOptions::new([o[0], o[1]], [o[2], o[3]], [o[4], o[5]], o[6]);
            vec![
                fo(
                    "bias",
                    conv2d(
                        ft::<B, 4>(&x[0], dev),
                        ft(&x[1], dev),
                        Some(ft(&x[2], dev)),
                        opt.clone(),
                    ),
                ),
                fo(
                    "no bias",
                    conv2d(ft::<B, 4>(&x[0], dev), ft(&x[1], dev), None, opt),
                ),
            ]
        });
    }
}

#[test]
fn conv2d_backward() {
    for (i, groups) in [1usize, 2].into_iter().enumerate() {
        let inputs = vec![
            Input::normal(&[2, 4, 7, 6], 1.0, 110 + i as u64),
            Input::normal(&[6, 4 / groups, 3, 2], 0.5, 210 + i as u64),
            Input::normal(&[6], 0.5, 310 + i as u64),
            Input::new(vec![groups as f32], &[1]),
        ];
        diff!("conv2d backward", inputs, [D_CONV, E_LIN], |B, dev, x| {
            let g = x[3].data[0] as usize;
            let (xt, w, b) = (
                ft::<Ad<B>, 4>(&x[0], dev).require_grad(),
                ft::<Ad<B>, 4>(&x[1], dev).require_grad(),
                ft::<Ad<B>, 1>(&x[2], dev).require_grad(),
            );
            let out = conv2d(
                xt.clone(),
                w.clone(),
                Some(b.clone()),
                ConvOptions::new([2, 1], [1, 1], [1, 2], g),
            );
            let grads = weighted_sum(out, 7).backward();
            vec![
                fo("x grad", xt.grad(&grads).unwrap()),
                fo("weight grad", w.grad(&grads).unwrap()),
                fo("bias grad", b.grad(&grads).unwrap()),
            ]
        });
    }
}

#[test]
fn conv3d_forward_and_backward() {
    let inputs = vec![
        Input::normal(&[2, 4, 4, 5, 6], 1.0, 120),
        Input::normal(&[6, 2, 2, 3, 2], 0.5, 220),
        Input::normal(&[6], 0.5, 320),
    ];
    diff!("conv3d", inputs, [D_CONV, E_LIN], |B, dev, x| {
        let opt = ConvOptions::new([1, 2, 1], [1, 0, 1], [1, 1, 2], 2);
        let (xt, w, b) = (
            ft::<Ad<B>, 5>(&x[0], dev).require_grad(),
            ft::<Ad<B>, 5>(&x[1], dev).require_grad(),
            ft::<Ad<B>, 1>(&x[2], dev).require_grad(),
        );
        let out = conv3d(xt.clone(), w.clone(), Some(b.clone()), opt);
        let grads = weighted_sum(out.clone(), 8).backward();
        vec![
            fo("out", out.inner()),
            fo("x grad", xt.grad(&grads).unwrap()),
            fo("weight grad", w.grad(&grads).unwrap()),
            fo("bias grad", b.grad(&grads).unwrap()),
        ]
    });
}

#[test]
fn conv_transpose2d_forward_and_backward() {
    // (x, weight [C_in, C_out/g, kh, kw], stride, padding, padding_out, dilation, groups)
    let cases: [([usize; 4], [usize; 4], [usize; 8], usize); 3] = [
        ([2, 4, 5, 4], [4, 3, 3, 3], [1, 1, 0, 0, 0, 0, 1, 1], 1),
        ([2, 4, 5, 4], [4, 3, 3, 2], [2, 3, 1, 0, 1, 2, 1, 2], 2),
        ([1, 6, 3, 3], [6, 1, 4, 4], [2, 2, 1, 1, 0, 1, 2, 1], 3),
    ];
    for (i, (xs, ws, o, groups)) in cases.into_iter().enumerate() {
        let inputs = vec![
            Input::normal(&xs, 1.0, 130 + i as u64),
            Input::normal(&ws, 0.5, 230 + i as u64),
            Input::normal(&[ws[1] * groups], 0.5, 330 + i as u64),
            Input::new(
                o.iter().map(|&v| v as f32).chain([groups as f32]).collect(),
                &[9],
            ),
        ];
        diff!("conv_transpose2d", inputs, [D_CONV, E_LIN], |B, dev, x| {
            let o: Vec<usize> = x[3].data.iter().map(|&v| v as usize).collect();
            let opt = ConvTransposeOptions::new(
                [o[0], o[1]],
                [o[2], o[3]],
                [o[4], o[5]],
                [o[6], o[7]],
                o[8],
            );
            let (xt, w, b) = (
                ft::<Ad<B>, 4>(&x[0], dev).require_grad(),
                ft::<Ad<B>, 4>(&x[1], dev).require_grad(),
                ft::<Ad<B>, 1>(&x[2], dev).require_grad(),
            );
            let out = conv_transpose2d(xt.clone(), w.clone(), Some(b.clone()), opt);
            let grads = weighted_sum(out.clone(), 9).backward();
            vec![
                fo("out", out.inner()),
                fo("x grad", xt.grad(&grads).unwrap()),
                fo("weight grad", w.grad(&grads).unwrap()),
                fo("bias grad", b.grad(&grads).unwrap()),
            ]
        });
    }
}

#[test]
fn conv_transpose3d_forward() {
    let inputs = vec![
        Input::normal(&[1, 4, 3, 4, 3], 1.0, 140),
        Input::normal(&[4, 2, 2, 3, 2], 0.5, 240),
    ];
    diff!("conv_transpose3d", inputs, [D_CONV, E_LIN], |B, dev, x| {
        let opt = ConvTransposeOptions::new([2, 1, 2], [0, 1, 1], [1, 0, 0], [1, 2, 1], 2);
        vec![fo(
            "out",
            conv_transpose3d(ft::<B, 5>(&x[0], dev), ft(&x[1], dev), None, opt),
        )]
    });
}

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

#[test]
fn avg_pool2d_forward_and_backward() {
    // (kernel, stride, padding, count_include_pad, ceil_mode) on a 7 x 9 input.
    let cases = [
        ([3, 3], [2, 2], [1, 1], true, false),
        ([3, 2], [2, 3], [1, 0], false, false),
        ([2, 2], [2, 2], [0, 0], true, true),
        ([3, 3], [2, 2], [1, 1], false, true),
        ([4, 3], [3, 2], [2, 1], true, true),
    ];
    for (i, (k, s, p, cip, ceil)) in cases.into_iter().enumerate() {
        let opts = [
            k[0],
            k[1],
            s[0],
            s[1],
            p[0],
            p[1],
            cip as usize,
            ceil as usize,
        ];
        let inputs = vec![
            Input::normal(&[2, 3, 7, 9], 1.0, 150 + i as u64),
            Input::new(opts.iter().map(|&v| v as f32).collect(), &[8]),
        ];
        diff!("avg_pool2d", inputs, [D_LIN, E_LIN], |B, dev, x| {
            let o: Vec<usize> = x[1].data.iter().map(|&v| v as usize).collect();
            let xt = ft::<Ad<B>, 4>(&x[0], dev).require_grad();
            let out = avg_pool2d(
                xt.clone(),
                [o[0], o[1]],
                [o[2], o[3]],
                [o[4], o[5]],
                o[6] == 1,
                o[7] == 1,
            );
            let grads = weighted_sum(out.clone(), 10).backward();
            vec![
                fo("out", out.inner()),
                fo("x grad", xt.grad(&grads).unwrap()),
            ]
        });
    }
}

#[test]
fn adaptive_avg_pool2d_forward_and_backward() {
    for (i, out) in [[3usize, 4], [7, 9], [4, 5], [1, 1], [5, 2]]
        .into_iter()
        .enumerate()
    {
        let inputs = vec![
            Input::normal(&[2, 3, 7, 9], 1.0, 160 + i as u64),
            Input::new(vec![out[0] as f32, out[1] as f32], &[2]),
        ];
        diff!(
            "adaptive_avg_pool2d",
            inputs,
            [D_LIN, E_LIN],
            |B, dev, x| {
                let size = [x[1].data[0] as usize, x[1].data[1] as usize];
                let xt = ft::<Ad<B>, 4>(&x[0], dev).require_grad();
                let out = adaptive_avg_pool2d(xt.clone(), size);
                let grads = weighted_sum(out.clone(), 11).backward();
                vec![
                    fo("out", out.inner()),
                    fo("x grad", xt.grad(&grads).unwrap()),
                ]
            }
        );
    }
}

#[test]
fn max_pool2d_forward_and_backward() {
    // (kernel, stride, padding, dilation, ceil_mode) on a 7 x 9 input (no window lies wholly
    // in the padding, where burn's backends give -inf, which GSE saturates).
    let cases = [
        ([3, 3], [2, 2], [1, 1], [1, 1], false),
        ([2, 3], [1, 2], [0, 1], [2, 1], true),
        ([3, 2], [2, 2], [1, 1], [1, 2], true),
    ];
    for (i, (k, s, p, d, ceil)) in cases.into_iter().enumerate() {
        let opts = [
            k[0],
            k[1],
            s[0],
            s[1],
            p[0],
            p[1],
            d[0],
            d[1],
            ceil as usize,
        ];
        let inputs = vec![
            Input::distinct(&[2, 3, 7, 9], 170 + i as u64),
            Input::new(opts.iter().map(|&v| v as f32).collect(), &[9]),
        ];
        diff!("max_pool2d", inputs, [EXACT, EXACT], |B, dev, x| {
            let o: Vec<usize> = x[1].data.iter().map(|&v| v as usize).collect();
            let (k, s, p, d, ceil) = (
                [o[0], o[1]],
                [o[2], o[3]],
                [o[4], o[5]],
                [o[6], o[7]],
                o[8] == 1,
            );
            let plain = max_pool2d(ft::<B, 4>(&x[0], dev), k, s, p, d, ceil);
            let (vals, idx) = max_pool2d_with_indices(ft::<B, 4>(&x[0], dev), k, s, p, d, ceil);
            let xt = ft::<Ad<B>, 4>(&x[0], dev).require_grad();
            let (out, _) = max_pool2d_with_indices(xt.clone(), k, s, p, d, ceil);
            // Gradients are sums of distinct grid values k/8 at most a few deep: exact.
            let g = Tensor::<Ad<B>, 4>::from_data(
                TensorData::new(
                    grid(out.dims().iter().product(), 8, 12),
                    out.dims().to_vec(),
                ),
                (dev, float_dtype::<Ad<B>>()),
            );
            let grads = (out * g).sum().backward();
            vec![
                fx("max_pool2d", plain),
                fx("with indices: values", vals),
                io("with indices: indices", idx),
                fx("x grad", xt.grad(&grads).unwrap()),
            ]
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Interpolation
// ---------------------------------------------------------------------------------------------

fn mode_of(code: f32) -> InterpolateMode {
    match code as usize {
        0 => InterpolateMode::Nearest,
        1 => InterpolateMode::Bilinear,
        2 => InterpolateMode::Bicubic,
        _ => InterpolateMode::Lanczos3,
    }
}

const SIZES: [[usize; 2]; 5] = [[9, 14], [3, 4], [5, 7], [1, 3], [12, 5]];

#[test]
fn interpolate_forward() {
    for mode in 0..4 {
        for align in [1usize, 0] {
            for (i, size) in SIZES.into_iter().enumerate() {
                let inputs = vec![
                    Input::normal(&[2, 2, 5, 7], 1.0, 180 + i as u64),
                    Input::new(
                        vec![mode as f32, align as f32, size[0] as f32, size[1] as f32],
                        &[4],
                    ),
                ];
                let (td, te) = if mode == 0 {
                    (EXACT, EXACT)
                } else {
                    (D_LIN, E_LIN)
                };
                diff!("interpolate", inputs, [td, te], |B, dev, x| {
                    let c = &x[1].data;
                    let opt =
                        InterpolateOptions::new(mode_of(c[0])).with_align_corners(c[1] == 1.0);
                    let out =
                        interpolate(ft::<B, 4>(&x[0], dev), [c[2] as usize, c[3] as usize], opt);
                    vec![if c[0] == 0.0 {
                        fx("out", out)
                    } else {
                        fo("out", out)
                    }]
                });
            }
        }
    }
}

#[test]
fn interpolate_nearest_backward() {
    for (i, size) in SIZES.into_iter().enumerate() {
        let inputs = vec![
            Input::normal(&[2, 2, 5, 7], 1.0, 190 + i as u64),
            Input::new(vec![size[0] as f32, size[1] as f32], &[2]),
        ];
        diff!(
            "interpolate nearest backward",
            inputs,
            [D_LIN, E_LIN],
            |B, dev, x| {
                let size = [x[1].data[0] as usize, x[1].data[1] as usize];
                let xt = ft::<Ad<B>, 4>(&x[0], dev).require_grad();
                let out = interpolate(
                    xt.clone(),
                    size,
                    InterpolateOptions::new(InterpolateMode::Nearest),
                );
                let grads = weighted_sum(out, 13).backward();
                vec![fo("x grad", xt.grad(&grads).unwrap())]
            }
        );
    }
}

/// burn-ndarray has no bilinear/bicubic backward: compare with burn-flex (f32), and for every
/// mode (Lanczos3 has no reference backward at all) check the adjoint identity
/// `<interpolate(x), g> = <x, interpolate_backward(g)>` in f64.
#[test]
fn interpolate_backward_smooth_modes() {
    for mode in 1..4usize {
        for align in [true, false] {
            for (i, size) in SIZES.into_iter().enumerate() {
                let x = Input::normal(&[2, 2, 5, 7], 1.0, 200 + i as u64);
                let n = 2 * 2 * size[0] * size[1];
                let g: Vec<f32> = grid(n, 32, 14).into_iter().map(|v| v / 16.0).collect();
                let opt = InterpolateOptions::new(mode_of(mode as f32)).with_align_corners(align);
                let grad_of = |x: &Input, dev: &GsqDevice| -> (Vec<f32>, Vec<f32>) {
                    let xt = ft::<Ad<Gsq>, 4>(x, dev).require_grad();
                    let out = interpolate(xt.clone(), size, opt.clone());
                    let gt = Tensor::<Ad<Gsq>, 4>::from_data(
                        TensorData::new(g.clone(), [2, 2, size[0], size[1]]),
                        (dev, float_dtype::<Gsq>()),
                    );
                    let grads = (out.clone() * gt).sum().backward();
                    (floats(out.inner()), floats(xt.grad(&grads).unwrap()))
                };
                for (level, dev) in levels() {
                    let held_x = held(std::slice::from_ref(&x), &dev).remove(0);
                    let (out, xg) = grad_of(&x, &dev);
                    let lhs: f64 = out.iter().zip(&g).map(|(&a, &b)| a as f64 * b as f64).sum();
                    let rhs: f64 = held_x
                        .data
                        .iter()
                        .zip(&xg)
                        .map(|(&a, &b)| a as f64 * b as f64)
                        .sum();
                    let scale: f64 = out
                        .iter()
                        .zip(&g)
                        .map(|(&a, &b)| (a as f64 * b as f64).abs())
                        .sum();
                    let tol = if level == "exact" { 1e-6 } else { 1e-4 };
                    assert!(
                        (lhs - rhs).abs() <= tol * scale,
                        "mode {mode} align {align} size {size:?} {level}: adjoint {lhs} vs {rhs}"
                    );
                    if mode == 3 {
                        continue;
                    }
                    // burn-flex's backward, f32, on the values the input holds.
                    let xf = ft::<Ad<Flex>, 4>(&held_x, &Default::default()).require_grad();
                    let out_f = interpolate(xf.clone(), size, opt.clone());
                    let gt = Tensor::<Ad<Flex>, 4>::from_data(
                        TensorData::new(g.clone(), [2, 2, size[0], size[1]]),
                        (&Default::default(), float_dtype::<Flex>()),
                    );
                    let grads = (out_f * gt).sum().backward();
                    let want = floats(xf.grad(&grads).unwrap());
                    let got = Out {
                        label: "x grad".into(),
                        dims: vec![2, 2, 5, 7],
                        vals: xg.iter().map(|&v| v as f64).collect(),
                        kind: Kind::Float,
                        dtype: burn::tensor::DType::F32,
                    };
                    let want = Out {
                        vals: want.iter().map(|&v| v as f64).collect(),
                        ..got.clone()
                    };
                    // The f32 reference accumulates with rounding: a few of its ulps of the largest term.
                    let tol = if level == "exact" {
                        Tol::ulps(2.0).with_scale_rel(1e-6)
                    } else {
                        Tol::rel(STREAM * 1.01).with_scale_rel(1e-6)
                    };
                    if let Some(f) =
                        compare("interpolate backward vs flex", level, &got, &want, &tol)
                    {
                        panic!("mode {mode} align {align} size {size:?}: {f}");
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Unfold
// ---------------------------------------------------------------------------------------------

#[test]
fn unfold4d_copies() {
    let cases = [
        ([2usize, 3], [1usize, 1], [0usize, 0], [1usize, 1]),
        ([3, 2], [2, 1], [1, 2], [1, 2]),
        ([1, 4], [3, 2], [2, 0], [1, 1]),
    ];
    for (i, (k, s, p, d)) in cases.into_iter().enumerate() {
        let opts = [k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1]];
        let inputs = vec![
            Input::normal(&[2, 3, 6, 7], 1.0, 210 + i as u64),
            Input::new(opts.iter().map(|&v| v as f32).collect(), &[8]),
        ];
        diff!("unfold4d", inputs, [EXACT, EXACT], |B, dev, x| {
            let o: Vec<usize> = x[1].data.iter().map(|&v| v as usize).collect();
            let opt = UnfoldOptions::new([o[2], o[3]], [o[4], o[5]], [o[6], o[7]]);
            vec![fx(
                "out",
                unfold4d(ft::<B, 4>(&x[0], dev), [o[0], o[1]], opt),
            )]
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Deformable convolution
// ---------------------------------------------------------------------------------------------

/// `flex_diff!`: like `diff!`, with burn-flex (f32) as the reference — for ops whose
/// burn-ndarray version is missing or wrong (ndarray's deformable convolution computes sample
/// coordinates in f32 even at f64, and its offset/mask gradients read the wrong channels when
/// there are several offset groups).
macro_rules! flex_diff {
    ($family:expr, $inputs:expr, [$tdef:expr, $texact:expr], |$B:ident, $dev:ident, $x:ident| $body:block) => {{
        #[allow(unused_variables)]
        fn run<$B: burn::tensor::backend::Backend>($dev: &$B::Device, $x: &[Input]) -> Vec<Out> {
            $body
        }
        against_flex($family, &$inputs, run::<Gsq>, run::<Flex>, $tdef, $texact)
    }};
}

fn against_flex(
    family: &str,
    inputs: &[Input],
    gsq: GsqBody,
    flex: fn(&burn::backend::flex::FlexDevice, &[Input]) -> Vec<Out>,
    tol_default: Tol,
    tol_exact: Tol,
) {
    let mut failures = Vec::new();
    for ((level, dev), tol) in levels().into_iter().zip([tol_default, tol_exact]) {
        let got = gsq(&dev, inputs);
        let ref_inputs = if tol.raw_ref {
            inputs.to_vec()
        } else {
            held(inputs, &dev)
        };
        let want = flex(&Default::default(), &ref_inputs);
        for (g, w) in got.iter().zip(&want) {
            failures.extend(compare(family, level, g, w, &tol));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Against an f32 reference that accumulates with rounding: one rounding of ours plus a few
/// f32 ulps of the largest term.
const D_VS_F32: Tol = Tol::rel(STREAM * 1.01).with_scale_rel(2e-6);
const E_VS_F32: Tol = Tol::ulps(1.0).with_scale_rel(2e-6);

#[test]
fn deform_conv2d_forward_and_backward() {
    // x [2, 4, 6, 5], weight [6, 2, 3, 2]: 2 weight groups, 2 offset groups, stride [1, 2],
    // padding [1, 1], dilation [1, 2]: output 6 x 3. Offsets up to ±2.5 pixels move samples
    // across and beyond the border.
    let (oh, ow, kv) = (6usize, 3usize, 6usize);
    for (i, with_mask) in [true, false].into_iter().enumerate() {
        let inputs = vec![
            Input::normal(&[2, 4, 6, 5], 1.0, 220 + i as u64),
            Input::uniform(&[2, 2 * 2 * kv, oh, ow], -2.5, 2.5, 221 + i as u64),
            Input::normal(&[6, 2, 3, 2], 0.5, 222 + i as u64),
            Input::uniform(&[2, 2 * kv, oh, ow], -1.0, 1.0, 223 + i as u64),
            Input::normal(&[6], 0.5, 224 + i as u64),
            Input::new(vec![with_mask as u8 as f32], &[1]),
        ];
        flex_diff!(
            "deform_conv2d",
            inputs,
            [D_VS_F32, E_VS_F32],
            |B, dev, x| {
                let opt = DeformConvOptions::new([1, 2], [1, 1], [1, 2], 2, 2);
                let xt = ft::<Ad<B>, 4>(&x[0], dev).require_grad();
                let off = ft::<Ad<B>, 4>(&x[1], dev).require_grad();
                let w = ft::<Ad<B>, 4>(&x[2], dev).require_grad();
                let m = ft::<Ad<B>, 4>(&x[3], dev).require_grad();
                let b = ft::<Ad<B>, 1>(&x[4], dev).require_grad();
                let with_mask = x[5].data[0] == 1.0;
                let out = deform_conv2d(
                    xt.clone(),
                    off.clone(),
                    w.clone(),
                    with_mask.then(|| m.clone()),
                    Some(b.clone()),
                    opt,
                );
                let grads = weighted_sum(out.clone(), 15).backward();
                let mut outs = vec![
                    fo("out", out.inner()),
                    fo("x grad", xt.grad(&grads).unwrap()),
                    fo("offset grad", off.grad(&grads).unwrap()),
                    fo("weight grad", w.grad(&grads).unwrap()),
                    fo("bias grad", b.grad(&grads).unwrap()),
                ];
                if with_mask {
                    outs.push(fo("mask grad", m.grad(&grads).unwrap()));
                }
                outs
            }
        );
    }
}

// ---------------------------------------------------------------------------------------------
// FFT
// ---------------------------------------------------------------------------------------------

/// The true half spectrum of `x` (f64 DFT) along the middle axis of `[outer, len, inner]`,
/// zero-padded or truncated to `n`.
fn dft_ref(x: &[f32], [outer, len, inner]: [usize; 3], n: usize) -> (Vec<f64>, Vec<f64>) {
    let bins = n / 2 + 1;
    let (mut re, mut im) = (
        vec![0.0; outer * bins * inner],
        vec![0.0; outer * bins * inner],
    );
    for o in 0..outer {
        for i in 0..inner {
            for k in 0..bins {
                let (mut sr, mut si) = (0.0f64, 0.0f64);
                for t in 0..n.min(len) {
                    let v = x[(o * len + t) * inner + i] as f64;
                    let a = -2.0 * std::f64::consts::PI * ((k * t) % n) as f64 / n as f64;
                    sr += v * a.cos();
                    si += v * a.sin();
                }
                re[(o * bins + k) * inner + i] = sr;
                im[(o * bins + k) * inner + i] = si;
            }
        }
    }
    (re, im)
}

/// The true inverse (Hermitian, imaginary parts of DC/Nyquist ignored) of a half spectrum.
fn idft_ref(re: &[f32], im: &[f32], [outer, bins, inner]: [usize; 3], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; outer * n * inner];
    for o in 0..outer {
        for i in 0..inner {
            for t in 0..n {
                let mut s = 0.0f64;
                for k in 0..n {
                    // Bin k of the full spectrum: k <= n/2 from the input, else the mirror.
                    let (kk, sign) = if k <= n / 2 { (k, 1.0) } else { (n - k, -1.0) };
                    if kk >= bins {
                        continue;
                    }
                    let r = re[(o * bins + kk) * inner + i] as f64;
                    let mut m = sign * im[(o * bins + kk) * inner + i] as f64;
                    if kk == 0 || 2 * kk == n {
                        m = 0.0;
                    }
                    let a = 2.0 * std::f64::consts::PI * ((k * t) % n) as f64 / n as f64;
                    s += r * a.cos() - m * a.sin();
                }
                out[(o * n + t) * inner + i] = s / n as f64;
            }
        }
    }
    out
}

fn out_f64(label: &str, dims: Vec<usize>, vals: Vec<f64>) -> Out {
    Out {
        label: label.into(),
        dims,
        vals,
        kind: Kind::Float,
        dtype: burn::tensor::DType::F32,
    }
}

fn out_of<const D: usize>(label: &str, t: Tensor<Gsq, D>) -> Out {
    let dims = t.dims().to_vec();
    out_f64(
        label,
        dims,
        floats(t).into_iter().map(|v| v as f64).collect(),
    )
}

/// FFT tolerance: the fixed-point transform errs by about 2^-50 of the fiber's largest
/// magnitude, far below one rounding of the result, so the per-element bounds are those of one
/// rounding plus a 1e-12 share of the largest output.
fn fft_tol(level: &str) -> Tol {
    if level == "exact" {
        Tol::ulps(1.0).with_scale_rel(1e-12)
    } else {
        Tol::rel(STREAM * 1.01).with_scale_rel(1e-12)
    }
}

#[test]
fn rfft_and_irfft() {
    let shape = [3usize, 16, 5];
    let x = Input::normal(&shape, 1.0, 230);
    let mut failures = Vec::new();
    for (level, dev) in levels() {
        let held_x = held(std::slice::from_ref(&x), &dev).remove(0);
        for (dim, n) in [
            (1usize, None),
            (1, Some(8)),
            (1, Some(32)),
            (0, Some(4)),
            (2, Some(8)),
            (2, Some(1)),
        ] {
            let len = shape[dim];
            let n_eff = n.unwrap_or(len);
            let outer: usize = shape[..dim].iter().product();
            let inner: usize = shape[dim + 1..].iter().product();
            let (re, im) = rfft(ft::<Gsq, 3>(&x, &dev), dim, n);
            let (wr, wi) = dft_ref(&held_x.data, [outer, len, inner], n_eff);
            let mut dims = shape.to_vec();
            dims[dim] = n_eff / 2 + 1;
            let tag = format!("dim {dim} n {n:?}");
            let (got_re, got_im) = (
                out_of(&format!("rfft re {tag}"), re.clone()),
                out_of(&format!("rfft im {tag}"), im.clone()),
            );
            failures.extend(compare(
                "rfft",
                level,
                &got_re,
                &out_f64(&got_re.label, dims.clone(), wr),
                &fft_tol(level),
            ));
            failures.extend(compare(
                "rfft",
                level,
                &got_im,
                &out_f64(&got_im.label, dims.clone(), wi),
                &fft_tol(level),
            ));
            // The inverse of the spectrum we produced, against the true inverse of it.
            let (sr, si) = (floats(re.clone()), floats(im.clone()));
            let back = irfft(re, im, dim, n.or(Some(n_eff)));
            let want = idft_ref(&sr, &si, [outer, n_eff / 2 + 1, inner], n_eff);
            let mut bdims = shape.to_vec();
            bdims[dim] = n_eff;
            let got = out_of(&format!("irfft {tag}"), back);
            failures.extend(compare(
                "irfft",
                level,
                &got,
                &out_f64(&got.label, bdims, want),
                &fft_tol(level),
            ));
        }
        // irfft with the default n = 2 * (bins - 1), and with more bins than n needs.
        let spec = Input::normal(&[2, 9, 3], 1.0, 231);
        let spec_i = Input::normal(&[2, 9, 3], 1.0, 232);
        let held_s = held(&[spec.clone(), spec_i.clone()], &dev);
        for n in [None, Some(8), Some(4), Some(32)] {
            let got = irfft(ft::<Gsq, 3>(&spec, &dev), ft::<Gsq, 3>(&spec_i, &dev), 1, n);
            let n_eff = n.unwrap_or(16);
            let want = idft_ref(&held_s[0].data, &held_s[1].data, [2, 9, 3], n_eff);
            let got = out_of(&format!("irfft bins 9 n {n:?}"), got);
            failures.extend(compare(
                "irfft",
                level,
                &got,
                &out_f64(&got.label, vec![2, n_eff, 3], want),
                &fft_tol(level),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// burn's API admits only powers of two; the backend computes the true DFT of any length.
#[test]
fn fft_non_power_of_two_lengths_through_the_backend() {
    use burn::tensor::ops::ModuleOps;
    let x = Input::normal(&[2, 12], 1.0, 240);
    let mut failures = Vec::new();
    for (level, dev) in levels() {
        let held_x = held(std::slice::from_ref(&x), &dev).remove(0);
        for n in [12usize, 6, 7, 20, 3] {
            let prim = ft::<Gsq, 2>(&x, &dev).into_primitive().tensor();
            let (re, im) = <Gsq as ModuleOps<Gsq>>::rfft(prim, 1, Some(n));
            let (re, im) = (
                Tensor::<Gsq, 2>::from_primitive(TensorPrimitive::Float(re)),
                Tensor::<Gsq, 2>::from_primitive(TensorPrimitive::Float(im)),
            );
            let (wr, wi) = dft_ref(&held_x.data, [2, 12, 1], n);
            let dims = vec![2, n / 2 + 1];
            let (gr, gi) = (
                out_of(&format!("re n {n}"), re.clone()),
                out_of(&format!("im n {n}"), im.clone()),
            );
            failures.extend(compare(
                "rfft non-pow2",
                level,
                &gr,
                &out_f64(&gr.label, dims.clone(), wr),
                &fft_tol(level),
            ));
            failures.extend(compare(
                "rfft non-pow2",
                level,
                &gi,
                &out_f64(&gi.label, dims, wi),
                &fft_tol(level),
            ));
            let (sr, si) = (floats(re.clone()), floats(im.clone()));
            let back = <Gsq as ModuleOps<Gsq>>::irfft(
                re.into_primitive().tensor(),
                im.into_primitive().tensor(),
                1,
                Some(n),
            );
            let back = Tensor::<Gsq, 2>::from_primitive(TensorPrimitive::Float(back));
            let want = idft_ref(&sr, &si, [2, n / 2 + 1, 1], n);
            let got = out_of(&format!("irfft n {n}"), back);
            failures.extend(compare(
                "irfft non-pow2",
                level,
                &got,
                &out_f64(&got.label, vec![2, n], want),
                &fft_tol(level),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The rfft agrees with burn-flex's (f32) on burn's own cases, to f32 FFT accuracy.
#[test]
fn rfft_agrees_with_flex() {
    let x = Input::normal(&[4, 64], 1.0, 250);
    let dev = GsqDevice::exact();
    for n in [None, Some(16), Some(128)] {
        let (gr, gi) = rfft(ft::<Gsq, 2>(&x, &dev), 1, n);
        let (fr, fi) = rfft(ft::<Flex, 2>(&x, &Default::default()), 1, n);
        for (g, f) in [(gr, fr), (gi, fi)] {
            let (g, f) = (floats(g), floats(f));
            let scale = f.iter().fold(0f32, |m, v| m.max(v.abs()));
            let worst = g
                .iter()
                .zip(&f)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            println!("DIFF family=rfft-vs-flex n={n:?} max_abs={worst:.3e} scale={scale:.3e}");
            assert!(worst <= 2e-6 * scale, "n {n:?}: {worst} vs scale {scale}");
        }
    }
}
