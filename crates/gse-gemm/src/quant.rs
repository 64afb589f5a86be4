//! Re-quantizing one group of operand values to the operand format with integer shifts.
//!
//! The input is a group of values `m[k] * 2^l[k]` (any source format, any mix of exponents);
//! the output is the group scale and mantissas exactly as [`gse::quantize_group`] would give
//! for the same values: scale from the largest magnitude, nearest-even or stochastic rounding,
//! the scale raised by one when rounding carries the largest member to `2^P` (re-rounding from
//! the inputs, never twice), clamped to `[SCALE_MIN, SCALE_MAX]` with saturation at the top.
//! No [`gse::Dyadic`] is built per element.

use gse::rounding::{random_bits, shr_stochastic};
use gse::{Rounding, SCALE_MAX, SCALE_MIN};

/// Quantizes the group `m[k] * 2^l[k]` to mantissas of `p` magnitude bits in `out`.
///
/// Returns `None` for an all-zero group (`out` zeroed), else its scale. `index0` is the random
/// index of element 0 for stochastic rounding (element `k` uses `index0 + k`). Values that
/// saturate at `SCALE_MAX` are added to `saturated`. This is the general per-element form;
/// packing uses [`quantize_uniform`] after aligning a group to one exponent when it can.
pub(crate) fn quantize(
    m: &[i32],
    l: &[i32],
    p: u32,
    rounding: Rounding,
    index0: u64,
    out: &mut [i32],
    saturated: &mut u64,
) -> Option<i32> {
    let n = m.len();
    let (m, l, out) = (&m[..n], &l[..n], &mut out[..n]);
    if n == 0 {
        return None;
    }
    if rounding == Rounding::NearestEven && l.iter().all(|&x| x == l[0]) {
        return quantize_uniform(m, l[0], p, out, saturated);
    }
    let mut top = i32::MIN;
    for k in 0..n {
        if m[k] != 0 {
            top = top.max(l[k] + bit_length(m[k]));
        }
    }
    if top == i32::MIN {
        out.fill(0);
        return None;
    }
    let max = (1i64 << p) - 1;
    let mut scale = top.clamp(SCALE_MIN, SCALE_MAX);
    loop {
        let lsb = scale - p as i32;
        let mut over = 0;
        for k in 0..n {
            let q = match rounding {
                Rounding::NearestEven => round_nearest(m[k], lsb - l[k]),
                Rounding::Stochastic { seed } => {
                    round_stochastic(m[k], lsb - l[k], random_bits(seed, index0 + k as u64))
                }
            };
            over += (q.abs() > max) as u32;
            out[k] = q.clamp(-max, max) as i32;
        }
        if over == 0 {
            return Some(scale);
        }
        if scale == SCALE_MAX {
            *saturated += over as u64;
            return Some(scale);
        }
        scale += 1;
    }
}

/// Nearest-even quantization of a group whose members share one exponent: `m[k] * 2^l`.
/// One shift for the whole group, in loops the compiler vectorizes. Same result as
/// [`quantize`] (and [`gse::quantize_group`]).
#[inline(always)]
pub(crate) fn quantize_uniform(
    m: &[i32],
    l: i32,
    p: u32,
    out: &mut [i32],
    saturated: &mut u64,
) -> Option<i32> {
    let out = &mut out[..m.len()];
    let amax = m.iter().fold(0u32, |a, &v| a.max(v.unsigned_abs()));
    if amax == 0 {
        out.fill(0);
        return None;
    }
    let max = (1u32 << p) - 1;
    let top = l + (32 - amax.leading_zeros() as i32);
    if (SCALE_MIN..=SCALE_MAX).contains(&top) {
        // The common case: the largest member keeps all P bits, d = top - P - l >= ... and a
        // carry (largest member rounding up to 2^P) is settled by one more shift.
        let d = top - p as i32 - l;
        if round_uniform(m, d, max, out) == 0 {
            return Some(top);
        }
        if top < SCALE_MAX {
            round_uniform(m, d + 1, max, out);
            return Some(top + 1);
        }
    }
    // Clamped scales: below SCALE_MIN everything rounds at the smallest quantum (maybe up to
    // a carry), at SCALE_MAX values saturate.
    let mut scale = top.clamp(SCALE_MIN, SCALE_MAX);
    loop {
        let over = round_uniform(m, scale - p as i32 - l, max, out);
        if over == 0 {
            return Some(scale);
        }
        if scale == SCALE_MAX {
            *saturated += over as u64;
            return Some(scale);
        }
        scale += 1;
    }
}

/// Significant bits of `|m|`.
#[inline(always)]
pub(crate) fn bit_length(m: i32) -> i32 {
    32 - m.unsigned_abs().leading_zeros() as i32
}

