//! Real FFTs along one dimension, in fixed-point integer arithmetic, and the integer sine and
//! cosine their twiddles (and Lanczos interpolation) need.
//!
//! Each fiber is converted to 128-bit fixed point against its own largest magnitude `2^E`:
//! values become integers below `2^62` in units of `2^(E - 62)`. Power-of-two lengths run an
//! iterative radix-2 FFT whose butterflies halve their outputs, so every stage stays below
//! `2^62` in modulus (no overflow whatever the data) and the `1/n` of the inverse comes for free;
//! other lengths run a plain O(n^2) DFT. Twiddles are `Q62` integers from [`cos_sin_turns`].
//!
//! Error bound against the exact transform of the fiber's values, with `M` its largest input
//! magnitude and `L = log2(n)`: the input conversion errs by half a unit, each stage by at most
//! `0.5` (rounded twiddle product) `+ 0.5` (rounded halving) `+ 4` (twiddle error) units of its
//! own scale, and the unscaled remainder of the network amplifies a stage-`s` error by at most
//! `2^(L - s)` while that scale is `2^(s - L)` times the last one. So each forward bin errs by
//! less than `10 * (L + 1) * n * 2^-62 * M`, each inverse sample by less than
//! `10 * (L + 1) * 2^-62 * M` (`M` then the spectrum's largest component); the O(n^2) DFT by
//! `10 * n * 2^-62 * M` and `10 * 2^-62 * M`. At n = 2^16 that is 2^-38.6 of `M`, about 2^-45
//! of a typical bin, against roughly `2^-24 * log2(n)` relative for an f32 FFT. The outputs are
//! then rounded once to the stream format (2^-25 relative for f32-emulating EXACT).
//!
//! Semantics follow burn: `rfft` returns bins `0..=n/2` (real and imaginary parts as two
//! tensors); `n` zero-pads or truncates the signal; `irfft` reads bins `0..=n/2` (missing bins
//! are zero, extra bins ignored, the imaginary parts of the DC and Nyquist bins ignored) and its
//! `n` defaults to `2 * (bins - 1)`. Unlike burn-flex, which rounds a non-power-of-two `n` up
//! to a power of two, other lengths compute the true length-`n` DFT (burn's public API only
//! admits powers of two).

use gse::Dyadic;
use gse_kernels::generate;
use rayon::prelude::*;

use crate::GsqTensor;

/// `pi * 2^62`, rounded down.
const PI_Q62: u128 = 14_488_038_916_154_245_684;
/// Fraction bits of fixed-point twiddles and sines.
const Q: u32 = 62;
const ONE_Q: i128 = 1 << Q;

/// `round(v / 2^k)` for `k >= 1`, halves rounded up.
#[inline]
fn shr_round(v: i128, k: u32) -> i128 {
    (v + (1 << (k - 1))) >> k
}

/// `(cos, sin)` of `phi` in `[0, pi/4]`, all in Q62, by Taylor series. Each step rounds once;
/// the series converge to below one unit within 13 terms, so the error is a few units of 2^-62.
fn cos_sin_octant(phi: i128) -> (i128, i128) {
    let x2 = shr_round(phi * phi, Q);
    let (mut sin, mut term) = (phi, phi);
    let mut k = 1i128;
    while term != 0 {
        term = -shr_round(term * x2, Q) / ((2 * k) * (2 * k + 1));
        sin += term;
        k += 1;
    }
    let (mut cos, mut term) = (ONE_Q, ONE_Q);
    let mut k = 1i128;
    while term != 0 {
        term = -shr_round(term * x2, Q) / ((2 * k - 1) * (2 * k));
        cos += term;
        k += 1;
    }
    (cos, sin)
}

