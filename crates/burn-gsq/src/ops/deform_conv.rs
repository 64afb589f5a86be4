//! Deformable 2-D convolution (with an optional modulation mask) and its full backward pass.
//!
//! Semantics are burn-flex's: kernel tap `k` of output position `p` samples input channel `c`
//! bilinearly at `(p * stride - padding + k * dilation) + offset[b, og(c), k, :, p]` (zero
//! outside the image; a point at or beyond one pixel outside reads nothing), multiplies by
//! `mask[b, og(c), k, p]`, and the samples are contracted with the weights per weight group.
//!
//! Everything is dyadic arithmetic: sample coordinates are exact sums, their floors exact, the
//! bilinear weights and all products and sums are kept at 62 bits (rounded to odd) in a fixed
//! order, and each result is rounded once to the stream format. The backward pass computes the
//! column gradient `G = W^T * grad` once and derives from it the gradients of the input (a
//! per-plane scatter in a fixed order), the offsets, the mask, the weights and the bias.

use burn_backend::ops::DeformConvOptions;
use gse::Dyadic;
use gse_kernels::generate;
use rayon::prelude::*;

use crate::GsqTensor;

/// Shapes and options of one deformable convolution.
struct Deform {
    batch: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    /// Input channels per weight group (the weight's second axis).
    c_in_g: usize,
    c_out_g: usize,
    /// Input channels per offset group.
    c_per_og: usize,
    offset_groups: usize,
    kernel: [usize; 2],
    out: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
}

impl Deform {
    fn new(
        x: &GsqTensor,
        offset: &GsqTensor,
        weight: &GsqTensor,
        mask: Option<&GsqTensor>,
        o: &DeformConvOptions<2>,
        op: &str,
    ) -> Self {
        let (xd, od, wd) = (x.dims(), offset.dims(), weight.dims());
        assert!(
            xd.len() == 4 && od.len() == 4 && wd.len() == 4,
            "burn-gsq {op}: x {xd:?}, offset {od:?} and weight {wd:?} must all have rank 4"
        );
        let (wg, og) = (o.weight_groups, o.offset_groups);
        let (c_in, c_out, c_in_g) = (xd[1], wd[0], wd[1]);
        assert!(
            wg > 0 && og > 0 && c_in == c_in_g * wg && c_out % wg == 0 && c_in % og == 0,
            "burn-gsq {op}: {c_in} input channels, weight {wd:?}, {wg} weight groups and {og} offset groups do not fit"
        );
        let kv = wd[2] * wd[3];
        assert!(
            od[0] == xd[0] && od[1] == 2 * og * kv,
            "burn-gsq {op}: offset must be [{}, {}, out_h, out_w], got {od:?}",
            xd[0],
            2 * og * kv
        );
        if let Some(m) = mask {
            assert!(
                m.dims() == [xd[0], og * kv, od[2], od[3]],
                "burn-gsq {op}: mask must be [{}, {}, {}, {}], got {:?}",
                xd[0],
                og * kv,
                od[2],
                od[3],
                m.dims()
            );
        }
        Self {
            batch: xd[0],
            c_in,
            h: xd[2],
            w: xd[3],
            c_out,
            c_in_g,
            c_out_g: c_out / wg,
            c_per_og: c_in / og,
            offset_groups: og,
            kernel: [wd[2], wd[3]],
            out: [od[2], od[3]],
            stride: o.stride,
            padding: o.padding,
            dilation: o.dilation,
        }
    }

    fn kv(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }

    fn p_out(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// Index of the `axis` (0: row, 1: column) offset of tap `k`, offset group `og`.
    fn offset_at(&self, b: usize, og: usize, k: usize, axis: usize, pos: usize) -> usize {
        (((b * self.offset_groups + og) * self.kv() + k) * 2 + axis) * self.p_out() + pos
    }

    fn mask_at(&self, b: usize, og: usize, k: usize, pos: usize) -> usize {
        ((b * self.offset_groups + og) * self.kv() + k) * self.p_out() + pos
    }

    /// Index into per-sample arrays `[B, C_in, KV, P]`.
    fn sample_at(&self, b: usize, ic: usize, k: usize, pos: usize) -> usize {
        ((b * self.c_in + ic) * self.kv() + k) * self.p_out() + pos
    }

    /// `(b, ic, k, pos)` of a per-sample index.
    fn sample_coords(&self, i: usize) -> (usize, usize, usize, usize) {
        let (kv, p) = (self.kv(), self.p_out());
        (
            i / (self.c_in * kv * p),
            (i / (kv * p)) % self.c_in,
            (i / p) % kv,
            i % p,
        )
    }

    /// Where tap `k` of output `pos` samples channel `ic` of batch `b`.
    fn point(&self, off: &[Dyadic], b: usize, ic: usize, k: usize, pos: usize) -> Option<Corners> {
        let og = ic / self.c_per_og;
        let (kh, kw) = (k / self.kernel[1], k % self.kernel[1]);
        let (oh, ow) = (pos / self.out[1], pos % self.out[1]);
        let base = |o: usize, kk: usize, a: usize| {
            (o * self.stride[a] + kk * self.dilation[a]) as i64 - self.padding[a] as i64
        };
        let y = Dyadic::from_int(base(oh, kh, 0)).add(off[self.offset_at(b, og, k, 0, pos)]);
        let x = Dyadic::from_int(base(ow, kw, 1)).add(off[self.offset_at(b, og, k, 1, pos)]);
        Corners::at(y, x, self.h, self.w)
    }
}

/// `floor(d)` of a dyadic known to be small (|d| below 2^40 or so).
fn floor_int(d: Dyadic) -> i64 {
    if d.exp >= 0 {
        d.mant << d.exp.min(62)
    } else if d.exp <= -63 {
        if d.mant < 0 { -1 } else { 0 }
    } else {
        d.mant >> -d.exp
    }
}

/// A bilinear sample: the four neighbours (plane indices, `None` outside the image) and the
/// fractional parts `l*` with their complements `h* = 1 - l*`.
struct Corners {
    at: [Option<usize>; 4],
    lh: Dyadic,
    lw: Dyadic,
    hh: Dyadic,
    hw: Dyadic,
}

impl Corners {
    /// The sample at `(y, x)` of a `height x width` plane; `None` when the point is at or
    /// beyond one pixel outside (it reads nothing).
    fn at(y: Dyadic, x: Dyadic, height: usize, width: usize) -> Option<Self> {
        let minus_one = Dyadic::from_int(-1);
        let outside = |v: Dyadic, size: usize| {
            v.cmp_value(minus_one).is_le() || v.cmp_value(Dyadic::from_int(size as i64)).is_ge()
        };
        if outside(y, height) || outside(x, width) {
            return None;
        }
        let (y0, x0) = (floor_int(y), floor_int(x));
        let (lh, lw) = (y.sub(Dyadic::from_int(y0)), x.sub(Dyadic::from_int(x0)));
        let (hh, hw) = (Dyadic::ONE.sub(lh), Dyadic::ONE.sub(lw));
        let index = |r: i64, c: i64| {
            (r >= 0 && c >= 0 && (r as usize) < height && (c as usize) < width)
                .then(|| r as usize * width + c as usize)
        };
        Some(Self {
            at: [
                index(y0, x0),
                index(y0, x0 + 1),
                index(y0 + 1, x0),
                index(y0 + 1, x0 + 1),
            ],
            lh,
            lw,
            hh,
            hw,
        })
    }

    /// Weights of the four neighbours, in the order of `at`.
    fn weights(&self) -> [Dyadic; 4] {
        [
            self.hh.mul(self.hw),
            self.hh.mul(self.lw),
            self.lh.mul(self.hw),
            self.lh.mul(self.lw),
        ]
    }

    /// The neighbours' values (zero outside the image).
    fn values(&self, plane: &[Dyadic]) -> [Dyadic; 4] {
        self.at.map(|a| a.map_or(Dyadic::ZERO, |i| plane[i]))
    }

