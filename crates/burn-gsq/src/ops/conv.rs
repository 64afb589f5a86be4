//! Convolutions, 2-D and 3-D, plain and transposed, as integer products.
//!
//! The products go through the GSE GEMM (`gse_gemm::matmul_batched`) when the policy's
//! `matmul_operand` format has groups (the default INT8/g32): operands are re-quantized to it in
//! groups along the reduction axis inside the GEMM and multiplied exactly in integers.
//! - Convolution: im2col. Per (batch, group) entry, `W_g [C_out/g x K]` times the column matrix
//!   `[K x P_out]`, `K = (c, kd, kh, kw)` as in the weight's layout; the stacked results are the
//!   output `[B, C_out, P_out]` as they stand. The column matrix is an exact copy of the input
//!   (EXACT format), so only the GEMM's operand quantization rounds.
//! - Transposed convolution: per entry `W_g^T [(C_out/g * KV) x C_in/g]` times the input
//!   `[C_in/g x P_in]` (both views of the tensors, no copy), then a col2im *gather*: each output
//!   sums the taps that reach it.
//!
//! With one-value groups (the exact preset's `EXACT` format) the products take an exact path in
//! gather form: each output sums, over the kernel taps that reach it, the dot product of a
//! weight vector and an input vector along the input channels of its group; products are exact
//! and accumulated as 62-bit dyadics (rounded to odd) in a fixed order, then rounded once —
//! integer-emulated f32 with a single final rounding. This path quantizes its operands itself
//! ([`Operands`], grouped along the channels), so any other one-value-group operand format
//! (e.g. `STREAM16`) gets its quantization too.
//!
//! Intermediates that precede a last addition (the GEMM result before the bias, the columns
//! before col2im) are kept in `EXACT` (25 bits), far below the output's own rounding. The
//! im2col / col2im buffers are built for slices of whole batch entries, at most 2^24 elements
//! (80 MB) at a time. Every output element is computed independently in a fixed order, so
//! results do not depend on the thread count.

use burn_backend::ops::{ConvOptions, ConvTransposeOptions};
use gse::{Dyadic, GseBlocks, GseFormat, Rounding};
use gse_gemm::{GemmConfig, MatRef};
use gse_kernels::{GseTensor, generate};
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
    convolve(&x, &weight, bias.as_ref(), params, options.groups, CONV2D)
}

/// 3-D convolution: x `[B, C_in, D, H, W]`, weight `[C_out, C_in / groups, KD, KH, KW]`.
pub(crate) fn conv3d(
    x: GsqTensor,
    weight: GsqTensor,
    bias: Option<GsqTensor>,
    options: ConvOptions<3>,
) -> GsqTensor {
    let (s, pd, d) = (options.stride, options.padding, options.dilation);
    let params = Params {
        stride: s,
        padding: pd,
        dilation: d,
        padding_out: [0; 3],
    };
    convolve(&x, &weight, bias.as_ref(), params, options.groups, CONV3D)
}

/// 2-D transposed convolution: x `[B, C_in, H, W]`, weight `[C_in, C_out / groups, KH, KW]`.
pub(crate) fn conv_transpose2d(
    x: GsqTensor,
    weight: GsqTensor,
    bias: Option<GsqTensor>,
    options: ConvTransposeOptions<2>,
) -> GsqTensor {
    let o = &options;
    let params = Params::lift2(o.stride, o.padding, o.dilation, o.padding_out);
    convolve(
        &x,
        &weight,
        bias.as_ref(),
        params,
        options.groups,
        CONV_TRANSPOSE2D,
    )
}

/// 3-D transposed convolution: x `[B, C_in, D, H, W]`, weight `[C_in, C_out / groups, KD, KH, KW]`.
pub(crate) fn conv_transpose3d(
    x: GsqTensor,
    weight: GsqTensor,
    bias: Option<GsqTensor>,
    options: ConvTransposeOptions<3>,
) -> GsqTensor {
    let (s, pd, d, po) = (
        options.stride,
        options.padding,
        options.dilation,
        options.padding_out,
    );
    let params = Params {
        stride: s,
        padding: pd,
        dilation: d,
        padding_out: po,
    };
    convolve(
        &x,
        &weight,
        bias.as_ref(),
        params,
        options.groups,
        CONV_TRANSPOSE3D,
    )
}

/// Which convolution: its name (for messages), spatial rank and direction.
#[derive(Clone, Copy, Debug)]
struct Kind {
    op: &'static str,
    rank: usize,
    transposed: bool,
}

impl Kind {
    const fn new(op: &'static str, rank: usize, transposed: bool) -> Self {
        Self {
            op,
            rank,
            transposed,
        }
    }
}