/// `(cos, sin)` of the angle `2 * pi * num / den` as Q62 integers (values in `[-2^62, 2^62]`).
/// Reduction is exact integer arithmetic, so multiples of a quarter turn give exact 0 and ±1.
/// `den` must be positive and below 2^60.
pub(crate) fn cos_sin_turns(num: i64, den: i64) -> (i128, i128) {
    assert!(
        den > 0 && den < 1 << 60,
        "burn-gsq: angle denominator {den} out of range"
    );
    let (num, den) = (num as i128, den as i128);
    let r = num.rem_euclid(den);
    // Octant of the turn and the position inside it, as a fraction of den.
    let (octant, rem) = ((8 * r) / den, (8 * r) % den);
    let within = if octant % 2 == 0 { rem } else { den - rem };
    // phi = (pi / 4) * within / den, rounded to Q62.
    let phi = ((PI_Q62 * within as u128 + 2 * den as u128) / (4 * den as u128)) as i128;
    let (c, s) = cos_sin_octant(phi);
    match octant {
        0 => (c, s),
        1 => (s, c),
        2 => (-s, c),
        3 => (-c, s),
        4 => (-c, -s),
        5 => (-s, -c),
        6 => (s, -c),
        _ => (c, -s),
    }
}

/// A Q62 fixed-point value as a dyadic.
pub(crate) fn q62(v: i128) -> Dyadic {
    Dyadic::from_i128(v, -(Q as i32))
}

/// `pi` as a dyadic (62 bits).
pub(crate) fn pi() -> Dyadic {
    Dyadic::from_i128(PI_Q62 as i128, -(Q as i32))
}

/// Mantissa bound of fixed-point samples: `|z| < 2^BITS` for every complex value in flight.
const BITS: i32 = 62;

/// A fiber's samples as fixed-point integers in units of `2^unit`.
fn to_fixed(values: &[Dyadic]) -> (Vec<i128>, i32) {
    let top = values.iter().map(|v| v.top()).max().unwrap_or(i32::MIN);
    if top == i32::MIN {
        return (vec![0; values.len()], 0);
    }
    // Real inputs have |v| < 2^top, so |v| < 2^BITS in units of 2^(top - BITS).
    let unit = top - BITS;
    (
        values.iter().map(|v| v.round_at(unit) as i128).collect(),
        unit,
    )
}

/// Q62 twiddles `e^(-2 pi i k / n)` for `k < n / 2`.
fn twiddles(n: usize) -> Vec<(i128, i128)> {
    (0..n / 2)
        .map(|k| {
            let (c, s) = cos_sin_turns(k as i64, n as i64);
            (c, -s)
        })
        .collect()
}

/// In-place radix-2 FFT of a power-of-two length, each stage halved: the result is
/// `(1/n) * sum_t z[t] * e^(-+2 pi i k t / n)` (sign `-` forward, `+` inverse).
fn fft_scaled(re: &mut [i128], im: &mut [i128], tw: &[(i128, i128)], inverse: bool) {
    let n = re.len();
    let bits = n.trailing_zeros();
    if n < 2 {
        return;
    }
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let (half, step) = (len / 2, n / len);
        for start in (0..n).step_by(len) {
            for k in 0..half {
                let (wr, wi) = tw[k * step];
                let wi = if inverse { -wi } else { wi };
                let (a, b) = (start + k, start + k + half);
                // |w * z| <= |z| < 2^62: both products fit comfortably in an i128.
                let tr = shr_round(wr * re[b] - wi * im[b], Q);
                let ti = shr_round(wr * im[b] + wi * re[b], Q);
                let (ar, ai) = (re[a], im[a]);
                re[a] = shr_round(ar + tr, 1);
                im[a] = shr_round(ai + ti, 1);
                re[b] = shr_round(ar - tr, 1);
                im[b] = shr_round(ai - ti, 1);
            }
        }
        len <<= 1;
    }
}