    fn interpolate(&self, plane: &[Dyadic]) -> Dyadic {
        let (w, v) = (self.weights(), self.values(plane));
        (0..4).fold(Dyadic::ZERO, |s, i| s.add(w[i].mul(v[i])))
    }

    /// Derivatives of the interpolated value along the row and column coordinates.
    fn gradient(&self, plane: &[Dyadic]) -> (Dyadic, Dyadic) {
        let [v1, v2, v3, v4] = self.values(plane);
        let dy = self.hw.mul(v3.sub(v1)).add(self.lw.mul(v4.sub(v2)));
        let dx = self.hh.mul(v2.sub(v1)).add(self.lh.mul(v4.sub(v3)));
        (dy, dx)
    }
}

/// The tensors' values, read once.
struct Inputs {
    x: Vec<Dyadic>,
    offset: Vec<Dyadic>,
    weight: Vec<Dyadic>,
    mask: Option<Vec<Dyadic>>,
}

impl Inputs {
    fn read(
        x: &GsqTensor,
        offset: &GsqTensor,
        weight: &GsqTensor,
        mask: Option<&GsqTensor>,
    ) -> Self {
        Self {
            x: x.values(),
            offset: offset.values(),
            weight: weight.values(),
            mask: mask.map(GsqTensor::values),
        }
    }

    fn mask(&self, d: &Deform, b: usize, ic: usize, k: usize, pos: usize) -> Dyadic {
        self.mask
            .as_ref()
            .map_or(Dyadic::ONE, |m| m[d.mask_at(b, ic / d.c_per_og, k, pos)])
    }

    fn plane(&self, d: &Deform, b: usize, ic: usize) -> &[Dyadic] {
        &self.x[(b * d.c_in + ic) * d.h * d.w..][..d.h * d.w]
    }

    /// The bilinear samples `[B, C_in, KV, P]`, unmasked.
    fn samples(&self, d: &Deform) -> Vec<Dyadic> {
        (0..d.batch * d.c_in * d.kv() * d.p_out())
            .into_par_iter()
            .map(|i| {
                let (b, ic, k, pos) = d.sample_coords(i);
                d.point(&self.offset, b, ic, k, pos)
                    .map_or(Dyadic::ZERO, |c| c.interpolate(self.plane(d, b, ic)))
            })
            .collect()
    }

