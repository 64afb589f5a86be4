//! Reductions against f64 and exact integer references, on seeded data of every kind, ranks
//! 1-5, non-contiguous views and several output formats.
#![allow(clippy::float_arithmetic)]

mod common;

use common::*;
use gse::{Dyadic, GseFormat, Rounding};
use gse_kernels as k;

const NE: Rounding = Rounding::NearestEven;
const OUT_FORMATS: [GseFormat; 3] = [GseFormat::EXACT, GseFormat::STREAM16, GseFormat::INT8];

/// The exact sum of f32-valued `line` as `i128 * 2^exp` (the data keeps spans below 100 bits).
fn exact_sum(line: &[f64]) -> (i128, i32) {
    let ds: Vec<Dyadic> = line
        .iter()
        .map(|&v| dy(v))
        .filter(|d| !d.is_zero())
        .collect();
    let low = ds.iter().map(|d| d.exp).min().unwrap_or(0);
    let sum = ds.iter().map(|d| (d.mant as i128) << (d.exp - low)).sum();
    (sum, low)
}

fn reduced(shape: &[usize], dim: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s[dim] = 1;
    s
}

#[test]
fn sums_and_means_are_correctly_rounded() {
    let mut rng = Rng::new(1);
    for shape in SHAPES {
        for kind in KINDS {
            let n: usize = shape.iter().product();
            let values = rng.values(kind, n);
            for (view, x) in views(&values, shape, GseFormat::EXACT) {
                let logical = f64s(&x);
                for dim in 0..shape.len() {
                    let lines = lines_of(&logical, shape, dim);
                    let exact: Vec<(i128, i32)> = lines.iter().map(|l| exact_sum(l)).collect();
                    let sums: Vec<f64> = exact
                        .iter()
                        .map(|&(s, e)| s as f64 * 2f64.powi(e))
                        .collect();
                    let means: Vec<f64> = sums
                        .iter()
                        .zip(&lines)
                        .map(|(s, l)| s / l.len() as f64)
                        .collect();
                    for format in OUT_FORMATS {
                        let what = format!("sum_dim {kind} {shape:?} {view} dim {dim} {format}");
                        let y = k::sum_dim(&x, dim, format, NE);
                        assert_eq!(y.shape(), reduced(shape, dim));
                        assert_close(&what, &y, &sums, 0.5, 2f64.powi(-52), 0.0);
                        if format == GseFormat::EXACT {
                            let bits: Vec<f64> =
                                exact.iter().map(|&(s, e)| round_i128(s, e)).collect();
                            assert_eq!(f64s(&y), bits, "{what}: not the correctly rounded sum");
                        }
                        let what = format!("mean_dim {kind} {shape:?} {view} dim {dim} {format}");
                        let y = k::mean_dim(&x, dim, format, NE);
                        assert_close(&what, &y, &means, 0.5, 2f64.powi(-51), 0.0);
                    }
                }
                let (total, low) = exact_sum(&logical);
                let y = k::sum_all(&x, GseFormat::EXACT, NE);
                assert_eq!(y.shape(), [1]);
                assert_eq!(
                    f64s(&y),
                    [round_i128(total, low)],
                    "sum_all {kind} {shape:?} {view}"
                );
                let mean = total as f64 * 2f64.powi(low) / n as f64;
                let y = k::mean_all(&x, GseFormat::STREAM16, NE);
                assert_close("mean_all", &y, &[mean], 0.5, 2f64.powi(-51), 0.0);
            }
        }
    }
}

#[test]
fn cancellation_and_extreme_scales_stay_exact() {
    // 2^100, tiny values, -2^100: only the tiny ones survive, exactly.
    let values = [
        2f32.powi(100),
        3.0 * 2f32.powi(-120),
        -2f32.powi(100),
        2f32.powi(-126),
    ];
    let x = tensor(&values, &[4], GseFormat::EXACT);
    let y = k::sum_all(&x, GseFormat::EXACT, NE);
    assert_eq!(y.to_f32(), [3.0 * 2f32.powi(-120) + 2f32.powi(-126)]);
    // 1 + 2^-24 is a tie that rounds down to 1; a far smaller third term must break it upwards.
    let values = [1.0, 2f32.powi(-24), 2f32.powi(-100)];
    let x = tensor(&values, &[3], GseFormat::EXACT);
    assert_eq!(
        k::sum_all(&x, GseFormat::EXACT, NE).to_f32(),
        [1.0 + 2f32.powi(-23)]
    );
    let x = tensor(&values[..2], &[2], GseFormat::EXACT);
    assert_eq!(k::sum_all(&x, GseFormat::EXACT, NE).to_f32(), [1.0]);
    // The smallest subnormals add up exactly.
    let tiny = vec![f32::from_bits(1); 1000];
    let x = tensor(&tiny, &[1000], GseFormat::EXACT);
    assert_eq!(
        k::sum_all(&x, GseFormat::EXACT, NE).to_f32(),
        [f32::from_bits(1000)]
    );
    assert_eq!(
        k::mean_all(&x, GseFormat::EXACT, NE).to_f32(),
        [f32::from_bits(1)]
    );
}