/// Plain DFT of any length, unscaled: `sum_t z[t] * e^(-+2 pi i k t / n)` for `k < bins`.
fn dft(re: &[i128], im: &[i128], bins: usize, inverse: bool) -> Vec<(i128, i128)> {
    let n = re.len();
    let tw: Vec<(i128, i128)> = (0..n).map(|k| cos_sin_turns(k as i64, n as i64)).collect();
    (0..bins)
        .map(|k| {
            let (mut sr, mut si) = (0i128, 0i128);
            for t in 0..n {
                let (c, s) = tw[(k * t) % n];
                let s = if inverse { s } else { -s };
                sr += shr_round(c * re[t] - s * im[t], Q);
                si += shr_round(c * im[t] + s * re[t], Q);
            }
            (sr, si)
        })
        .collect()
}

/// Forward transform of one real fiber (already padded/truncated to `n`): bins `0..=n/2`.
fn rfft_fiber(signal: &[Dyadic], tw: &[(i128, i128)]) -> Vec<(Dyadic, Dyadic)> {
    let n = signal.len();
    let bins = n / 2 + 1;
    let (mut re, unit) = to_fixed(signal);
    let mut im = vec![0i128; n];
    if n.is_power_of_two() {
        fft_scaled(&mut re, &mut im, tw, false);
        // The stages divided by n = 2^log2(n); give it back in the exponent.
        let unit = unit + n.trailing_zeros() as i32;
        (0..bins)
            .map(|k| {
                (
                    Dyadic::from_i128(re[k], unit),
                    Dyadic::from_i128(im[k], unit),
                )
            })
            .collect()
    } else {
        dft(&re, &im, bins, false)
            .into_iter()
            .map(|(r, i)| (Dyadic::from_i128(r, unit), Dyadic::from_i128(i, unit)))
            .collect()
    }
}

/// Inverse transform of one half spectrum to `n` real samples.
fn irfft_fiber(
    spec_re: &[Dyadic],
    spec_im: &[Dyadic],
    n: usize,
    tw: &[(i128, i128)],
) -> Vec<Dyadic> {
    // The full Hermitian spectrum: bins beyond the input are zero; bin n - k mirrors bin k.
    let half = n / 2;
    let bin = |k: usize, part: &[Dyadic]| part.get(k).copied().unwrap_or(Dyadic::ZERO);
    let mut full: Vec<(Dyadic, Dyadic)> = vec![(Dyadic::ZERO, Dyadic::ZERO); n];
    for k in 0..=half.min(n - 1) {
        let (r, mut i) = (bin(k, spec_re), bin(k, spec_im));
        // The DC bin (and the Nyquist bin of an even length) must be real; burn ignores their
        // imaginary parts.
        if k == 0 || 2 * k == n {
            i = Dyadic::ZERO;
        }
        full[k] = (r, i);
        if k != 0 && 2 * k != n {
            full[n - k] = (r, i.neg());
        }
    }
    let flat: Vec<Dyadic> = full.iter().flat_map(|&(r, i)| [r, i]).collect();
    let (fixed, unit) = to_fixed(&flat);
    let mut re: Vec<i128> = fixed.iter().step_by(2).copied().collect();
    let mut im: Vec<i128> = fixed.iter().skip(1).step_by(2).copied().collect();
    if n.is_power_of_two() {
        fft_scaled(&mut re, &mut im, tw, true);
        re.iter().map(|&r| Dyadic::from_i128(r, unit)).collect()
    } else {
        let count = Dyadic::from_int(n as i64);
        dft(&re, &im, n, true)
            .into_iter()
            .map(|(r, _)| {
                Dyadic::from_i128(r, unit)
                    .div(count)
                    .unwrap_or(Dyadic::ZERO)
            })
            .collect()
    }
}

/// `(outer, len, inner)`: the tensor seen as `[outer, len, inner]` around `dim`.
fn around(dims: &[usize], dim: usize, op: &str) -> (usize, usize, usize) {
    assert!(
        dim < dims.len(),
        "burn-gsq {op}: dim {dim} out of range for shape {dims:?}"
    );
    (
        dims[..dim].iter().product(),
        dims[dim],
        dims[dim + 1..].iter().product(),
    )
}