    /// The weight of output channel `oc`, group-local input channel `icl`, tap `k`.
    fn w(&self, d: &Deform, oc: usize, icl: usize, k: usize) -> Dyadic {
        self.weight[(oc * d.c_in_g + icl) * d.kv() + k]
    }
}

pub(crate) fn deform_conv2d(
    x: GsqTensor,
    offset: GsqTensor,
    weight: GsqTensor,
    mask: Option<GsqTensor>,
    bias: Option<GsqTensor>,
    options: DeformConvOptions<2>,
) -> GsqTensor {
    let d = Deform::new(
        &x,
        &offset,
        &weight,
        mask.as_ref(),
        &options,
        "deform_conv2d",
    );
    let inputs = Inputs::read(&x, &offset, &weight, mask.as_ref());
    let bias = bias.map(|b| {
        assert!(
            b.dims() == [d.c_out],
            "burn-gsq deform_conv2d: bias must be [{}], got {:?}",
            d.c_out,
            b.dims()
        );
        b.values()
    });
    let samples = inputs.samples(&d);
    let (kv, p) = (d.kv(), d.p_out());
    let value = |i: usize| {
        let (b, oc, pos) = (i / (d.c_out * p), (i / p) % d.c_out, i % p);
        let ic0 = (oc / d.c_out_g) * d.c_in_g;
        let mut acc = Dyadic::ZERO;
        for icl in 0..d.c_in_g {
            for k in 0..kv {
                let col = samples[d.sample_at(b, ic0 + icl, k, pos)].mul(inputs.mask(
                    &d,
                    b,
                    ic0 + icl,
                    k,
                    pos,
                ));
                acc = acc.add(inputs.w(&d, oc, icl, k).mul(col));
            }
        }
        bias.as_ref().map_or(acc, |bv| acc.add(bv[oc]))
    };
    let (fmt, rounding) = x.out();
    x.derive(generate(
        &[d.batch, d.c_out, d.out[0], d.out[1]],
        fmt,
        rounding,
        value,
    ))
}

/// Gradients `(x, offset, weight, mask, bias)`; the lead wraps them in
/// `DeformConv2dBackward::new`.
#[allow(clippy::type_complexity)]
pub(crate) fn deform_conv2d_backward(
    x: GsqTensor,
    offset: GsqTensor,
    weight: GsqTensor,
    mask: Option<GsqTensor>,
    bias: Option<GsqTensor>,
    output_grad: GsqTensor,
    options: DeformConvOptions<2>,
) -> (
    GsqTensor,
    GsqTensor,
    GsqTensor,
    Option<GsqTensor>,
    Option<GsqTensor>,
) {
    let op = "deform_conv2d_backward";
    let d = Deform::new(&x, &offset, &weight, mask.as_ref(), &options, op);
    assert!(
        output_grad.dims() == [d.batch, d.c_out, d.out[0], d.out[1]],
        "burn-gsq {op}: output_grad {:?} does not match the output [{}, {}, {}, {}]",
        output_grad.dims(),
        d.batch,
        d.c_out,
        d.out[0],
        d.out[1]
    );
    let inputs = Inputs::read(&x, &offset, &weight, mask.as_ref());
    let g = output_grad.values();
    let samples = inputs.samples(&d);
    let col_grad = column_gradient(&d, &inputs, &g);

    let x_grad = input_gradient(&d, &inputs, &col_grad, &x);
    let offset_grad = offset_gradient(&d, &inputs, &col_grad, &offset);
    let weight_grad = weight_gradient(&d, &inputs, &samples, &g, &weight);
    let mask_grad = mask
        .as_ref()
        .map(|m| mask_gradient(&d, &samples, &col_grad, m));
    let bias_grad = bias.as_ref().map(|b| {
        let (p, c_out) = (d.p_out(), d.c_out);
        let (fmt, rounding) = b.out();
        b.derive(generate(&[c_out], fmt, rounding, |oc| {
            let mut acc = Dyadic::ZERO;
            for bi in 0..d.batch {
                for v in &g[(bi * c_out + oc) * p..][..p] {
                    acc = acc.add(*v);
                }
            }
            acc
        }))
    });
    (x_grad, offset_grad, weight_grad, mask_grad, bias_grad)
}

/// `G[b, ic, k, p] = sum over the group's output channels oc of grad[b, oc, p] * w[oc, ic, k]`.
fn column_gradient(d: &Deform, inputs: &Inputs, g: &[Dyadic]) -> Vec<Dyadic> {
    let p = d.p_out();
    (0..d.batch * d.c_in * d.kv() * p)
        .into_par_iter()
        .map(|i| {
            let (b, ic, k, pos) = d.sample_coords(i);
            let (wg, icl) = (ic / d.c_in_g, ic % d.c_in_g);
            let mut acc = Dyadic::ZERO;
            for oc in wg * d.c_out_g..(wg + 1) * d.c_out_g {
                acc = acc.add(g[(b * d.c_out + oc) * p + pos].mul(inputs.w(d, oc, icl, k)));
            }
            acc
        })
        .collect()
}

/// Scatters `mask * G` to the four neighbours of each sample, one input plane per task, taps
/// and positions in order.
fn input_gradient(d: &Deform, inputs: &Inputs, col_grad: &[Dyadic], x: &GsqTensor) -> GsqTensor {
    let plane = d.h * d.w;
    let mut sums = vec![Dyadic::ZERO; d.batch * d.c_in * plane];
    if plane > 0 {
        sums.par_chunks_mut(plane)
            .enumerate()
            .for_each(|(bc, dst)| {
                let (b, ic) = (bc / d.c_in, bc % d.c_in);
                for k in 0..d.kv() {
                    for pos in 0..d.p_out() {
                        let Some(c) = d.point(&inputs.offset, b, ic, k, pos) else {
                            continue;
                        };
                        let coef =
                            col_grad[d.sample_at(b, ic, k, pos)].mul(inputs.mask(d, b, ic, k, pos));
                        for (at, w) in c.at.iter().zip(c.weights()) {
                            if let Some(at) = *at {
                                dst[at] = dst[at].add(w.mul(coef));
                            }
                        }
                    }
                }
            });
    }
    let (fmt, rounding) = x.out();
    x.derive(generate(x.dims(), fmt, rounding, |i| sums[i]))
}

/// `d offset[b, og, k, axis, p] = sum over the offset group's channels of mask * G * d interp / d axis`.
fn offset_gradient(
    d: &Deform,
    inputs: &Inputs,
    col_grad: &[Dyadic],
    offset: &GsqTensor,
) -> GsqTensor {
    let (kv, p) = (d.kv(), d.p_out());
    let value = |i: usize| {
        let pos = i % p;
        let axis = (i / p) % 2;
        let k = (i / (2 * p)) % kv;
        let og = (i / (2 * p * kv)) % d.offset_groups;
        let b = i / (2 * p * kv * d.offset_groups);
        let mut acc = Dyadic::ZERO;
        for ic in og * d.c_per_og..(og + 1) * d.c_per_og {
            let Some(c) = d.point(&inputs.offset, b, ic, k, pos) else {
                continue;
            };
            let (dy, dx) = c.gradient(inputs.plane(d, b, ic));
            let coef = col_grad[d.sample_at(b, ic, k, pos)].mul(inputs.mask(d, b, ic, k, pos));
            acc = acc.add(coef.mul(if axis == 0 { dy } else { dx }));
        }
        acc
    };
    let (fmt, rounding) = offset.out();
    offset.derive(generate(offset.dims(), fmt, rounding, value))
}

/// `d w[oc, icl, k] = sum over batch and positions of grad[b, oc, p] * mask * sample`.
fn weight_gradient(
    d: &Deform,
    inputs: &Inputs,
    samples: &[Dyadic],
    g: &[Dyadic],
    weight: &GsqTensor,
) -> GsqTensor {
    let (kv, p) = (d.kv(), d.p_out());
    let value = |i: usize| {
        let (oc, icl, k) = (i / (d.c_in_g * kv), (i / kv) % d.c_in_g, i % kv);
        let ic = (oc / d.c_out_g) * d.c_in_g + icl;
        let mut acc = Dyadic::ZERO;
        for b in 0..d.batch {
            for pos in 0..p {
                let col = samples[d.sample_at(b, ic, k, pos)].mul(inputs.mask(d, b, ic, k, pos));
                acc = acc.add(g[(b * d.c_out + oc) * p + pos].mul(col));
            }
        }
        acc
    };
    let (fmt, rounding) = weight.out();
    weight.derive(generate(weight.dims(), fmt, rounding, value))
}

/// `d mask[b, og, k, p] = sum over the offset group's channels of G * sample`.
fn mask_gradient(
    d: &Deform,
    samples: &[Dyadic],
    col_grad: &[Dyadic],
    mask: &GsqTensor,
) -> GsqTensor {
    let (kv, p) = (d.kv(), d.p_out());
    let value = |i: usize| {
        let pos = i % p;
        let k = (i / p) % kv;
        let og = (i / (p * kv)) % d.offset_groups;
        let b = i / (p * kv * d.offset_groups);
        let mut acc = Dyadic::ZERO;
        for ic in og * d.c_per_og..(og + 1) * d.c_per_og {
            let s = d.sample_at(b, ic, k, pos);
            acc = acc.add(col_grad[s].mul(samples[s]));
        }
        acc
    };
    let (fmt, rounding) = mask.out();
    mask.derive(generate(mask.dims(), fmt, rounding, value))
}