#[test]
fn long_lines_split_into_chunks_sum_exactly_and_independently_of_threads() {
    let mut rng = Rng::new(2);
    let n = 200_003;
    let values = rng.values("wide", n);
    let x = tensor(&values, &[n], GseFormat::EXACT);
    let (s, e) = exact_sum(&f64s(&x));
    assert_eq!(
        f64s(&k::sum_dim(&x, 0, GseFormat::EXACT, NE)),
        [round_i128(s, e)]
    );
    assert_thread_independent("sum_all", || k::sum_all(&x, GseFormat::STREAM16, NE));
    assert_thread_independent("prod_all", || k::prod_all(&x, GseFormat::EXACT, NE));
    let m = tensor(
        &rng.values("normal", 64 * 999),
        &[64, 999],
        GseFormat::STREAM16,
    );
    assert_thread_independent("var_dim", || k::var_dim(&m, 1, 1, GseFormat::EXACT, NE));
    assert_thread_independent("sum_dim 0", || k::sum_dim(&m, 0, GseFormat::INT8, NE));
}

#[test]
fn products_track_f64_with_exact_signs_and_zeros() {
    let mut rng = Rng::new(3);
    for shape in SHAPES {
        for kind in ["normal", "uniform", "ties", "mixed"] {
            let n: usize = shape.iter().product();
            let values = rng.values(kind, n);
            for (view, x) in views(&values, shape, GseFormat::EXACT) {
                let logical = f64s(&x);
                for dim in 0..shape.len() {
                    let lines = lines_of(&logical, shape, dim);
                    let want: Vec<f64> = lines.iter().map(|l| l.iter().product()).collect();
                    let y = k::prod_dim(&x, dim, GseFormat::EXACT, NE);
                    let what = format!("prod_dim {kind} {shape:?} {view} dim {dim}");
                    if want
                        .iter()
                        .all(|w| w.abs() < 1e38 && (*w == 0.0 || w.abs() > 1e-37))
                    {
                        assert_close(&what, &y, &want, 0.5, 2f64.powi(-45), 0.0);
                    }
                    for (g, w) in f64s(&y).iter().zip(&want) {
                        assert_eq!(
                            g.signum() * (*g != 0.0) as i32 as f64,
                            w.signum() * (*w != 0.0) as i32 as f64,
                            "{what}: sign"
                        );
                    }
                }
                let want: f64 = logical.iter().product();
                if want.abs() < 1e38 && want.abs() > 1e-37 {
                    let y = k::prod_all(&x, GseFormat::EXACT, NE);
                    assert_close("prod_all", &y, &[want], 0.5, 2f64.powi(-45), 0.0);
                }
            }
        }
    }
}

#[test]
fn extremes_and_their_first_indices() {
    let mut rng = Rng::new(4);
    for shape in SHAPES {
        for kind in KINDS {
            let n: usize = shape.iter().product();
            let values = rng.values(kind, n);
            for (view, x) in views(&values, shape, GseFormat::STREAM16) {
                let logical = f64s(&x);
                for dim in 0..shape.len() {
                    let lines = lines_of(&logical, shape, dim);
                    let what = format!("extremes {kind} {shape:?} {view} dim {dim}");
                    let first = |l: &Vec<f64>, better: fn(f64, f64) -> bool| {
                        let mut b = 0;
                        for (i, &v) in l.iter().enumerate() {
                            if better(v, l[b]) {
                                b = i;
                            }
                        }
                        b
                    };
                    let imax: Vec<i64> = lines
                        .iter()
                        .map(|l| first(l, |a, b| a > b) as i64)
                        .collect();
                    let imin: Vec<i64> = lines
                        .iter()
                        .map(|l| first(l, |a, b| a < b) as i64)
                        .collect();
                    assert_eq!(k::argmax_dim(&x, dim), imax, "{what}");
                    assert_eq!(k::argmin_dim(&x, dim), imin, "{what}");
                    let (v, i) = k::max_dim_with_indices(&x, dim, GseFormat::STREAM16, NE);
                    assert_eq!(i, imax, "{what}");
                    let want: Vec<f64> = lines
                        .iter()
                        .zip(&imax)
                        .map(|(l, &i)| l[i as usize])
                        .collect();
                    assert_eq!(f64s(&v), want, "{what}");
                    let (v, i) = k::min_dim_with_indices(&x, dim, GseFormat::STREAM16, NE);
                    assert_eq!(i, imin, "{what}");
                    let want: Vec<f64> = lines
                        .iter()
                        .zip(&imin)
                        .map(|(l, &i)| l[i as usize])
                        .collect();
                    assert_eq!(f64s(&v), want, "{what}");
                    assert_eq!(
                        f64s(&k::max_dim(&x, dim, GseFormat::EXACT, NE)).len(),
                        lines.len()
                    );
                    assert_eq!(
                        f64s(&k::min_dim(&x, dim, GseFormat::EXACT, NE)).len(),
                        lines.len()
                    );
                }
                let max = logical.iter().copied().fold(f64::MIN, f64::max);
                let min = logical.iter().copied().fold(f64::MAX, f64::min);
                assert_eq!(f64s(&k::max_all(&x, GseFormat::EXACT, NE)), [max]);
                assert_eq!(f64s(&k::min_all(&x, GseFormat::EXACT, NE)), [min]);
            }
        }
    }
}

