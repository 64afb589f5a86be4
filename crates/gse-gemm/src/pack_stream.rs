//! The fast re-quantization of one K-group for STREAM16 operands, the format every float
//! tensor of the backend is stored in: an i16 mantissa and a scale byte per value.
//!
//! STREAM16 mantissas are normalized (`2^14 <= |m| < 2^15`) unless a value sits at the bottom
//! of the scale range, so the group scale is simply the largest scale byte of its non-zero
//! members: no per-element bit length and no alignment pass. Each member is then rounded
//! nearest-even with one right shift, `d = s - e + (15 - P)`, in one loop over the lanes that
//! the compiler vectorizes; a group whose largest member rounds up to `2^P` is rounded again
//! one step coarser, exactly as [`gse::quantize_group`] settles a carry.
//!
//! A group with an unnormalized member or a scale byte at the very top (where a carry would
//! saturate), or a lines-contiguous panel whose whole vector of lanes would read past the last
//! line, returns `false`, and the caller takes the general path; both give the same mantissas
//! and scales, so the choice never shows in the result.

use gse::SCALE_BIAS;

use crate::pack::{Lines, ZERO, shl};

/// STREAM16 values: `m * 2^(e - SCALE_BIAS - 15)` with `m` an i16 and `e` a scale byte.
#[derive(Clone, Copy)]
pub(crate) struct Stream16<'a> {
    pub mant: &'a [i16],
    pub scale: &'a [u8],
}

/// Magnitude bits of STREAM16 mantissas.
const STREAM_BITS: u32 = 15;
/// Smallest normalized magnitude.
const NORMAL: u32 = 1 << (STREAM_BITS - 1);

/// Where one group of one panel lies in the source.
#[derive(Clone, Copy)]
pub(crate) struct GroupAt<'a> {
    pub lines: &'a Lines<'a>,
    pub line0: usize,
    pub live: usize,
    pub k0: usize,
    pub gs: usize,
}

impl GroupAt<'_> {
    fn index(&self, line: usize, k: usize) -> usize {
        let l = self.lines;
        (l.offset
            + (self.line0 + line) as isize * l.line_stride
            + (self.k0 + k) as isize * l.k_stride) as usize
    }

    /// K indices of the group inside the matrix (the last group may be short).
    fn kn(&self) -> usize {
        self.gs.min(self.lines.k - self.k0)
    }
}

/// Rounding constants of one lane: a right shift by `d` with nearest-even.
#[derive(Clone, Copy)]
struct Shift {
    d: u32,
    half: u32,
    odd: u32,
}

impl Shift {
    #[inline(always)]
    fn new<const VSHIFT: bool>(d: u32) -> Self {
        let d = d.min(31);
        Self {
            d,
            half: (shl::<VSHIFT>(1, d) >> 1).wrapping_sub((d > 0) as u32),
            odd: (d > 0) as u32,
        }
    }

    /// `|m| / 2^d` rounded nearest-even; `|m| < 2^15` and `half < 2^30` keep it in u32.
    #[inline(always)]
    fn round(self, mag: u32) -> u32 {
        (mag + self.half + ((mag >> self.d) & self.odd)) >> self.d
    }
}

/// `r` with the sign of `m`, branch-free (a select here compiles to masked stores).
#[inline(always)]
fn signed(m: i32, r: u32) -> i32 {
    let sign = m >> 31;
    (r as i32 ^ sign) - sign
}

