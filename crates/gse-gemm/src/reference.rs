//! The scalar path for operand formats the i16 engine cannot hold (more than 16 bits, groups
//! of one, or group dot products beyond i32): same operand quantization, exact i64 group dot
//! products, exact wide accumulation across groups. Slow; correct.

use rayon::prelude::*;

use crate::GemmConfig;
use crate::driver::{Batch, a_lines, b_lines, operand_rounding};
use crate::pack::Lines;
use crate::quant::quantize;
use crate::requant::Writer;
use crate::source::{Source, WithSource, with_source};
use crate::wide::Wide;

/// Quantized lines: mantissas `[line][k padded to groups]`, scales `[line][group]`.
struct Quantized {
    mant: Vec<i32>,
    scale: Vec<Option<i32>>,
    saturated: u64,
}

struct QuantizeLines<'a> {
    lines: &'a Lines<'a>,
    p: u32,
    group: usize,
}

impl WithSource for QuantizeLines<'_> {
    type Out = Quantized;
    fn run<S: Source>(self, src: &S) -> Quantized {
        let (lines, gs) = (self.lines, self.group);
        let groups = lines.k.div_ceil(gs);
        let kp = groups * gs;
        let mut q = Quantized {
            mant: vec![0; lines.lines * kp],
            scale: vec![None; lines.lines * groups],
            saturated: 0,
        };
        let (mut m, mut l) = (vec![0i32; gs], vec![0i32; gs]);
        for line in 0..lines.lines {
            for g in 0..groups {
                let kn = gs.min(lines.k - g * gs);
                for kk in 0..gs {
                    if kk < kn {
                        let k = g * gs + kk;
                        let idx = (lines.offset
                            + line as isize * lines.line_stride
                            + k as isize * lines.k_stride)
                            as usize;
                        (m[kk], l[kk]) = (src.mant(idx), src.lsb(idx));
                    } else {
                        (m[kk], l[kk]) = (0, l[kn - 1]);
                    }
                }
                let index0 = (line * lines.k + g * gs) as u64;
                let out = &mut q.mant[line * kp + g * gs..][..gs];
                q.scale[line * groups + g] = quantize(
                    &m,
                    &l,
                    self.p,
                    lines.rounding,
                    index0,
                    out,
                    &mut q.saturated,
                );
            }
        }
        q
    }
}

pub(crate) fn run(batch: &Batch<'_>, cfg: &GemmConfig, writer: &Writer) -> u64 {
    let format = cfg.operand_format;
    let (p, gs) = (format.magnitude_bits(), format.group_size());
    let (m, k, n) = (batch.m, batch.k, batch.n);
    let groups = k.div_ceil(gs);
    let kp = groups * gs;
    let two_p = 2 * p as i32;
    (0..batch.len())
        .into_par_iter()
        .map(|e| {
            let la = a_lines(&batch.a[e], operand_rounding(cfg, e, 0));
            let lb = b_lines(&batch.b[e], operand_rounding(cfg, e, 1));
            let qa = with_source(
                la.blocks,
                QuantizeLines {
                    lines: &la,
                    p,
                    group: gs,
                },
            );
            let qb = with_source(
                lb.blocks,
                QuantizeLines {
                    lines: &lb,
                    p,
                    group: gs,
                },
            );
            let mut saturated = qa.saturated + qb.saturated;
            crate::stats::record(&crate::stats::PathCounts {
                reference_products: 1,
                ..Default::default()
            });
            for i in 0..m {
                for j in 0..n {
                    let mut acc = Wide::default();
                    for g in 0..groups {
                        let (Some(sa), Some(sb)) =
                            (qa.scale[i * groups + g], qb.scale[j * groups + g])
                        else {
                            continue;
                        };
                        let ra = &qa.mant[i * kp + g * gs..][..gs];
                        let rb = &qb.mant[j * kp + g * gs..][..gs];
                        // |m| < 2^24: products below 2^48, 256 of them below 2^56.
                        let d: i64 = ra.iter().zip(rb).map(|(&x, &y)| x as i64 * y as i64).sum();
                        acc.add(d, sa + sb - two_p);
                    }
                    if let Some(bias) = &batch.bias {
                        acc.add(bias[j].mant, bias[j].exp);
                    }
                    let sum = acc.to_dyadic();
                    let (v, exp) = (sum.mant, sum.exp);
                    // SAFETY: each entry's elements are written by this iteration only.
                    saturated += unsafe { writer.put_run(e * m * n + i * n + j, 1, |_| (v, exp)) };
                }
            }
            saturated
        })
        .sum()
}
