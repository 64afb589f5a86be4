//! Convolutions, 2-D and 3-D, plain and transposed, as integer products.
//!
//! Both kinds are computed in *gather form*: an output element is the sum, over the kernel taps
//! that reach it, of the dot product of a weight vector and an input vector along the input
//! channels of its group. Those dot products are GSE-GEMM products: both operands are quantized
//! to the policy's `matmul_operand` format in groups along the channel (reduction) axis, each
//! group's mantissa products are summed exactly in an `i64`, and the group sums are accumulated
//! as 62-bit dyadics (rounded to odd) in a fixed order. The result is rounded once, to the
//! policy's stream format.
//!
//! With a group size of 1 (the exact preset's `EXACT` format) every product is its own group and
//! quantizing a stream value is the identity, so the sum is the exact sum of the exact products
//! up to the 62-bit accumulation: integer-emulated f32 with a single final rounding.
//!
//! Gather form (rather than im2col + `gse_gemm::matmul`) keeps each input value quantized once,
//! needs no column buffer, and serves transposed convolutions without a scatter; every output
//! is independent, so results do not depend on the thread count.

use burn_backend::ops::{ConvOptions, ConvTransposeOptions};
use gse::{Dyadic, GseFormat, Rounding};
use gse_kernels::generate;
use rayon::prelude::*;

use crate::GsqTensor;

/// 2-D convolution: x `[B, C_in, H, W]`, weight `[C_out, C_in / groups, KH, KW]`.
pub(crate) fn conv2d(
    x: GsqTensor,
    weight: GsqTensor,
    bias: Option<GsqTensor>,
    options: ConvOptions<2>,
) -> GsqTensor {
    let params = Params::lift2(options.stride, options.padding, options.dilation, [0; 2]);
    conv(&x, &weight, bias.as_ref(), params, options.groups, "conv2d", 2)
}

/// 3-D convolution: x `[B, C_in, D, H, W]`, weight `[C_out, C_in / groups, KD, KH, KW]`.
pub(crate) fn conv3d(
    x: GsqTensor,
    weight: GsqTensor,
    bias: Option<GsqTensor>,
    options: ConvOptions<3>,
) -> GsqTensor {
    let params = Params {
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
        padding_out: [0; 3],
    };
    conv(&x, &weight, bias.as_ref(), params, options.groups, "conv3d", 3)
}

/// 2-D transposed convolution: x `[B, C_in, H, W]`, weight `[C_in, C_out / groups, KH, KW]`.
pub(crate) fn conv_transpose2d(
    x: GsqTensor,
    weight: GsqTensor,
    bias: Option<GsqTensor>,
    options: ConvTransposeOptions<2>,
) -> GsqTensor {
    let params = Params::lift2(
        options.stride,
        options.padding,
        options.dilation,
        options.padding_out,
    );
    conv_transpose(&x, &weight, bias.as_ref(), params, options.groups, "conv_transpose2d", 2)
}

/// 3-D transposed convolution: x `[B, C_in, D, H, W]`, weight `[C_in, C_out / groups, KD, KH, KW]`.
pub(crate) fn conv_transpose3d(
    x: GsqTensor,
    weight: GsqTensor,
    bias: Option<GsqTensor>,
    options: ConvTransposeOptions<3>,
) -> GsqTensor {
    let params = Params {
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
        padding_out: options.padding_out,
    };
    conv_transpose(&x, &weight, bias.as_ref(), params, options.groups, "conv_transpose3d", 3)
}

/// Per-axis options of a 3-D problem; 2-D problems get a unit depth axis.
#[derive(Clone, Copy, Debug)]
struct Params {
    stride: [usize; 3],
    padding: [usize; 3],
    dilation: [usize; 3],
    padding_out: [usize; 3],
}

impl Params {
    fn lift2(stride: [usize; 2], padding: [usize; 2], dilation: [usize; 2], padding_out: [usize; 2]) -> Self {
        Self {
            stride: [1, stride[0], stride[1]],
            padding: [0, padding[0], padding[1]],
            dilation: [1, dilation[0], dilation[1]],
            padding_out: [0, padding_out[0], padding_out[1]],
        }
    }
}