/// Lines contiguous in storage (`line_stride == 1`: a row-major B, a transposed A): quantizes
/// the group's lanes into `q` (`[k][lane]`, lanes past `live` zero) and `scales`. All `WP`
/// lanes are read (they exist: checked), so the loops run over whole vectors. `false`: fall
/// back.
#[inline(always)]
pub(crate) fn quantize_lanes<const WP: usize, const VSHIFT: bool>(
    src: Stream16<'_>,
    at: GroupAt<'_>,
    p: u32,
    q: &mut [i32],
    scales: &mut [i32; WP],
) -> bool {
    if at.line0 + WP > at.lines.lines {
        return false;
    }
    let kn = at.kn();
    let mut emax = [-1i32; WP];
    let mut unnormal = 0u32;
    for kk in 0..kn {
        let i = at.index(0, kk);
        let (m, e) = (&src.mant[i..i + WP], &src.scale[i..i + WP]);
        for w in 0..WP {
            let mag = (m[w] as i32).unsigned_abs();
            let nonzero = mag != 0;
            unnormal |= (nonzero & (mag < NORMAL)) as u32;
            emax[w] = emax[w].max(if nonzero { e[w] as i32 } else { -1 });
        }
    }
    if unnormal != 0 || emax.contains(&255) {
        return false;
    }
    let d0 = STREAM_BITS - p;
    // Per lane `emax + 15 - P`: member `e` shifts right by `base - e` (>= 15 - P).
    let base = emax.map(|s| (s.max(0) as u32) + d0);
    let max = (1u32 << p) - 1;
    let mut over = [0u32; WP];
    for kk in 0..kn {
        let i = at.index(0, kk);
        let (m, e) = (&src.mant[i..i + WP], &src.scale[i..i + WP]);
        let row = &mut q[kk * WP..(kk + 1) * WP];
        for w in 0..WP {
            let mv = m[w] as i32;
            // Non-zero members have `e <= emax`; zeros round to 0 whatever shift their
            // (unrelated) scale byte gives.
            let lane = Shift::new::<VSHIFT>(base[w].wrapping_sub(e[w] as u32));
            let r = lane.round(mv.unsigned_abs());
            over[w] |= (r > max) as u32;
            row[w] = signed(mv, r);
        }
    }
    q[kn * WP..].fill(0);
    for w in at.live..WP {
        emax[w] = -1;
        over[w] = 0;
        for kk in 0..kn {
            q[kk * WP + w] = 0;
        }
    }
    for w in 0..WP {
        scales[w] = if emax[w] < 0 {
            ZERO
        } else {
            emax[w] - SCALE_BIAS
        };
        if over[w] != 0 {
            // The largest member rounded up to 2^P: one step coarser, from the inputs.
            scales[w] += 1;
            for kk in 0..kn {
                let i = at.index(w, kk);
                let mv = src.mant[i] as i32;
                let d = (base[w] + 1).wrapping_sub(src.scale[i] as u32);
                let r = Shift::new::<VSHIFT>(d).round(mv.unsigned_abs());
                q[kk * WP + w] = signed(mv, r);
            }
        }
    }
    true
}

/// K contiguous in storage (`k_stride == 1`, a row-major A): quantizes each live line's group
/// into `q` *lane-major* (`[lane][k]`: each line's values stay contiguous, as they were read;
/// lanes `live..WP` zero) and `scales`. `false`: fall back.
#[inline(always)]
pub(crate) fn quantize_runs<const WP: usize, const VSHIFT: bool>(
    src: Stream16<'_>,
    at: GroupAt<'_>,
    p: u32,
    q: &mut [i32],
    scales: &mut [i32; WP],
) -> bool {
    let (kn, gs) = (at.kn(), at.gs);
    let d0 = STREAM_BITS - p;
    let max = (1u32 << p) - 1;
    for w in 0..at.live {
        let i = at.index(w, 0);
        let (m, e) = (&src.mant[i..i + kn], &src.scale[i..i + kn]);
        let (mut emax, mut unnormal) = (-1i32, 0u32);
        for (&mv, &ev) in m.iter().zip(e) {
            let mag = (mv as i32).unsigned_abs();
            let nonzero = mag != 0;
            unnormal |= (nonzero & (mag < NORMAL)) as u32;
            emax = emax.max(if nonzero { ev as i32 } else { -1 });
        }
        if unnormal != 0 || emax == 255 {
            return false;
        }
        let line_q = &mut q[w * gs..(w + 1) * gs];
        line_q[kn..].fill(0);
        if emax < 0 {
            scales[w] = ZERO;
            line_q[..kn].fill(0);
            continue;
        }
        let mut extra = 0;
        // A carry needs one more pass one step coarser, which cannot carry again.
        for pass in 0..2 {
            let base = emax as u32 + d0 + extra;
            let mut over = 0u32;
            for (o, (&mv, &ev)) in line_q[..kn].iter_mut().zip(m.iter().zip(e)) {
                let mv = mv as i32;
                let lane = Shift::new::<VSHIFT>(base.wrapping_sub(ev as u32));
                let r = lane.round(mv.unsigned_abs());
                over |= (r > max) as u32;
                *o = signed(mv, r);
            }
            if over == 0 || pass == 1 {
                break;
            }
            extra = 1;
        }
        scales[w] = emax - SCALE_BIAS + extra as i32;
    }
    q[at.live * gs..].fill(0);
    for s in &mut scales[at.live..] {
        *s = ZERO;
    }
    true
}
