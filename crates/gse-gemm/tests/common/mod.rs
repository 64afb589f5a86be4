//! Test helpers: seeded random GSE matrices of varied magnitudes, and an oracle built only
//! from `gse` itself (`MatRef::get`, `quantize_group`, `encode_dyadics`) plus i128 sums.
#![allow(dead_code)]

use gse::rounding::random_bits;
use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SplitMix64, encode_dyadics, quantize_group};
use gse_gemm::{GemmConfig, MatRef};

/// How magnitudes vary inside a generated matrix.
#[derive(Clone, Copy, Debug)]
pub enum Spread {
    /// Exponents within a few steps: typical activations/weights.
    Narrow,
    /// A per-row base exponent over +-20 and per-element variation over 10 steps, zeros,
    /// occasional outliers 2^6 larger.
    Varied,
    /// Blocks of 32 x 32 values near 2^-60 among values near 1: whole K-groups of A rows and
    /// B columns are tiny, so lines span ~60 scale steps (forces the dyadic path).
    Extreme,
}

/// `len` random values: a row-major `rows x cols` matrix (plus slack) encoded in `format`.
pub fn random_blocks(
    rng: &mut SplitMix64,
    rows: usize,
    cols: usize,
    format: GseFormat,
    spread: Spread,
) -> GseBlocks {
    let mut vals = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let base = rng.below(41) as i32 - 20;
        for c in 0..cols {
            let mant = (rng.next_u64() >> 40) as i64 - (1 << 23); // 24-bit signed
            let exp = match spread {
                Spread::Narrow => -23 - rng.below(3) as i32,
                Spread::Varied => {
                    if rng.below(8) == 0 {
                        vals.push(Dyadic::ZERO);
                        continue;
                    }
                    let spike = if rng.below(50) == 0 { 6 } else { 0 };
                    base - 23 - rng.below(10) as i32 + spike
                }
                Spread::Extreme => {
                    if (r / 32 + c / 32) % 3 == 1 {
                        -23 - 60 - rng.below(4) as i32
                    } else {
                        -23 - rng.below(4) as i32
                    }
                }
            };
            vals.push(Dyadic::new(mant, exp));
        }
    }
    encode_dyadics(format, &vals, Rounding::NearestEven)
}

/// f64 value of a dyadic (tests only).
pub fn to_f64(d: Dyadic) -> f64 {
    d.mant as f64 * (d.exp as f64).exp2()
}

/// The operand rounding the engine documents for side 0 (A) / 1 (B) of entry `e`.
pub fn operand_rounding(cfg: &GemmConfig, e: usize, side: u64) -> Rounding {
    match cfg.rounding {
        Rounding::NearestEven => Rounding::NearestEven,
        Rounding::Stochastic { seed } => Rounding::Stochastic {
            seed: random_bits(seed, 2 * e as u64 + side),
        },
    }
}

/// One operand line (row of A / column of B) quantized group by group with `quantize_group`:
/// `(mantissas padded to whole groups, scale per group)`.
pub fn quantize_line(
    view: &MatRef,
    line: usize,
    is_a: bool,
    format: GseFormat,
    rounding: Rounding,
) -> (Vec<i64>, Vec<i32>) {
    let k = if is_a { view.cols } else { view.rows };
    let gs = format.group_size();
    let groups = k.div_ceil(gs);
    let mut mant = vec![0i64; groups * gs];
    let mut scales = vec![0; groups];
    let mut out = vec![0i32; gs];
    for g in 0..groups {
        let vals: Vec<Dyadic> = (g * gs..((g + 1) * gs).min(k))
            .map(|kk| {
                if is_a {
                    view.get(line, kk)
                } else {
                    view.get(kk, line)
                }
            })
            .collect();
        let first = (line * k + g * gs) as u64;
        let (s, _) = quantize_group(format, &vals, rounding, first, &mut out);
        scales[g] = s;
        for (i, &q) in out[..vals.len()].iter().enumerate() {
            mant[g * gs + i] = q as i64;
        }
    }
    (mant, scales)
}