/// `[N, C, spatial...]` of a rank `2 + spatial_rank` tensor, as `(N, C, [D, H, W])`.
pub(crate) fn split_dims(dims: &[usize], spatial_rank: usize, op: &str, what: &str) -> (usize, usize, [usize; 3]) {
    assert!(
        dims.len() == 2 + spatial_rank,
        "burn-gsq {op}: {what} must have rank {}, got shape {dims:?}",
        2 + spatial_rank
    );
    let mut spatial = [1usize; 3];
    spatial[3 - spatial_rank..].copy_from_slice(&dims[2..]);
    (dims[0], dims[1], spatial)
}

/// `[N, C, spatial...]` as a shape of rank `2 + spatial_rank`.
pub(crate) fn join_dims(n: usize, c: usize, spatial: [usize; 3], spatial_rank: usize) -> Vec<usize> {
    let mut shape = vec![n, c];
    shape.extend_from_slice(&spatial[3 - spatial_rank..]);
    shape
}

/// Output length of a convolution along one axis.
pub(crate) fn conv_out_len(input: usize, kernel: usize, stride: usize, padding: usize, dilation: usize, op: &str) -> usize {
    assert!(stride > 0 && dilation > 0 && kernel > 0, "burn-gsq {op}: kernel, stride and dilation must be non-zero");
    let span = dilation * (kernel - 1) + 1;
    let padded = input + 2 * padding;
    assert!(
        padded >= span,
        "burn-gsq {op}: the kernel (extent {span}) is larger than the padded input ({padded})"
    );
    (padded - span) / stride + 1
}

/// Output length of a transposed convolution along one axis.
fn conv_transpose_out_len(input: usize, kernel: usize, p: &Params, axis: usize, op: &str) -> usize {
    let full = (input.max(1) - 1) * p.stride[axis] + p.dilation[axis] * (kernel - 1) + 1 + p.padding_out[axis];
    assert!(
        input > 0 && full >= 2 * p.padding[axis],
        "burn-gsq {op}: padding {} leaves no output along axis {axis}",
        p.padding[axis]
    );
    full - 2 * p.padding[axis]
}

/// Row-major index `[a, b, c]` -> flat, for 3-D extents.
#[inline]
fn flat3(i: [usize; 3], dims: [usize; 3]) -> usize {
    (i[0] * dims[1] + i[1]) * dims[2] + i[2]
}

/// Flat -> `[a, b, c]`.
#[inline]
fn unflat3(mut f: usize, dims: [usize; 3]) -> [usize; 3] {
    let c = f % dims[2];
    f /= dims[2];
    let b = f % dims[1];
    [f / dims[1], b, c]
}

/// The shapes of a (plain or transposed) grouped convolution.
struct Geometry {
    batch: usize,
    groups: usize,
    /// Input channels per group: the length of every dot product.
    c_in_g: usize,
    c_out_g: usize,
    input: [usize; 3],
    kernel: [usize; 3],
    output: [usize; 3],
}

impl Geometry {
    fn input_len(&self) -> usize {
        self.input.iter().product()
    }

    fn kernel_len(&self) -> usize {
        self.kernel.iter().product()
    }

    fn output_len(&self) -> usize {
        self.output.iter().product()
    }

    /// Input vectors: one per (batch, group, input position), along the group's channels.
    fn input_operands(&self, x: &[Dyadic], c_in: usize, format: GseFormat) -> Operands {
        let p_in = self.input_len();
        let count = self.batch * self.groups * p_in;
        Operands::quantize(count, self.c_in_g, format, |v, j| {
            let pos = v % p_in;
            let bg = v / p_in;
            let (b, g) = (bg / self.groups, bg % self.groups);
            x[(b * c_in + g * self.c_in_g + j) * p_in + pos]
        })
    }
}

/// Vectors quantized to a GSE format in groups along their length: the operands of the
/// integer dot products. Vector `v`'s mantissas are `mant[v * len..][..len]` and the lsb
/// exponent of its group `g` is `lsb[v * groups + g]`.
pub(crate) struct Operands {
    len: usize,
    group: usize,
    groups: usize,
    mant: Vec<i32>,
    lsb: Vec<i32>,
}