const CONV2D: Kind = Kind::new("conv2d", 2, false);
const CONV3D: Kind = Kind::new("conv3d", 3, false);
const CONV_TRANSPOSE2D: Kind = Kind::new("conv_transpose2d", 2, true);
const CONV_TRANSPOSE3D: Kind = Kind::new("conv_transpose3d", 3, true);

/// Per-axis options of a 3-D problem; 2-D problems get a unit depth axis.
#[derive(Clone, Copy, Debug)]
struct Params {
    stride: [usize; 3],
    padding: [usize; 3],
    dilation: [usize; 3],
    padding_out: [usize; 3],
}

impl Params {
    fn lift2(
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        padding_out: [usize; 2],
    ) -> Self {
        Self {
            stride: [1, stride[0], stride[1]],
            padding: [0, padding[0], padding[1]],
            dilation: [1, dilation[0], dilation[1]],
            padding_out: [0, padding_out[0], padding_out[1]],
        }
    }
}

/// `[N, C, spatial...]` of a rank `2 + spatial_rank` tensor, as `(N, C, [D, H, W])`.
pub(crate) fn split_dims(
    dims: &[usize],
    spatial_rank: usize,
    op: &str,
    what: &str,
) -> (usize, usize, [usize; 3]) {
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
pub(crate) fn join_dims(
    n: usize,
    c: usize,
    spatial: [usize; 3],
    spatial_rank: usize,
) -> Vec<usize> {
    let mut shape = vec![n, c];
    shape.extend_from_slice(&spatial[3 - spatial_rank..]);
    shape
}

/// Output length of a convolution along one axis.
pub(crate) fn conv_out_len(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    op: &str,
) -> usize {
    assert!(
        stride > 0 && dilation > 0 && kernel > 0,
        "burn-gsq {op}: kernel, stride and dilation must be non-zero"
    );
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
    assert!(
        p.stride[axis] > 0 && p.dilation[axis] > 0 && kernel > 0,
        "burn-gsq {op}: kernel, stride and dilation must be non-zero"
    );
    let full = (input.max(1) - 1) * p.stride[axis]
        + p.dilation[axis] * (kernel - 1)
        + 1
        + p.padding_out[axis];
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
            return Self {
                len,
                group,
                groups,
                mant,
                lsb,
            };
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
                        let (scale, sat) = gse::quantize_group(
                            format,
                            &buf[..n],
                            Rounding::NearestEven,
                            0,
                            &mut m[start..start + n],
                        );
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
        Self {
            len,
            group,
            groups,
            mant,
            lsb,
        }
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

/// A grouped convolution problem, both kinds: shapes, options, bias, and the policy's formats.
struct Problem<'a> {
    x: &'a GsqTensor,
    weight: &'a GsqTensor,
    bias: Option<Vec<Dyadic>>,
    geo: Geometry,
    p: Params,
    c_in: usize,
    c_out: usize,
    rank: usize,
}

impl Problem<'_> {
    fn gemm_config(&self, out_format: GseFormat) -> GemmConfig {
        let policy = self.x.policy();
        GemmConfig {
            operand_format: policy.matmul_operand,
            out_format,
            rounding: policy.rounding,
        }
    }

    /// Whether the products go through the GEMM (grouped operand format, non-empty problem).
    fn use_gemm(&self) -> bool {
        let g = &self.geo;
        self.x.policy().matmul_operand.group_size() > 1
            && g.c_in_g * g.kernel_len() * g.c_out_g * g.batch * g.input_len() * g.output_len() > 0
    }

    fn out_shape(&self) -> Vec<usize> {
        join_dims(self.geo.batch, self.c_out, self.geo.output, self.rank)
    }

    /// The output from `value(b, oc, pos)` (before the bias), bias added, rounded once.
    fn finish<F>(&self, value: F) -> GsqTensor
    where
        F: Fn(usize, usize, usize) -> Dyadic + Sync,
    {
        let (p_out, c_out) = (self.geo.output_len(), self.c_out);
        let (fmt, rounding) = self.x.out();
        let bias = self.bias.as_deref();
        self.x
            .derive(generate(&self.out_shape(), fmt, rounding, |i| {
                let (pos, oc, b) = (i % p_out, (i / p_out) % c_out, i / (p_out * c_out));
                let acc = value(b, oc, pos);
                bias.map_or(acc, |bv| acc.add(bv[oc]))
            }))
    }
}

