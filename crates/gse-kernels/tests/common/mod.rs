//! Shared test helpers: seeded data, views with identical logical values, f64 references and
//! error checks in units of the output's quantum.
#![allow(dead_code, clippy::float_arithmetic)]

use gse::{Dyadic, GseFormat, Rounding, SpecialPolicy, SplitMix64};
use gse_kernels::{AxisSlice, GseTensor};

/// Seeded generator with the distributions the tests use.
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }

    /// Values of the named kind: "normal", "uniform" (in [-1, 1)), "wide" (signed, magnitudes
    /// spread over 2^-30..2^30), "ties" (small integers with many repeats), "mixed" (normal
    /// with a few exact zeros and large outliers).
    pub fn values(&mut self, kind: &str, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| match kind {
                "normal" => self.normal() as f32,
                "uniform" => (2.0 * self.uniform() - 1.0) as f32,
                "wide" => {
                    let e = self.below(61) as i32 - 30;
                    let s = if self.below(2) == 0 { -1.0 } else { 1.0 };
                    (s * (1.0 + self.uniform()) * 2f64.powi(e)) as f32
                }
                "ties" => self.below(5) as f32 - 2.0,
                "mixed" => match self.below(10) {
                    0 => 0.0,
                    1 => (self.normal() * 1000.0) as f32,
                    _ => self.normal() as f32,
                },
                other => panic!("unknown kind {other}"),
            })
            .collect()
    }
}

pub const KINDS: [&str; 5] = ["normal", "uniform", "wide", "ties", "mixed"];

/// Shapes of ranks 1 to 5, most not multiples of 32.
pub const SHAPES: [&[usize]; 7] = [
    &[37],
    &[5, 33],
    &[3, 7, 11],
    &[2, 3, 4, 5],
    &[2, 1, 3, 2, 7],
    &[64, 40],
    &[1, 97],
];

pub fn tensor(values: &[f32], shape: &[usize], format: GseFormat) -> GseTensor {
    GseTensor::from_f32(
        values,
        shape,
        format,
        Rounding::NearestEven,
        SpecialPolicy::Error,
    )
    .unwrap()
    .0
}

/// `x`'s logical values as f64, exactly (f32 would round the exact format's values below
/// 2^-126 to its subnormal grid).
pub fn f64s(x: &GseTensor) -> Vec<f64> {
    x.to_dyadics()
        .into_iter()
        .map(|d| d.mant as f64 * 2f64.powi(d.exp))
        .collect()
}

fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The same logical values (row-major `values` of `shape`) as several layouts: contiguous,
/// stored transposed then permuted back, sliced out of a padded tensor, stored flipped then
/// flipped back. Meant for group-1 formats, whose values do not depend on the layout.
pub fn views(values: &[f32], shape: &[usize], format: GseFormat) -> Vec<(&'static str, GseTensor)> {
    let rank = shape.len();
    let strides = row_major_strides(shape);
    let at = |coord: &[usize]| {
        values[coord
            .iter()
            .zip(&strides)
            .map(|(c, s)| c * s)
            .sum::<usize>()]
    };
    let coords = |shape: &[usize]| -> Vec<Vec<usize>> {
        let n: usize = shape.iter().product();
        let st = row_major_strides(shape);
        (0..n)
            .map(|i| st.iter().zip(shape).map(|(&s, &d)| (i / s) % d).collect())
            .collect()
    };
    let mut out = vec![("contiguous", tensor(values, shape, format))];

    // Storage in reversed axis order, permuted back.
    let rev: Vec<usize> = shape.iter().rev().copied().collect();
    let stored: Vec<f32> = coords(&rev)
        .into_iter()
        .map(|c| at(&c.iter().rev().copied().collect::<Vec<_>>()))
        .collect();
    let axes: Vec<usize> = (0..rank).rev().collect();
    out.push(("permuted", tensor(&stored, &rev, format).permute(&axes)));

    // A padded tensor (one extra element on every axis, filled with junk), sliced.
    let padded: Vec<usize> = shape.iter().map(|d| d + 1).collect();
    let stored: Vec<f32> = coords(&padded)
        .into_iter()
        .map(|c| {
            if c.iter().zip(shape).all(|(a, d)| a < d) {
                at(&c)
            } else {
                12345.0
            }
        })
        .collect();
    let slices: Vec<AxisSlice> = shape
        .iter()
        .map(|&d| AxisSlice {
            start: 0,
            end: d,
            step: 1,
        })
        .collect();
    out.push(("sliced", tensor(&stored, &padded, format).slice(&slices)));

    // Stored flipped along every axis, flipped back.
    let stored: Vec<f32> = coords(shape)
        .into_iter()
        .map(|c| {
            let f: Vec<usize> = c.iter().zip(shape).map(|(a, d)| d - 1 - a).collect();
            at(&f)
        })
        .collect();
    let all: Vec<usize> = (0..rank).collect();
    out.push(("flipped", tensor(&stored, shape, format).flip(&all)));
    out
}