impl Operands {
    /// `count` vectors of length `len`; element `j` of vector `v` is `value(v, j)`. Rounds to
    /// nearest even, as matmul operands always do.
    pub(crate) fn quantize<F>(count: usize, len: usize, format: GseFormat, value: F) -> Self
    where
        F: Fn(usize, usize) -> Dyadic + Sync,
    {
        let group = format.group_size();
        let groups = len.div_ceil(group);
        let mut mant = vec![0i32; count * len];
        let mut lsb = vec![0i32; count * groups];
        if len == 0 {
            return Self { len, group, groups, mant, lsb };
        }
        let saturated: u64 = mant
            .par_chunks_mut(len)
            .zip(lsb.par_chunks_mut(groups))
            .enumerate()
            .map_init(
                || vec![Dyadic::ZERO; group],
                |buf, (v, (m, l))| {
                    let mut saturated = 0u64;
                    for (g, lsb_g) in l.iter_mut().enumerate() {
                        let start = g * group;
                        let n = group.min(len - start);
                        for (k, slot) in buf[..n].iter_mut().enumerate() {
                            *slot = value(v, start + k);
                        }
                        let (scale, sat) =
                            gse::quantize_group(format, &buf[..n], Rounding::NearestEven, 0, &mut m[start..start + n]);
                        *lsb_g = format.lsb_exponent(scale);
                        saturated += sat as u64;
                    }
                    saturated
                },
            )
            .sum();
        if saturated > 0 {
            gse::special::record(gse::SpecialCounts {
                saturated,
                ..Default::default()
            });
        }
        Self { len, group, groups, mant, lsb }
    }

    /// `acc + <self[a], other[b]>`: exact group sums, accumulated group by group in order.
    #[inline]
    pub(crate) fn dot_into(&self, a: usize, other: &Operands, b: usize, mut acc: Dyadic) -> Dyadic {
        debug_assert!(self.len == other.len && self.group == other.group);
        let ma = &self.mant[a * self.len..][..self.len];
        let mb = &other.mant[b * self.len..][..self.len];
        let la = &self.lsb[a * self.groups..][..self.groups];
        let lb = &other.lsb[b * self.groups..][..self.groups];
        for (g, (ca, cb)) in ma.chunks(self.group).zip(mb.chunks(self.group)).enumerate() {
            // |m| < 2^24 and at most 256 terms: the group sum stays below 2^56.
            let sum: i64 = ca.iter().zip(cb).map(|(&p, &q)| p as i64 * q as i64).sum();
            if sum != 0 {
                acc = acc.add(Dyadic::new(sum, la[g] + lb[g]));
            }
        }
        acc
    }
}

/// The bias values, checked against the output channel count.
fn bias_values(bias: Option<&GsqTensor>, c_out: usize, op: &str) -> Option<Vec<Dyadic>> {
    bias.map(|b| {
        assert!(
            b.dims() == [c_out],
            "burn-gsq {op}: bias must have shape [{c_out}], got {:?}",
            b.dims()
        );
        b.values()
    })
}

fn conv(
    x: &GsqTensor,
    weight: &GsqTensor,
    bias: Option<&GsqTensor>,
    p: Params,
    groups: usize,
    op: &str,
    rank: usize,
) -> GsqTensor {
    let (batch, c_in, input) = split_dims(x.dims(), rank, op, "input");
    let (c_out, c_in_g, kernel) = split_dims(weight.dims(), rank, op, "weight");
    assert!(
        groups > 0 && c_in == c_in_g * groups && c_out % groups == 0,
        "burn-gsq {op}: {c_in} input channels, weight {:?} and {groups} groups do not fit",
        weight.dims()
    );
    let output: [usize; 3] = core::array::from_fn(|a| {
        conv_out_len(input[a], kernel[a], p.stride[a], p.padding[a], p.dilation[a], op)
    });
    let geo = Geometry { batch, groups, c_in_g, c_out_g: c_out / groups, input, kernel, output };
    let bias = bias_values(bias, c_out, op);
    let format = x.policy().matmul_operand;
    let xs = geo.input_operands(&x.values(), c_in, format);
    let kv = geo.kernel_len();
    // Weight vectors: one per (output channel, tap), along the group's input channels.
    let w = weight.values();
    let ws = Operands::quantize(c_out * kv, c_in_g, format, |v, j| w[((v / kv) * c_in_g + j) * kv + v % kv]);

    let (p_in, p_out) = (geo.input_len(), geo.output_len());
    let value = |i: usize| {
        let pos = i % p_out;
        let bo = i / p_out;
        let (b, oc) = (bo / c_out, bo % c_out);
        let o = unflat3(pos, geo.output);
        let xbase = (b * groups + oc / geo.c_out_g) * p_in;
        let mut acc = Dyadic::ZERO;
        for k in 0..kv {
            let kk = unflat3(k, geo.kernel);
            if let Some(at) = conv_source(o, kk, &p, geo.input) {
                acc = ws.dot_into(oc * kv + k, &xs, xbase + flat3(at, geo.input), acc);
            }
        }
        bias.as_ref().map_or(acc, |bv| acc.add(bv[oc]))
    };
    let shape = join_dims(batch, c_out, output, rank);
    let (fmt, rounding) = x.out();
    x.derive(generate(&shape, fmt, rounding, value))
}

