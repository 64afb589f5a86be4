//! Scans, sorts and comparisons against references on the decoded values.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::{Dyadic, GseFormat, Rounding};
use gse_kernels as k;
use gse_kernels::Comparison;

const NE: Rounding = Rounding::NearestEven;

fn exact_prefix(line: &[f64]) -> Vec<f64> {
    let ds: Vec<Dyadic> = line.iter().map(|&v| dy(v)).collect();
    let low = ds
        .iter()
        .filter(|d| !d.is_zero())
        .map(|d| d.exp)
        .min()
        .unwrap_or(0);
    let mut sum = 0i128;
    ds.iter()
        .map(|d| {
            if !d.is_zero() {
                sum += (d.mant as i128) << (d.exp - low);
            }
            round_i128(sum, low)
        })
        .collect()
}

#[test]
fn scans_match_references() {
    let mut rng = Rng::new(11);
    for shape in SHAPES {
        for kind in KINDS {
            let n: usize = shape.iter().product();
            let values = rng.values(kind, n);
            for (view, x) in views(&values, shape, GseFormat::EXACT) {
                let logical = f64s(&x);
                for dim in 0..shape.len() {
                    let lines = lines_of(&logical, shape, dim);
                    let what = format!("{kind} {shape:?} {view} dim {dim}");
                    // cumsum: each prefix correctly rounded.
                    let want: Vec<Vec<f64>> = lines.iter().map(|l| exact_prefix(l)).collect();
                    let y = k::cumsum(&x, dim, GseFormat::EXACT, NE);
                    assert_eq!(y.shape(), shape);
                    assert_eq!(f64s(&y), from_lines(&want, shape, dim), "cumsum {what}");
                    let y16 = k::cumsum(&x, dim, GseFormat::STREAM16, NE);
                    assert_close(
                        &format!("cumsum16 {what}"),
                        &y16,
                        &from_lines(&want, shape, dim),
                        0.5,
                        2f64.powi(-23),
                        0.0,
                    );
                    // cummax / cummin: exact.
                    let run = |better: fn(f64, f64) -> bool| -> Vec<Vec<f64>> {
                        lines
                            .iter()
                            .map(|l| {
                                let mut b = l[0];
                                l.iter()
                                    .map(|&v| {
                                        if better(v, b) {
                                            b = v;
                                        }
                                        b
                                    })
                                    .collect()
                            })
                            .collect()
                    };
                    let y = k::cummax(&x, dim, GseFormat::EXACT, NE);
                    assert_eq!(
                        f64s(&y),
                        from_lines(&run(|a, b| a > b), shape, dim),
                        "cummax {what}"
                    );
                    let y = k::cummin(&x, dim, GseFormat::EXACT, NE);
                    assert_eq!(
                        f64s(&y),
                        from_lines(&run(|a, b| a < b), shape, dim),
                        "cummin {what}"
                    );
                    // cumprod: f64 products (skipping lines that leave the f32 range).
                    if kind != "wide" {
                        let want: Vec<Vec<f64>> = lines
                            .iter()
                            .map(|l| {
                                let mut p = 1.0;
                                l.iter()
                                    .map(|&v| {
                                        p *= v;
                                        p
                                    })
                                    .collect()
                            })
                            .collect();
                        let flat = from_lines(&want, shape, dim);
                        if flat
                            .iter()
                            .all(|w| w.abs() < 1e38 && (*w == 0.0 || w.abs() > 1e-37))
                        {
                            let y = k::cumprod(&x, dim, GseFormat::EXACT, NE);
                            assert_close(
                                &format!("cumprod {what}"),
                                &y,
                                &flat,
                                0.5,
                                2f64.powi(-45),
                                0.0,
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Stable sort of a line's indices by value.
fn stable_order(line: &[f64], descending: bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..line.len()).collect();
    if descending {
        idx.sort_by(|&a, &b| line[b].partial_cmp(&line[a]).unwrap());
    } else {
        idx.sort_by(|&a, &b| line[a].partial_cmp(&line[b]).unwrap());
    }
    idx
}

#[test]
fn sorts_are_stable_and_topk_takes_the_largest() {
    let mut rng = Rng::new(12);
    for shape in SHAPES {
        for kind in KINDS {
            let n: usize = shape.iter().product();
            let values = rng.values(kind, n);
            for (view, x) in views(&values, shape, GseFormat::STREAM16) {
                let logical = f64s(&x);
                for dim in 0..shape.len() {
                    let lines = lines_of(&logical, shape, dim);
                    for descending in [false, true] {
                        let what = format!("{kind} {shape:?} {view} dim {dim} desc {descending}");
                        let orders: Vec<Vec<usize>> =
                            lines.iter().map(|l| stable_order(l, descending)).collect();
                        let idx: Vec<Vec<f64>> = orders
                            .iter()
                            .map(|o| o.iter().map(|&i| i as f64).collect())
                            .collect();
                        let vals: Vec<Vec<f64>> = orders
                            .iter()
                            .zip(&lines)
                            .map(|(o, l)| o.iter().map(|&i| l[i]).collect())
                            .collect();
                        let want_idx: Vec<i64> = from_lines(&idx, shape, dim)
                            .iter()
                            .map(|&v| v as i64)
                            .collect();
                        assert_eq!(k::argsort(&x, dim, descending), want_idx, "argsort {what}");
                        let (v, i) =
                            k::sort_with_indices(&x, dim, descending, GseFormat::STREAM16, NE);
                        assert_eq!(i, want_idx, "sort_with_indices {what}");
                        assert_eq!(
                            f64s(&v),
                            from_lines(&vals, shape, dim),
                            "sort_with_indices {what}"
                        );
                        let v = k::sort(&x, dim, descending, GseFormat::EXACT, NE);
                        assert_eq!(f64s(&v), from_lines(&vals, shape, dim), "sort {what}");
                    }
                    let len = shape[dim];
                    for kk in [1, len.div_ceil(2), len] {
                        let orders: Vec<Vec<usize>> = lines
                            .iter()
                            .map(|l| stable_order(l, true)[..kk].to_vec())
                            .collect();
                        let mut kshape = shape.to_vec();
                        kshape[dim] = kk;
                        let idx: Vec<Vec<f64>> = orders
                            .iter()
                            .map(|o| o.iter().map(|&i| i as f64).collect())
                            .collect();
                        let vals: Vec<Vec<f64>> = orders
                            .iter()
                            .zip(&lines)
                            .map(|(o, l)| o.iter().map(|&i| l[i]).collect())
                            .collect();
                        let (v, i) = k::topk(&x, dim, kk, GseFormat::STREAM16, NE);
                        let what = format!("topk {kk} {kind} {shape:?} {view} dim {dim}");
                        assert_eq!(v.shape(), kshape.as_slice(), "{what}");
                        let want_idx: Vec<i64> = from_lines(&idx, &kshape, dim)
                            .iter()
                            .map(|&v| v as i64)
                            .collect();
                        assert_eq!(i, want_idx, "{what}");
                        assert_eq!(f64s(&v), from_lines(&vals, &kshape, dim), "{what}");
                    }
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "topk: k = 4 exceeds the size 3 of dim 1")]
fn topk_beyond_the_dim_names_the_op() {
    let x = tensor(&[1.0; 6], &[2, 3], GseFormat::EXACT);
    k::topk(&x, 1, 4, GseFormat::EXACT, NE);
}

type Op = (Comparison, fn(f64, f64) -> bool);

const OPS: [Op; 6] = [
    (Comparison::Eq, |a, b| a == b),
    (Comparison::Ne, |a, b| a != b),
    (Comparison::Gt, |a, b| a > b),
    (Comparison::Ge, |a, b| a >= b),
    (Comparison::Lt, |a, b| a < b),
    (Comparison::Le, |a, b| a <= b),
];

#[test]
fn comparisons_broadcast_and_are_exact() {
    let mut rng = Rng::new(13);
    for kind in KINDS {
        let a_vals = rng.values(kind, 4 * 5 * 6);
        let b_vals = rng.values(kind, 5);
        for (view, a) in views(&a_vals, &[4, 5, 6], GseFormat::STREAM16) {
            let b = tensor(&b_vals, &[5, 1], GseFormat::STREAM16);
            let (la, lb) = (f64s(&a), f64s(&b));
            for (cmp, f) in OPS {
                let (shape, got) = k::compare(&a, &b, cmp).unwrap();
                assert_eq!(shape, [4, 5, 6]);
                let want: Vec<bool> = (0..120).map(|i| f(la[i], lb[(i / 6) % 5])).collect();
                assert_eq!(got, want, "{kind} {view} {cmp:?}");
                let s = lb[2];
                let got = k::compare_scalar(&a, dy(s), cmp);
                let want: Vec<bool> = la.iter().map(|&v| f(v, s)).collect();
                assert_eq!(got, want, "{kind} {view} {cmp:?} scalar");
            }
        }
    }
    // Values that differ below the 16-bit precision compare unequal, at the exact format.
    let a = tensor(&[1.0, 1.0 + 2f32.powi(-23)], &[2], GseFormat::EXACT);
    assert_eq!(
        k::compare_scalar(&a, Dyadic::ONE, Comparison::Gt),
        [false, true]
    );
}