/// `out[k] = m[k] * 2^-d` rounded nearest-even and clamped to `±max`; returns how many
/// members exceeded `max`. Branch-free over the members, in u32 when `|m| < 2^31`.
#[inline(always)]
fn round_uniform(m: &[i32], d: i32, max: u32, out: &mut [i32]) -> u32 {
    let mut over = 0;
    if d <= 0 {
        let up = (-d).min(32) as u32;
        for (o, &v) in out.iter_mut().zip(m) {
            let mag = (v.unsigned_abs() as u64) << up;
            over += (mag > max as u64) as u32;
            let r = mag.min(max as u64) as i32;
            *o = if v < 0 { -r } else { r };
        }
    } else if d >= 32 {
        // |m| <= 2^31 <= 2^(d-1): below half a quantum, or a tie (2^31) that goes to even 0.
        out.fill(0);
    } else {
        let d = d as u32;
        let half_minus_one = (1u32 << (d - 1)) - 1;
        for (o, &v) in out.iter_mut().zip(m) {
            let mag = v.unsigned_abs();
            // mag <= 2^31, half_minus_one < 2^30: the sum fits u32.
            let r = (mag + half_minus_one + ((mag >> d) & 1)) >> d;
            over += (r > max) as u32;
            let r = r.min(max) as i32;
            *o = if v < 0 { -r } else { r };
        }
    }
    over
}

/// `m * 2^-d` rounded to an integer, nearest with ties to even (`d <= 0` is exact).
#[inline(always)]
pub(crate) fn round_nearest(m: i32, d: i32) -> i64 {
    if d <= 0 {
        return (m as i64) << (-d).min(32);
    }
    if d >= 33 {
        return 0;
    }
    let d = d as u32;
    let mag = m.unsigned_abs() as u64;
    let r = ((mag + (1u64 << (d - 1)) - 1 + ((mag >> d) & 1)) >> d) as i64;
    if m < 0 { -r } else { r }
}

/// `floor(m * 2^-d + u)` for the uniform `u = random / 2^64`, as `Dyadic::round_at_stochastic`.
#[inline(always)]
fn round_stochastic(m: i32, d: i32, random: u64) -> i64 {
    if d <= 0 {
        return (m as i64) << (-d).min(32);
    }
    shr_stochastic(m as i128, d.min(200) as u32, random) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::{Dyadic, GseFormat, SplitMix64, quantize_group};

    fn check(format: GseFormat, m: &[i32], l: &[i32], rounding: Rounding) {
        let vals: Vec<Dyadic> = m
            .iter()
            .zip(l)
            .map(|(&m, &l)| Dyadic::new(m as i64, l))
            .collect();
        let mut want = vec![0; m.len()];
        let (scale, _) = quantize_group(format, &vals, rounding, 1000, &mut want);
        let mut got = vec![0; m.len()];
        let mut sat = 0;
        let s = quantize(
            m,
            l,
            format.magnitude_bits(),
            rounding,
            1000,
            &mut got,
            &mut sat,
        );
        if vals.iter().all(|v| v.is_zero()) {
            assert_eq!(s, None);
        } else {
            assert_eq!(s, Some(scale), "{m:?} {l:?}");
        }
        assert_eq!(got, want, "{format} {m:?} {l:?} {rounding:?}");
    }

    #[test]
    fn matches_quantize_group_on_random_groups() {
        let mut rng = SplitMix64::new(7);
        for case in 0..20_000 {
            let n = 1 + rng.below(40) as usize;
            let bits = 1 + rng.below(25) as u32;
            let uniform = case % 3 == 0;
            let l0 = rng.below(300) as i32 - 160;
            let m: Vec<i32> = (0..n)
                .map(|_| {
                    let v = (rng.next_u64() >> (64 - bits)) as i32;
                    if rng.below(5) == 0 {
                        0
                    } else if rng.below(2) == 0 {
                        -v
                    } else {
                        v
                    }
                })
                .collect();
            let l: Vec<i32> = (0..n)
                .map(|_| {
                    if uniform {
                        l0
                    } else {
                        (l0 + rng.below(40) as i32 - 20).clamp(-151, 128 - bits as i32)
                    }
                })
                .collect();
            let l: Vec<i32> = l.iter().map(|&x| x.min(128 - bits as i32)).collect();
            for format in [GseFormat::INT8, GseFormat::INT4, GseFormat::INT6] {
                check(format, &m, &l, Rounding::NearestEven);
                check(format, &m, &l, Rounding::Stochastic { seed: case });
            }
        }
    }

    #[test]
    fn ties_carries_and_extremes() {
        // 127.5 at lsb -1 ties to 128: carry raises the scale.
        check(GseFormat::INT8, &[255, 1], &[-1, -1], Rounding::NearestEven);
        check(GseFormat::INT8, &[-255, 3], &[-1, 0], Rounding::NearestEven);
        // Near the top of the range: saturation.
        check(
            GseFormat::INT8,
            &[(1 << 24) - 1],
            &[104],
            Rounding::NearestEven,
        );
        // Far below SCALE_MIN: flushes to zero at the smallest quantum.
        check(
            GseFormat::INT8,
            &[3, -7],
            &[-151, -151],
            Rounding::NearestEven,
        );
        check(GseFormat::INT4, &[0, 0], &[5, 9], Rounding::NearestEven);
    }
}