/// Builds the output of shape `dims` with `dims[dim] = len`, fiber `f = outer * inner + i`
/// contributing `fibers[f][k]` at position `k` along `dim`.
fn from_fibers(
    like: &GsqTensor,
    mut dims: Vec<usize>,
    dim: usize,
    fibers: &[Vec<Dyadic>],
) -> GsqTensor {
    let len = fibers.first().map_or(0, Vec::len);
    let inner: usize = dims[dim + 1..].iter().product();
    dims[dim] = len;
    let (fmt, rounding) = like.out();
    like.derive(generate(&dims, fmt, rounding, |i| {
        let (o, rest) = (i / (len * inner), i % (len * inner));
        fibers[o * inner + rest % inner][rest / inner]
    }))
}

/// Real FFT along `dim`: `(real, imaginary)` of bins `0..=n/2`, `n` defaulting to the length.
pub(crate) fn rfft(signal: GsqTensor, dim: usize, n: Option<usize>) -> (GsqTensor, GsqTensor) {
    let dims = signal.dims().to_vec();
    let (outer, len, inner) = around(&dims, dim, "rfft");
    let n = n.unwrap_or(len);
    assert!(
        n > 0,
        "burn-gsq rfft: the transform length must be positive"
    );
    let values = signal.values();
    let tw = if n.is_power_of_two() {
        twiddles(n)
    } else {
        Vec::new()
    };
    let spectra: Vec<Vec<(Dyadic, Dyadic)>> = (0..outer * inner)
        .into_par_iter()
        .map(|f| {
            let (o, i) = (f / inner, f % inner);
            let fiber: Vec<Dyadic> = (0..n)
                .map(|t| {
                    if t < len {
                        values[(o * len + t) * inner + i]
                    } else {
                        Dyadic::ZERO
                    }
                })
                .collect();
            rfft_fiber(&fiber, &tw)
        })
        .collect();
    let re: Vec<Vec<Dyadic>> = spectra
        .iter()
        .map(|s| s.iter().map(|p| p.0).collect())
        .collect();
    let im: Vec<Vec<Dyadic>> = spectra
        .iter()
        .map(|s| s.iter().map(|p| p.1).collect())
        .collect();
    let mut out_dims = dims.clone();
    out_dims[dim] = n / 2 + 1;
    if outer * inner == 0 {
        let (fmt, rounding) = signal.out();
        let empty = generate(&out_dims, fmt, rounding, |_| Dyadic::ZERO);
        return (signal.derive(empty.clone()), signal.derive(empty));
    }
    (
        from_fibers(&signal, dims.clone(), dim, &re),
        from_fibers(&signal, dims, dim, &im),
    )
}

/// Inverse real FFT along `dim` to `n` samples (default `2 * (bins - 1)`).
pub(crate) fn irfft(
    spectrum_re: GsqTensor,
    spectrum_im: GsqTensor,
    dim: usize,
    n: Option<usize>,
) -> GsqTensor {
    let dims = spectrum_re.dims().to_vec();
    assert!(
        spectrum_im.dims() == dims.as_slice(),
        "burn-gsq irfft: real part {dims:?} and imaginary part {:?} differ in shape",
        spectrum_im.dims()
    );
    let (outer, bins, inner) = around(&dims, dim, "irfft");
    assert!(
        bins > 0,
        "burn-gsq irfft: the spectrum has no bins along dim {dim}"
    );
    let n = n.unwrap_or(2 * (bins - 1));
    assert!(
        n > 0,
        "burn-gsq irfft: the output length must be positive (one bin needs an explicit n)"
    );
    let (re, im) = (spectrum_re.values(), spectrum_im.values());
    let tw = if n.is_power_of_two() {
        twiddles(n)
    } else {
        Vec::new()
    };
    let signals: Vec<Vec<Dyadic>> = (0..outer * inner)
        .into_par_iter()
        .map(|f| {
            let (o, i) = (f / inner, f % inner);
            let at = |k: usize| (o * bins + k) * inner + i;
            let fr: Vec<Dyadic> = (0..bins).map(|k| re[at(k)]).collect();
            let fi: Vec<Dyadic> = (0..bins).map(|k| im[at(k)]).collect();
            irfft_fiber(&fr, &fi, n, &tw)
        })
        .collect();
    if outer * inner == 0 {
        let mut out_dims = dims;
        out_dims[dim] = n;
        let (fmt, rounding) = spectrum_re.out();
        return spectrum_re.derive(generate(&out_dims, fmt, rounding, |_| Dyadic::ZERO));
    }
    from_fibers(&spectrum_re, dims, dim, &signals)
}