/// A contiguous tensor with `t`'s values, exactly: `t` itself, or a copy in `EXACT` (which holds
/// every GSE value) when `t` is a strided view.
fn dense(t: &GseTensor) -> GseTensor {
    if t.layout().is_contiguous() {
        t.clone()
    } else {
        t.to_contiguous(GseFormat::EXACT, Rounding::NearestEven)
    }
}

/// A row-major `rows x cols` view of contiguous `t`, starting `start` elements in.
fn view(t: &GseTensor, start: usize, rows: usize, cols: usize) -> MatRef<'_> {
    MatRef {
        blocks: t.blocks(),
        offset: t.layout().offset() + start,
        row_stride: cols as isize,
        col_stride: 1,
        rows,
        cols,
    }
}

/// Checks the shapes, then runs the GEMM or the exact path.
fn convolve(
    x: &GsqTensor,
    weight: &GsqTensor,
    bias: Option<&GsqTensor>,
    p: Params,
    groups: usize,
    kind: Kind,
) -> GsqTensor {
    let Kind {
        op,
        rank,
        transposed,
    } = kind;
    let (batch, c_in, input) = split_dims(x.dims(), rank, op, "input");
    let (w0, w1, kernel) = split_dims(weight.dims(), rank, op, "weight");
    // Plain weights are [C_out, C_in/g, k..], transposed ones [C_in, C_out/g, k..].
    let fits = groups > 0
        && if transposed {
            w0 == c_in && c_in % groups == 0
        } else {
            c_in == w1 * groups && w0 % groups == 0
        };
    assert!(
        fits,
        "burn-gsq {op}: {c_in} input channels, weight {:?} and {groups} groups do not fit",
        weight.dims()
    );
    let (c_in_g, c_out) = if transposed {
        (c_in / groups, w1 * groups)
    } else {
        (w1, w0)
    };
    let output: [usize; 3] = core::array::from_fn(|a| {
        let (s, pd, d) = (p.stride[a], p.padding[a], p.dilation[a]);
        if transposed {
            conv_transpose_out_len(input[a], kernel[a], &p, a, op)
        } else {
            conv_out_len(input[a], kernel[a], s, pd, d, op)
        }
    });
    let c_out_g = c_out / groups;
    let geo = Geometry {
        batch,
        groups,
        c_in_g,
        c_out_g,
        input,
        kernel,
        output,
    };
    let bias = bias_values(bias, c_out, op);
    let pr = Problem {
        x,
        weight,
        bias,
        geo,
        p,
        c_in,
        c_out,
        rank,
    };
    match (transposed, pr.use_gemm()) {
        (false, true) => conv_gemm(&pr),
        (true, true) => conv_transpose_gemm(&pr),
        (_, false) => exact(&pr, transposed),
    }
}

/// Gather-form (transposed) convolution with exact products (see the module docs).
fn exact(pr: &Problem, transposed: bool) -> GsqTensor {
    let (geo, p) = (&pr.geo, &pr.p);
    let format = pr.x.policy().matmul_operand;
    let xs = geo.input_operands(&pr.x.values(), pr.c_in, format);
    let (kv, c_in_g, c_out_g) = (geo.kernel_len(), geo.c_in_g, geo.c_out_g);
    // Weight vectors: one per (output channel, tap), along the group's input channels.
    let w = pr.weight.values();
    let ws = Operands::quantize(pr.c_out * kv, c_in_g, format, |v, j| {
        let (oc, k) = (v / kv, v % kv);
        let (g, ocl) = (oc / c_out_g, oc % c_out_g);
        if transposed {
            w[((g * c_in_g + j) * c_out_g + ocl) * kv + k]
        } else {
            w[(oc * c_in_g + j) * kv + k]
        }
    });
    let source = if transposed {
        transpose_source
    } else {
        conv_source
    };
    let p_in = geo.input_len();
    pr.finish(|b, oc, pos| {
        let o = unflat3(pos, geo.output);
        let xbase = (b * geo.groups + oc / c_out_g) * p_in;
        let mut acc = Dyadic::ZERO;
        for k in 0..kv {
            if let Some(at) = source(o, unflat3(k, geo.kernel), p, geo.input) {
                acc = ws.dot_into(oc * kv + k, &xs, xbase + flat3(at, geo.input), acc);
            }
        }
        acc
    })
}

/// Elements of the im2col / col2im buffers (EXACT, 5 bytes each) built at once: larger
/// problems run in slices of whole batch entries, which bounds the memory at about 80 MB.
#[cfg(not(test))]
const BUFFER_ELEMENTS: usize = 1 << 24;
/// Unit tests slice every batch entry, so the multi-slice path is exercised.
#[cfg(test)]
const BUFFER_ELEMENTS: usize = 1;