/// `x` broadcast along a new leading axis of size `n` (stride 0) and a sliced copy of it, for
/// ops that must read expanded views.
pub fn expanded(
    values: &[f32],
    shape: &[usize],
    n: usize,
    format: GseFormat,
) -> (Vec<usize>, Vec<f32>, GseTensor) {
    let mut big = vec![n];
    big.extend_from_slice(shape);
    let mut unit = vec![1];
    unit.extend_from_slice(shape);
    let t = tensor(values, &unit, format).expand(&big);
    let logical: Vec<f32> = (0..n).flat_map(|_| values.iter().copied()).collect();
    (big, logical, t)
}

/// Reference computation along `dim` of row-major `values` of `shape`: `f(line)` for each
/// line, lines in row-major order of the reduced shape.
pub fn lines_of(values: &[f64], shape: &[usize], dim: usize) -> Vec<Vec<f64>> {
    let n = shape[dim];
    let inner: usize = shape[dim + 1..].iter().product();
    let outer: usize = shape[..dim].iter().product();
    let mut out = Vec::new();
    for o in 0..outer {
        for i in 0..inner {
            out.push((0..n).map(|k| values[(o * n + k) * inner + i]).collect());
        }
    }
    out
}

/// Inverse of [`lines_of`] for outputs of the same shape.
pub fn from_lines(lines: &[Vec<f64>], shape: &[usize], dim: usize) -> Vec<f64> {
    let n = shape[dim];
    let inner: usize = shape[dim + 1..].iter().product();
    let mut out = vec![0.0; shape.iter().product()];
    for (l, line) in lines.iter().enumerate() {
        let (o, i) = (l / inner, l % inner);
        for (k, &v) in line.iter().enumerate() {
            out[(o * n + k) * inner + i] = v;
        }
    }
    out
}

/// Exponent of the quantum of each (contiguous) output element.
pub fn lsbs(y: &GseTensor) -> Vec<i32> {
    assert!(y.layout().is_contiguous());
    (0..y.num_elements())
        .map(|i| y.blocks().lsb_of(y.layout().offset() + i))
        .collect()
}

/// Asserts `|got - want| <= half_quanta * quantum + rel * |want| + abs` elementwise, where
/// quantum is the output's own quantum at that element (`half_quanta = 0.5`: correctly
/// rounded up to the slack).
pub fn assert_close(what: &str, y: &GseTensor, want: &[f64], half_quanta: f64, rel: f64, abs: f64) {
    let got = f64s(y);
    assert_eq!(got.len(), want.len(), "{what}: length");
    let lsb = lsbs(y);
    let mut worst = 0.0f64;
    for (i, ((&g, &w), &e)) in got.iter().zip(want).zip(&lsb).enumerate() {
        let quantum = 2f64.powi(e);
        let tol = half_quanta * quantum + rel * w.abs() + abs;
        let err = (g - w).abs();
        worst = worst.max(err / tol.max(f64::MIN_POSITIVE));
        assert!(
            err <= tol,
            "{what}: element {i}: got {g:e}, want {w:e}, error {err:e} > {tol:e} (quantum {quantum:e})"
        );
    }
    let _ = worst;
}

/// Runs `f` on a 1-thread and a 3-thread pool and asserts identical storage bytes.
pub fn assert_thread_independent<F: Fn() -> GseTensor + Sync>(what: &str, f: F) {
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(&f)
    };
    let (a, b) = (run(1), run(3));
    assert_eq!(a.shape(), b.shape(), "{what}");
    assert_eq!(
        a.blocks().mantissa_bytes(),
        b.blocks().mantissa_bytes(),
        "{what}"
    );
    assert_eq!(a.blocks().scale_bytes(), b.blocks().scale_bytes(), "{what}");
}

/// The nearest f32 to an exact `i128 * 2^exp` (normal range).
pub fn round_i128(v: i128, exp: i32) -> f64 {
    ((v as f32) as f64) * 2f64.powi(exp)
}

pub fn dy(v: f64) -> Dyadic {
    match gse::f32_bits::classify_f64(v.to_bits()) {
        gse::f32_bits::F32Class::Finite(d) => d,
        _ => panic!("not finite"),
    }
}