#[test]
fn variance_matches_a_two_pass_f64_reference() {
    let mut rng = Rng::new(5);
    for shape in SHAPES {
        for kind in KINDS {
            let n: usize = shape.iter().product();
            let values = rng.values(kind, n);
            for (view, x) in views(&values, shape, GseFormat::EXACT) {
                let logical = f64s(&x);
                for dim in 0..shape.len() {
                    for correction in [0, 1] {
                        let lines = lines_of(&logical, shape, dim);
                        if lines[0].len() <= correction {
                            continue;
                        }
                        let want: Vec<f64> = lines
                            .iter()
                            .map(|l| {
                                let m = l.iter().sum::<f64>() / l.len() as f64;
                                let ss: f64 = l.iter().map(|v| (v - m) * (v - m)).sum();
                                ss / (l.len() - correction) as f64
                            })
                            .collect();
                        let what =
                            format!("var_dim {kind} {shape:?} {view} dim {dim} c {correction}");
                        let y = k::var_dim(&x, dim, correction, GseFormat::EXACT, NE);
                        // The f64 reference itself is only good to ~n 2^-52.
                        assert_close(&what, &y, &want, 0.5, 2f64.powi(-40), 0.0);
                    }
                }
            }
        }
    }
}

#[test]
fn expanded_views_reduce_like_their_copies() {
    let mut rng = Rng::new(6);
    let values = rng.values("normal", 3 * 5);
    let (big, logical, x) = expanded(&values, &[3, 5], 4, GseFormat::EXACT);
    let copy = tensor(&logical, &big, GseFormat::EXACT);
    for dim in 0..3 {
        for (a, b) in [
            (
                k::sum_dim(&x, dim, GseFormat::EXACT, NE),
                k::sum_dim(&copy, dim, GseFormat::EXACT, NE),
            ),
            (
                k::prod_dim(&x, dim, GseFormat::EXACT, NE),
                k::prod_dim(&copy, dim, GseFormat::EXACT, NE),
            ),
            (
                k::var_dim(&x, dim, 1, GseFormat::EXACT, NE),
                k::var_dim(&copy, dim, 1, GseFormat::EXACT, NE),
            ),
        ] {
            assert_eq!(a.to_f32(), b.to_f32(), "dim {dim}");
        }
        assert_eq!(k::argmax_dim(&x, dim), k::argmax_dim(&copy, dim));
    }
}

#[test]
fn empty_reductions_give_zeros() {
    let x = tensor(&[], &[3, 0], GseFormat::EXACT);
    let y = k::sum_dim(&x, 1, GseFormat::EXACT, NE);
    assert_eq!((y.shape(), y.to_f32()), (&[3usize, 1][..], vec![0.0; 3]));
    let before = gse::special::totals().nan;
    let y = k::mean_dim(&x, 1, GseFormat::EXACT, NE);
    assert_eq!(y.to_f32(), vec![0.0; 3]);
    assert!(gse::special::totals().nan >= before + 3);
    assert_eq!(
        k::prod_dim(&x, 1, GseFormat::EXACT, NE).to_f32(),
        vec![1.0; 3]
    );
    assert_eq!(k::sum_dim(&x, 0, GseFormat::EXACT, NE).shape(), [1, 0]);
}

#[test]
#[should_panic(expected = "max_dim: cannot reduce an empty dimension")]
fn max_of_an_empty_dim_names_the_op() {
    let x = tensor(&[], &[3, 0], GseFormat::EXACT);
    k::max_dim(&x, 1, GseFormat::EXACT, NE);
}