#[cfg(test)]
#[allow(clippy::float_arithmetic)]
mod tests {
    use super::*;

    fn to_f64(v: i128) -> f64 {
        v as f64 / ONE_Q as f64
    }

    #[test]
    fn sines_and_cosines_match_f64() {
        for den in [1i64, 2, 3, 5, 7, 8, 12, 100, 1024, 1 << 20] {
            for num in [
                -3 * den - 1,
                -1,
                0,
                1,
                den / 3,
                den / 2,
                den - 1,
                5 * den + 3,
            ] {
                let (c, s) = cos_sin_turns(num, den);
                let angle = core::f64::consts::TAU * (num.rem_euclid(den) as f64) / (den as f64);
                assert!((to_f64(c) - angle.cos()).abs() < 1e-15, "cos {num}/{den}");
                assert!((to_f64(s) - angle.sin()).abs() < 1e-15, "sin {num}/{den}");
            }
        }
        assert_eq!(cos_sin_turns(1, 4), (0, ONE_Q));
        assert_eq!(cos_sin_turns(2, 4), (-ONE_Q, 0));
    }

    #[test]
    fn long_transforms_match_f64() {
        let n = 1024usize;
        let mut state = 7u64;
        let x: Vec<Dyadic> = (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                Dyadic::new((state >> 40) as i64 - (1 << 23), -20)
            })
            .collect();
        let xf: Vec<f64> = x
            .iter()
            .map(|d| d.mant as f64 * (d.exp as f64).exp2())
            .collect();
        let m = xf.iter().fold(0f64, |a, v| a.max(v.abs()));
        let f = |d: Dyadic| d.mant as f64 * (d.exp as f64).exp2();
        let spectrum = rfft_fiber(&x, &twiddles(n));
        for (k, (re, im)) in spectrum.iter().enumerate() {
            let (mut sr, mut si) = (0.0, 0.0);
            for (t, v) in xf.iter().enumerate() {
                let a = -core::f64::consts::TAU * ((k * t) % n) as f64 / n as f64;
                sr += v * a.cos();
                si += v * a.sin();
            }
            // f64's own error here is about n * 2^-53 * M; ours is far below it.
            assert!((f(*re) - sr).abs() < 1e-12 * n as f64 * m, "bin {k} re");
            assert!((f(*im) - si).abs() < 1e-12 * n as f64 * m, "bin {k} im");
        }
        let re: Vec<Dyadic> = spectrum.iter().map(|p| p.0).collect();
        let im: Vec<Dyadic> = spectrum.iter().map(|p| p.1).collect();
        let back = irfft_fiber(&re, &im, n, &twiddles(n));
        for (t, (b, v)) in back.iter().zip(&xf).enumerate() {
            assert!(
                (f(*b) - v).abs() < 1e-14 * m,
                "sample {t}: {} vs {v}",
                f(*b)
            );
        }
    }

    #[test]
    fn pi_constant_matches() {
        assert!((to_f64(PI_Q62 as i128) - core::f64::consts::PI).abs() < 1e-15);
    }
}
