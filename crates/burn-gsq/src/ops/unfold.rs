//! `unfold4d`: sliding blocks of a `[B, C, H, W]` tensor as columns, a pure copy.
//!
//! Output `[B, C * KH * KW, L]`: row `c * KH * KW + kh * KW + kw`, column `l = oh * OW + ow`
//! holds `x[b, c, oh * sh + kh * dh - ph, ow * sw + kw * dw - pw]`, or zero in the padding — the
//! layout burn's default (a conv2d with one-hot weights) produces. Values are copied exactly.

use burn_backend::ops::UnfoldOptions;
use gse::Dyadic;
use gse_kernels::generate;

use crate::GsqTensor;
use crate::ops::conv::conv_out_len;

pub(crate) fn unfold4d(x: GsqTensor, kernel_size: [usize; 2], options: UnfoldOptions) -> GsqTensor {
    let op = "unfold4d";
    let d = x.dims();
    assert!(
        d.len() == 4,
        "burn-gsq {op}: input must be [batch, channels, height, width], got {d:?}"
    );
    let (b, c, h, w) = (d[0], d[1], d[2], d[3]);
    let [kh, kw] = kernel_size;
    let (s, p, dil) = (options.stride, options.padding, options.dilation);
    let oh = conv_out_len(h, kh, s[0], p[0], dil[0], op);
    let ow = conv_out_len(w, kw, s[1], p[1], dil[1], op);
    let (rows, cols) = (c * kh * kw, oh * ow);
    let values = x.values();
    // The input coordinate of output position `o`, kernel offset `k` along an axis, if inside.
    let source = |o: usize, k: usize, axis: usize, size: usize| {
        (o * s[axis] + k * dil[axis])
            .checked_sub(p[axis])
            .filter(|&i| i < size)
    };
    let value = |i: usize| {
        let (l, row) = (i % cols, (i / cols) % rows);
        let batch = i / (cols * rows);
        let (ch, k) = (row / (kh * kw), row % (kh * kw));
        match (source(l / ow, k / kw, 0, h), source(l % ow, k % kw, 1, w)) {
            (Some(y), Some(q)) => values[((batch * c + ch) * h + y) * w + q],
            _ => Dyadic::ZERO,
        }
    };
    let (fmt, rounding) = x.out();
    x.derive(generate(&[b, rows, cols], fmt, rounding, value))
}
