//! 2-D interpolation (nearest, bilinear, bicubic, Lanczos3) and its backward pass.
//!
//! Every mode is separable: `out[y][x] = sum_i sum_j Wy[y][i] * Wx[x][j] * in[i][j]`, with the
//! boundary rules of burn-flex/burn-ndarray folded into per-axis tap lists `(index, weight)`.
//! The source coordinate of an output index is a rational `num / den`, so floors are exact
//! integer divisions and the weights are exact rationals (bicubic: a cubic polynomial in
//! `num / den`; Lanczos3: through the integer sine of `fft`), each rounded once to a 62-bit
//! dyadic. Sums run in a fixed order and the output is rounded once to the stream format.
//! The backward pass is the transposed map: the same weights gathered per input index.

use burn_backend::ops::{InterpolateMode, InterpolateOptions};
use gse::Dyadic;
use gse_kernels::generate;

use crate::GsqTensor;
use crate::ops::fft::{cos_sin_turns, pi, q62};

/// Per output index along one axis, the input indices it reads and their weights.
type Taps = Vec<Vec<(usize, Dyadic)>>;

/// `n / d` rounded to odd at 62 bits.
fn ratio(n: i128, d: i128) -> Dyadic {
    Dyadic::from_i128(n, 0)
        .div(Dyadic::from_i128(d, 0))
        .expect("burn-gsq interpolate: zero denominator in a weight")
}

/// The source coordinate of output index `o` as `(num, den)`, `den > 0`: `o * (in - 1) /
/// (out - 1)` when aligning corners, else the half-pixel `(o + 1/2) * in / out - 1/2`.
fn source(o: usize, input: usize, output: usize, align_corners: bool) -> (i128, i128) {
    let (o, input, output) = (o as i128, input as i128, output as i128);
    if align_corners {
        (o * (input - 1), (output - 1).max(1))
    } else {
        ((2 * o + 1) * input - output, 2 * output)
    }
}

/// Nearest: `floor(o * in / out)` (burn ignores `align_corners` here).
fn nearest_taps(input: usize, output: usize) -> Taps {
    (0..output)
        .map(|o| vec![((o * input / output).min(input - 1), Dyadic::ONE)])
        .collect()
}

/// Bilinear: coordinates below 0 clamp to 0; the upper neighbour clamps to the last index.
fn bilinear_taps(input: usize, output: usize, align_corners: bool) -> Taps {
    (0..output)
        .map(|o| {
            let (num, den) = source(o, input, output, align_corners);
            let (low, frac) = if num < 0 {
                (0, 0)
            } else {
                ((num / den) as usize, num % den)
            };
            let high = (low + 1).min(input - 1);
            vec![(low, ratio(den - frac, den)), (high, ratio(frac, den))]
        })
        .collect()
}

/// Keys' cubic kernel with `a = -3/4` at distance `p / den`, exactly:
/// `(5/4 t - 9/4) t^2 + 1` below 1 and `-3/4 (t^3 - 5 t^2 + 8 t - 4)` below 2.
fn cubic_weight(p: i128, den: i128) -> Dyadic {
    let d3 = 4 * den * den * den;
    let num = if p < den {
        (5 * p - 9 * den) * p * p + d3
    } else if p < 2 * den {
        -3 * (p * p * p - 5 * p * p * den + 8 * p * den * den - 4 * den * den * den)
    } else {
        0
    };
    ratio(num, d3)
}

/// Bicubic: four taps around `floor(coord)`, indices clamped to the input (unclamped
/// coordinates, as burn's backends do).
fn bicubic_taps(input: usize, output: usize, align_corners: bool) -> Taps {
    let last = input as i128 - 1;
    (0..output)
        .map(|o| {
            let (num, den) = source(o, input, output, align_corners);
            let (fl, frac) = (num.div_euclid(den), num.rem_euclid(den));
            (-1..=2i128)
                .map(|d| {
                    (
                        (fl + d).clamp(0, last) as usize,
                        cubic_weight((frac - d * den).abs(), den),
                    )
                })
                .collect()
        })
        .collect()
}

/// `sin(pi x) sin(pi x / 3) / (pi^2 x^2 / 3)` at `x = p / den`.
fn lanczos3_weight(p: i128, den: i128) -> Dyadic {
    if p == 0 {
        return Dyadic::ONE;
    }
    if p.abs() >= 3 * den {
        return Dyadic::ZERO;
    }
    let (p64, den64) = (p as i64, den as i64);
    let s1 = q62(cos_sin_turns(p64, 2 * den64).1);
    let s3 = q62(cos_sin_turns(p64, 6 * den64).1);
    let num = s1.mul(s3).mul(Dyadic::from_i128(3 * den * den, 0));
    let pi = pi();
    let denom = pi.mul(pi).mul(Dyadic::from_i128(p * p, 0));
    num.div(denom).unwrap_or(Dyadic::ZERO)
}

/// Lanczos3: six taps `floor(coord) - 2 ..= floor(coord) + 3`; taps outside the input are
/// skipped and the rest renormalized to sum to one (burn-flex's rule; since the skip is
/// per axis, renormalizing per axis equals renormalizing the 2-D window).
fn lanczos3_taps(input: usize, output: usize, align_corners: bool) -> Taps {
    (0..output)
        .map(|o| {
            let (num, den) = source(o, input, output, align_corners);
            let fl = num.div_euclid(den);
            let taps: Vec<(usize, Dyadic)> = (-2..=3i128)
                .map(|k| fl + k)
                .filter(|&i| i >= 0 && i < input as i128)
                .map(|i| (i as usize, lanczos3_weight(num - i * den, den)))
                .collect();
            let total = taps.iter().fold(Dyadic::ZERO, |s, t| s.add(t.1));
            if total.is_zero() {
                return taps;
            }
            taps.into_iter()
                .map(|(i, w)| (i, w.div(total).unwrap_or(Dyadic::ZERO)))
                .collect()
        })
        .collect()
}