/// Exact `sum_g D_g * 2^e_g (+ bias)` rounded to odd at 62 bits (so one nearest-even rounding
/// of it to at most 60 bits is the correctly rounded exact sum). The sum is held exactly in a
/// 448-bit two's complement integer, enough for exponent spreads up to ~380 bits.
pub fn exact_sum(terms: &[(i64, i32)]) -> Dyadic {
    const LIMBS: usize = 7;
    let nonzero: Vec<_> = terms.iter().filter(|t| t.0 != 0).collect();
    let Some(emin) = nonzero.iter().map(|t| t.1).min() else {
        return Dyadic::ZERO;
    };
    let mut acc = [0u64; LIMBS];
    for &&(d, e) in &nonzero {
        let up = (e - emin) as usize;
        assert!(up + 64 < 64 * LIMBS - 1, "oracle spread too wide");
        // d << up as a sign-extended LIMBS-limb integer, added with carries.
        let mut t = [if d < 0 { u64::MAX } else { 0 }; LIMBS];
        let (limb, bit) = (up / 64, up % 64);
        t[..limb].fill(0);
        t[limb] = (d as u64) << bit;
        if limb + 1 < LIMBS {
            let hi = if bit == 0 {
                if d < 0 { u64::MAX } else { 0 }
            } else {
                ((d as i128) >> (64 - bit)) as u64
            };
            t[limb + 1] = hi;
        }
        let mut carry = false;
        for (a, b) in acc.iter_mut().zip(t) {
            let (s1, c1) = a.overflowing_add(b);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            *a = s2;
            carry = c1 || c2;
        }
    }
    let negative = acc[LIMBS - 1] >> 63 == 1;
    if negative {
        // Two's complement negation.
        let mut carry = true;
        for a in acc.iter_mut() {
            let (v, c) = (!*a).overflowing_add(carry as u64);
            *a = v;
            carry = c;
        }
    }
    let Some(top_limb) = (0..LIMBS).rev().find(|&i| acc[i] != 0) else {
        return Dyadic::ZERO;
    };
    let bits = top_limb * 64 + 64 - acc[top_limb].leading_zeros() as usize;
    let bit = |i: usize| (acc[i / 64] >> (i % 64)) & 1;
    let (mant, exp) = if bits <= 62 {
        (acc[0] as i64, emin)
    } else {
        let drop = bits - 62;
        let mut m = 0u64;
        for i in (drop..bits).rev() {
            m = (m << 1) | bit(i);
        }
        let sticky = (0..drop).any(|i| bit(i) == 1) as u64;
        ((m | sticky) as i64, emin + drop as i32)
    };
    Dyadic::new(if negative { -mant } else { mant }, exp)
}

/// Quantized operand lines for a whole product, per entry.
pub struct QuantizedOperands {
    pub a: Vec<(Vec<i64>, Vec<i32>)>,
    pub b: Vec<(Vec<i64>, Vec<i32>)>,
}

pub fn quantize_operands(a: &MatRef, b: &MatRef, cfg: &GemmConfig, e: usize) -> QuantizedOperands {
    let f = cfg.operand_format;
    QuantizedOperands {
        a: (0..a.rows)
            .map(|r| quantize_line(a, r, true, f, operand_rounding(cfg, e, 0)))
            .collect(),
        b: (0..b.cols)
            .map(|c| quantize_line(b, c, false, f, operand_rounding(cfg, e, 1)))
            .collect(),
    }
}

/// The exact products of the quantized operands (plus bias), as round-to-odd dyadics.
pub fn oracle_values(
    a: &MatRef,
    b: &MatRef,
    bias: Option<&GseBlocks>,
    cfg: &GemmConfig,
    e: usize,
) -> Vec<Dyadic> {
    let q = quantize_operands(a, b, cfg, e);
    let gs = cfg.operand_format.group_size();
    let two_p = 2 * cfg.operand_format.magnitude_bits() as i32;
    let mut out = Vec::with_capacity(a.rows * b.cols);
    for (am, asc) in &q.a {
        for (j, (bm, bsc)) in q.b.iter().enumerate() {
            let mut terms: Vec<(i64, i32)> = asc
                .iter()
                .zip(bsc)
                .enumerate()
                .map(|(g, (&sa, &sb))| {
                    let d: i64 = (0..gs).map(|i| am[g * gs + i] * bm[g * gs + i]).sum();
                    (d, sa + sb - two_p)
                })
                .collect();
            if let Some(bias) = bias {
                let v = bias.get(j);
                terms.push((v.mant, v.exp));
            }
            out.push(exact_sum(&terms));
        }
    }
    out
}

/// The oracle's output blocks for a batch (entries stacked).
pub fn oracle(a: &[MatRef], b: &[MatRef], bias: Option<&GseBlocks>, cfg: &GemmConfig) -> GseBlocks {
    let mut vals = Vec::new();
    for e in 0..a.len().max(b.len()) {
        let ae = a[if a.len() == 1 { 0 } else { e }];
        let be = b[if b.len() == 1 { 0 } else { e }];
        vals.extend(oracle_values(&ae, &be, bias, cfg, e));
    }
    encode_dyadics(cfg.out_format, &vals, Rounding::NearestEven)
}

/// Asserts equal blocks, naming the first differing element.
pub fn assert_same(got: &GseBlocks, want: &GseBlocks, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    assert_eq!(got.format(), want.format(), "{what}: format");
    if got != want {
        let i = (0..got.len()).find(|&i| got.get(i) != want.get(i));
        match i {
            Some(i) => panic!(
                "{what}: element {i} differs: got {:?} = {}, want {:?} = {}",
                got.get(i),
                to_f64(got.get(i)),
                want.get(i),
                to_f64(want.get(i))
            ),
            None => panic!("{what}: same values, different encoding (scales of zero groups?)"),
        }
    }
}