/// The input position that kernel tap `k` of output position `o` reads, if inside the input.
#[inline]
fn conv_source(o: [usize; 3], k: [usize; 3], p: &Params, input: [usize; 3]) -> Option<[usize; 3]> {
    let mut at = [0usize; 3];
    for a in 0..3 {
        let i = (o[a] * p.stride[a] + k[a] * p.dilation[a]).checked_sub(p.padding[a])?;
        if i >= input[a] {
            return None;
        }
        at[a] = i;
    }
    Some(at)
}

/// The input position whose contribution through kernel tap `k` lands on output position `o`
/// of a transposed convolution, if any: `o = i * stride + k * dilation - padding`.
#[inline]
fn transpose_source(o: [usize; 3], k: [usize; 3], p: &Params, input: [usize; 3]) -> Option<[usize; 3]> {
    let mut at = [0usize; 3];
    for a in 0..3 {
        let t = (o[a] + p.padding[a]).checked_sub(k[a] * p.dilation[a])?;
        if t % p.stride[a] != 0 || t / p.stride[a] >= input[a] {
            return None;
        }
        at[a] = t / p.stride[a];
    }
    Some(at)
}

fn conv_transpose(
    x: &GsqTensor,
    weight: &GsqTensor,
    bias: Option<&GsqTensor>,
    p: Params,
    groups: usize,
    op: &str,
    rank: usize,
) -> GsqTensor {
    let (batch, c_in, input) = split_dims(x.dims(), rank, op, "input");
    let (w_in, c_out_g, kernel) = split_dims(weight.dims(), rank, op, "weight");
    assert!(
        groups > 0 && w_in == c_in && c_in % groups == 0,
        "burn-gsq {op}: {c_in} input channels, weight {:?} and {groups} groups do not fit",
        weight.dims()
    );
    for a in 0..3 {
        assert!(
            p.stride[a] > 0 && p.dilation[a] > 0,
            "burn-gsq {op}: stride and dilation must be non-zero"
        );
    }
    let output: [usize; 3] = core::array::from_fn(|a| conv_transpose_out_len(input[a], kernel[a], &p, a, op));
    let c_in_g = c_in / groups;
    let c_out = c_out_g * groups;
    let geo = Geometry { batch, groups, c_in_g, c_out_g, input, kernel, output };
    let bias = bias_values(bias, c_out, op);
    let format = x.policy().matmul_operand;
    let xs = geo.input_operands(&x.values(), c_in, format);
    let kv = geo.kernel_len();
    // Weight vectors: one per (output channel, tap), along the group's input channels.
    let w = weight.values();
    let ws = Operands::quantize(c_out * kv, c_in_g, format, |v, j| {
        let (oc, k) = (v / kv, v % kv);
        let (g, ocl) = (oc / c_out_g, oc % c_out_g);
        w[((g * c_in_g + j) * c_out_g + ocl) * kv + k]
    });

    let (p_in, p_out) = (geo.input_len(), geo.output_len());
    let value = |i: usize| {
        let pos = i % p_out;
        let bo = i / p_out;
        let (b, oc) = (bo / c_out, bo % c_out);
        let o = unflat3(pos, geo.output);
        let xbase = (b * groups + oc / c_out_g) * p_in;
        let mut acc = Dyadic::ZERO;
        for k in 0..kv {
            let kk = unflat3(k, geo.kernel);
            if let Some(at) = transpose_source(o, kk, &p, geo.input) {
                acc = ws.dot_into(oc * kv + k, &xs, xbase + flat3(at, geo.input), acc);
            }
        }
        bias.as_ref().map_or(acc, |bv| acc.add(bv[oc]))
    };
    let shape = join_dims(batch, c_out, output, rank);
    let (fmt, rounding) = x.out();
    x.derive(generate(&shape, fmt, rounding, value))
}