/// The taps of `mode` from an axis of `input` to one of `output`.
fn taps(mode: &InterpolateMode, input: usize, output: usize, align_corners: bool) -> Taps {
    match mode {
        InterpolateMode::Nearest => nearest_taps(input, output),
        InterpolateMode::Bilinear => bilinear_taps(input, output, align_corners),
        InterpolateMode::Bicubic => bicubic_taps(input, output, align_corners),
        InterpolateMode::Lanczos3 => lanczos3_taps(input, output, align_corners),
    }
}

/// For each input index, the output indices reading it with their weights (in output order).
fn transpose(taps: &Taps, input: usize) -> Taps {
    let mut out = vec![Vec::new(); input];
    for (o, list) in taps.iter().enumerate() {
        for &(i, w) in list {
            out[i].push((o, w));
        }
    }
    out
}

fn dims4(t: &GsqTensor, op: &str, what: &str) -> [usize; 4] {
    let d = t.dims();
    assert!(
        d.len() == 4,
        "burn-gsq {op}: {what} must be [batch, channels, height, width], got {d:?}"
    );
    [d[0], d[1], d[2], d[3]]
}

/// Applies the separable map `rows x cols` to every plane of `src`, row-major values of shape
/// `[batch, channels, h, w]`, giving planes of `rows.len() x cols.len()` as a result of `like`.
fn separable(
    like: &GsqTensor,
    src: &[Dyadic],
    [batch, channels, h, w]: [usize; 4],
    rows: &Taps,
    cols: &Taps,
) -> GsqTensor {
    let (oh, ow) = (rows.len(), cols.len());
    let value = |i: usize| {
        let base = (i / (oh * ow)) * h * w;
        let mut acc = Dyadic::ZERO;
        for &(y, wy) in &rows[(i / ow) % oh] {
            let row = &src[base + y * w..][..w];
            let mut inner = Dyadic::ZERO;
            for &(x, wx) in &cols[i % ow] {
                inner = inner.add(wx.mul(row[x]));
            }
            acc = acc.add(wy.mul(inner));
        }
        acc
    };
    let (fmt, rounding) = like.out();
    like.derive(generate(&[batch, channels, oh, ow], fmt, rounding, value))
}

pub(crate) fn interpolate(
    x: GsqTensor,
    output_size: [usize; 2],
    options: InterpolateOptions,
) -> GsqTensor {
    let [b, c, h, w] = dims4(&x, "interpolate", "input");
    assert!(
        h > 0 && w > 0,
        "burn-gsq interpolate: input spatial dimensions must be non-zero"
    );
    let rows = taps(&options.mode, h, output_size[0], options.align_corners);
    let cols = taps(&options.mode, w, output_size[1], options.align_corners);
    separable(&x, &x.values(), [b, c, h, w], &rows, &cols)
}

/// Gradient with respect to `x` of `interpolate(x, output_size, options)`, given the output
/// gradient `grad` (all modes, Lanczos3 included).
pub(crate) fn interpolate_backward(
    x: GsqTensor,
    grad: GsqTensor,
    output_size: [usize; 2],
    options: InterpolateOptions,
) -> GsqTensor {
    let op = "interpolate_backward";
    let [b, c, h, w] = dims4(&x, op, "input");
    let [gb, gc, gh, gw] = dims4(&grad, op, "grad");
    assert!(
        [gb, gc, gh, gw] == [b, c, output_size[0], output_size[1]],
        "burn-gsq {op}: grad {:?} does not match input {:?} resized to {output_size:?}",
        grad.dims(),
        x.dims()
    );
    assert!(
        h > 0 && w > 0,
        "burn-gsq {op}: input spatial dimensions must be non-zero"
    );
    let rows = transpose(&taps(&options.mode, h, gh, options.align_corners), h);
    let cols = transpose(&taps(&options.mode, w, gw, options.align_corners), w);
    separable(&x, &grad.values(), [b, c, gh, gw], &rows, &cols)
}

#[cfg(test)]
#[allow(clippy::float_arithmetic)]
mod tests {
    use super::*;

    fn f(d: Dyadic) -> f64 {
        d.mant as f64 * (d.exp as f64).exp2()
    }

    #[test]
    fn cubic_weights_match_the_keys_kernel() {
        let keys = |t: f64| {
            let (a, t) = (-0.75f64, t.abs());
            if t < 1.0 {
                ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
            } else if t < 2.0 {
                ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a
            } else {
                0.0
            }
        };
        for p in 0..=16 {
            assert!(
                (f(cubic_weight(p, 8)) - keys(p as f64 / 8.0)).abs() < 1e-15,
                "p = {p}"
            );
        }
    }

    #[test]
    fn lanczos_weights_match_f64() {
        let l = |x: f64| {
            let px = core::f64::consts::PI * x;
            (px.sin() * (px / 3.0).sin()) / (px * px / 3.0)
        };
        for p in [-23i128, -8, -5, -1, 1, 3, 7, 12, 16, 23] {
            let got = f(lanczos3_weight(p, 8));
            assert!((got - l(p as f64 / 8.0)).abs() < 1e-14, "p = {p}: {got}");
        }
        assert_eq!(lanczos3_weight(24, 8), Dyadic::ZERO);
    }
}
