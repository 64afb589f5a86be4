//! Scaled dot-product attention with masking inside the softmax.
//!
//! burn's fallback fills masked scores with `-inf`; GSE has no infinities, so masked positions
//! are instead left out of the row's softmax (probability exactly 0; a fully masked row gives
//! zeros, as the fallback does). Scores and context use the integer GEMM.

use burn_backend::ops::AttentionModuleOptions;
use burn_flex::FlexTensor;
use burn_std::Shape;
use gse::Dyadic;
use rayon::prelude::*;

use super::math::resolve;
use crate::convert::bool_values;
use crate::{GsqTensor, ops};

fn f64_option(x: f64) -> Dyadic {
    crate::convert::scalar_to_dyadic(burn_backend::Scalar::Float(x), gse::SpecialPolicy::Saturate)
}

pub(crate) fn attention(
    query: GsqTensor,
    key: GsqTensor,
    value: GsqTensor,
    mask: Option<FlexTensor>,
    bias: Option<GsqTensor>,
    options: AttentionModuleOptions,
) -> GsqTensor {
    let q_dims = query.dims().to_vec();
    let head_dim = q_dims[q_dims.len() - 1];
    let scale = match options.scale {
        Some(s) => f64_option(s),
        None => resolve(gse_math::recip(resolve(gse_math::sqrt(Dyadic::from_int(
            head_dim as i64,
        ))))),
    };
    let softcap = options.softcap.map(f64_option);
    let key_t = key.tensor.swap_dims(2, 3);
    let scores = ops::matmul::matmul(query.clone(), key.derive(key_t));
    let dims = scores.dims().to_vec();
    let (sq, sk) = (dims[2], dims[3]);
    let mut s = scores.values();
    let masked: Option<Vec<bool>> = mask.map(|m| expand_mask(m, &dims));
    let bias: Option<Vec<Dyadic>> = bias.map(|b| {
        let expanded = b.tensor.expand(&dims);
        expanded.to_dyadics()
    });
    let offset = sk as i64 - sq as i64;
    s.par_chunks_mut(sk).enumerate().for_each(|(row, scores)| {
        let i = (row % sq) as i64;
        let keep = |j: usize| {
            let by_mask = masked.as_ref().is_none_or(|m| !m[row * sk + j]);
            let by_causality = !options.is_causal || (j as i64) <= i + offset;
            by_mask && by_causality
        };
        for (j, v) in scores.iter_mut().enumerate() {
            let mut x = v.mul(scale);
            if let Some(cap) = softcap {
                x = cap.mul(resolve(gse_math::tanh(super::math::div(x, cap))));
            }
            if let Some(b) = &bias {
                x = x.add(b[row * sk + j]);
            }
            *v = x;
        }
        softmax_kept(scores, keep);
    });
    let probs = ops::creation::from_values(&s, &Shape::from(dims), &scores.device);
    ops::matmul::matmul(probs, value)
}

/// Softmax over the entries `keep` selects; the others become 0.
fn softmax_kept(row: &mut [Dyadic], keep: impl Fn(usize) -> bool) {
    let max = (0..row.len())
        .filter(|&j| keep(j))
        .map(|j| row[j])
        .reduce(super::math::max);
    let Some(max) = max else {
        row.fill(Dyadic::ZERO);
        return;
    };
    let mut sum = Dyadic::ZERO;
    for (j, v) in row.iter_mut().enumerate() {
        *v = if keep(j) {
            resolve(gse_math::exp(v.sub(max)))
        } else {
            Dyadic::ZERO
        };
        sum = sum.add(*v);
    }
    for v in row.iter_mut() {
        *v = super::math::div(*v, sum);
    }
}

fn expand_mask(mask: FlexTensor, dims: &[usize]) -> Vec<bool> {
    let mdims: Vec<usize> = mask.layout().shape().iter().copied().collect();
    let values = bool_values(mask);
    if mdims == dims {
        return values;
    }
    let n: usize = dims.iter().product();
    let mut mstrides = vec![1usize; mdims.len()];
    for a in (0..mdims.len().saturating_sub(1)).rev() {
        mstrides[a] = mstrides[a + 1] * mdims[a + 1];
    }
    let lead = dims.len() - mdims.len();
    (0..n)
        .map(|mut i| {
            let mut src = 0;
            for a in (0..dims.len()).rev() {
                let c = i % dims[a];
                i /= dims[a];
                if a >= lead && mdims[a - lead] != 1 {
                    src += c * mstrides[a - lead];
                }
            }
            values[src]
        })
        .collect()
}