/// Slices of the batch whose buffers (`per_batch` elements per batch entry) fit the bound; all
/// but the last have the same length.
fn batch_runs(batch: usize, per_batch: usize) -> Vec<core::ops::Range<usize>> {
    let step = (BUFFER_ELEMENTS / per_batch.max(1)).max(1);
    (0..batch)
        .step_by(step)
        .map(|s| s..(s + step).min(batch))
        .collect()
}

/// im2col + GEMM convolution (see the module docs).
fn conv_gemm(pr: &Problem) -> GsqTensor {
    let (geo, p) = (&pr.geo, &pr.p);
    let (kv, c_in_g, groups) = (geo.kernel_len(), geo.c_in_g, geo.groups);
    let (p_in, p_out) = (geo.input_len(), geo.output_len());
    let k_len = c_in_g * kv;
    let runs = batch_runs(geo.batch, groups * k_len * p_out);
    // One slice without bias: the GEMM writes the output as it stands, in the stream format.
    let direct = pr.bias.is_none() && runs.len() == 1;
    let out_format = if direct {
        pr.x.out().0
    } else {
        GseFormat::EXACT
    };
    let (xv, w) = (pr.x.values(), dense(&pr.weight.tensor));
    let products: Vec<GseBlocks> = runs
        .iter()
        .map(|run| {
            let entries = run.len() * groups;
            // Columns [b, G, K, P_out], K = (channel, tap): exact copies, zero in padding.
            let cols = generate(
                &[entries * k_len * p_out],
                GseFormat::EXACT,
                Rounding::NearestEven,
                |i| {
                    let (pos, row, e) = (i % p_out, (i / p_out) % k_len, i / (p_out * k_len));
                    let (b, g) = (run.start + e / groups, e % groups);
                    let (c, k) = (row / kv, row % kv);
                    conv_source(
                        unflat3(pos, geo.output),
                        unflat3(k, geo.kernel),
                        p,
                        geo.input,
                    )
                    .map_or(Dyadic::ZERO, |at| {
                        xv[(b * pr.c_in + g * c_in_g + c) * p_in + flat3(at, geo.input)]
                    })
                },
            );
            let a: Vec<MatRef> = (0..entries)
                .map(|e| view(&w, (e % groups) * geo.c_out_g * k_len, geo.c_out_g, k_len))
                .collect();
            let b: Vec<MatRef> = (0..entries)
                .map(|e| view(&cols, e * k_len * p_out, k_len, p_out))
                .collect();
            // Entry (b, g) holds rows g * C_out/g.. of batch b: the stack is [b, C_out, P_out].
            gse_gemm::matmul_batched(&a, &b, &pr.gemm_config(out_format))
        })
        .collect();
    if direct {
        let blocks = products.into_iter().next().expect("one slice");
        return pr.x.derive(GseTensor::from_blocks(blocks, &pr.out_shape()));
    }
    let (step, c_out) = (runs[0].len(), pr.c_out);
    pr.finish(|b, oc, pos| products[b / step].get(((b % step) * c_out + oc) * p_out + pos))
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
fn transpose_source(
    o: [usize; 3],
    k: [usize; 3],
    p: &Params,
    input: [usize; 3],
) -> Option<[usize; 3]> {
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

/// GEMM + col2im-gather transposed convolution (see the module docs).
fn conv_transpose_gemm(pr: &Problem) -> GsqTensor {
    let (geo, p) = (&pr.geo, &pr.p);
    let (kv, c_in_g, c_out_g, groups) = (geo.kernel_len(), geo.c_in_g, geo.c_out_g, geo.groups);
    let p_in = geo.input_len();
    let m = c_out_g * kv;
    let (w, x) = (dense(&pr.weight.tensor), dense(&pr.x.tensor));
    let runs = batch_runs(geo.batch, groups * m * p_in);
    // Per slice, columns [b, G, (C_out/g, KV), P_in]: every tap's contribution from every
    // input position, kept in EXACT until the gather adds them.
    let products: Vec<GseBlocks> = runs
        .iter()
        .map(|run| {
            let entries = run.len() * groups;
            // Weight [C_in, C_out/g, KV]: group g's rows, transposed to [(C_out/g, KV) x C_in/g].
            let a: Vec<MatRef> = (0..entries)
                .map(|e| view(&w, (e % groups) * c_in_g * m, c_in_g, m).t())
                .collect();
            let b: Vec<MatRef> = (0..entries)
                .map(|e| {
                    let (b, g) = (run.start + e / groups, e % groups);
                    view(&x, (b * pr.c_in + g * c_in_g) * p_in, c_in_g, p_in)
                })
                .collect();
            gse_gemm::matmul_batched(&a, &b, &pr.gemm_config(GseFormat::EXACT))
        })
        .collect();
    let step = runs.first().map_or(1, |r| r.len());
    pr.finish(|b, oc, pos| {
        let o = unflat3(pos, geo.output);
        let (g, ocl) = (oc / c_out_g, oc % c_out_g);
        let cols = &products[b / step];
        let base = (((b % step) * groups + g) * m + ocl * kv) * p_in;
        let mut acc = Dyadic::ZERO;
        for k in 0..kv {
            if let Some(at) = transpose_source(o, unflat3(k, geo.kernel), p, geo.input) {
                acc = acc.add(cols.get(base + k * p_in + flat3(at, geo.input)));
            }
        }
        acc
    })
}

#[cfg(test)]
#[allow(clippy::float_arithmetic)]
mod tests {
    //! The GEMM paths here run with one batch entry per slice (`BUFFER_ELEMENTS` is 1 under
    //! `cfg(test)`); `tests/module_ops.rs` covers the semantics against burn-ndarray.
    use super::*;
    use crate::GsqDevice;
    use gse::SpecialPolicy;

    fn tensor(shape: &[usize], seed: u64, dev: GsqDevice) -> (GsqTensor, Vec<f64>) {
        let mut s = seed;
        let v: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect();
        let p = dev.policy();
        let (t, _) =
            GseTensor::from_f32(&v, shape, p.stream, p.rounding, SpecialPolicy::Saturate).unwrap();
        (
            GsqTensor::new(t, dev),
            v.iter().map(|&x| x as f64).collect(),
        )
    }

    /// Direct f64 convolution `[B, C, 1, W]` (stride 2, padding 1) or its transpose.
    fn reference(
        x: &[f64],
        w: &[f64],
        bias: &[f64],
        [b, ci, wi, co, k]: [usize; 5],
        transposed: bool,
    ) -> Vec<f64> {
        let wo = if transposed {
            (wi - 1) * 2 + k - 2
        } else {
            (wi + 2 - k) / 2 + 1
        };
        let mut out = vec![0.0; b * co * wo];
        for (i, o) in out.iter_mut().enumerate() {
            let (bb, oc, ox) = (i / (co * wo), (i / wo) % co, i % wo);
            *o = bias[oc];
            for c in 0..ci {
                for t in 0..k {
                    let (src, wv) = if transposed {
                        let p = ox as isize + 1 - t as isize;
                        (
                            (p >= 0 && p % 2 == 0).then_some(p as usize / 2),
                            w[(c * co + oc) * k + t],
                        )
                    } else {
                        ((ox * 2 + t).checked_sub(1), w[(oc * ci + c) * k + t])
                    };
                    if let Some(s) = src.filter(|&s| s < wi) {
                        *o += wv * x[(bb * ci + c) * wi + s];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn sliced_gemm_paths_match_f64() {
        let ([b, ci, wi, co, k], dev) = ([3, 40, 9, 5, 3], GsqDevice::default());
        for transposed in [false, true] {
            let (x, xv) = tensor(&[b, ci, 1, wi], 1, dev);
            let wshape = if transposed {
                [ci, co, 1, k]
            } else {
                [co, ci, 1, k]
            };
            let (w, wv) = tensor(&wshape, 2, dev);
            for with_bias in [false, true] {
                let (bt, bv) = tensor(&[co], 3, dev);
                let bv = if with_bias { bv } else { vec![0.0; co] };
                let bias = with_bias.then_some(bt);
                let got = if transposed {
                    conv_transpose2d(
                        x.clone(),
                        w.clone(),
                        bias,
                        ConvTransposeOptions::new([1, 2], [0, 1], [0, 0], [1, 1], 1),
                    )
                } else {
                    conv2d(
                        x.clone(),
                        w.clone(),
                        bias,
                        ConvOptions::new([1, 2], [0, 1], [1, 1], 1),
                    )
                };
                let want = reference(&xv, &wv, &bv, [b, ci, wi, co, k], transposed);
                let got = got.gse().to_f32();
                assert_eq!(got.len(), want.len());
                let (num, den) = got.iter().zip(&want).fold((0.0, 0.0), |(n, d), (&g, &w)| {
                    (n + (g as f64 - w) * (g as f64 - w), d + w * w)
                });
                let rel = (num / den).sqrt();
                assert!(
                    rel < 0.02,
                    "transposed {transposed} bias {with_bias}: relative L2 {rel}"
                );
            }
        }
    }
}
