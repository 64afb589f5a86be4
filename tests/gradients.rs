//! Gradients: `Autodiff<Gsq>` against `Autodiff<NdArray>` (f32) on the same seeded inputs and
//! weights, for the ops and modules a transformer trains through.
//!
//! Every body builds a scalar loss as a weighted sum of its output with a seeded cotangent (a
//! plain sum would give zero gradients through softmax and layer norm), runs `backward` and
//! returns the gradient of every input and parameter (and the forward value).
//!
//! Tolerances (the acceptance bar): at the default policy every gradient is within 6%
//! relative L2 of f32, against the raw, unquantized inputs (end to end: input rounding, INT8
//! matmul operands and STREAM16 results included); at the exact policy within 1e-5.

#[macro_use]
mod common;

use burn::backend::Autodiff;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig, generate_autoregressive_mask};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{EmbeddingConfig, Gelu, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::module::{attention, embedding};
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Tensor, TensorData};
use burn_gsq::Gsq;
use common::*;

/// Default policy: the bar for gradients, end to end against the raw inputs.
const D_GRAD: Tol = Tol::l2_only(0.06).raw().f64();
/// Exact policy: integer-emulated f32, within 1e-5 of the true gradient.
///
/// The reference runs in f64 (`Autodiff<NdArray<f64>>`, with burn-ndarray's default float
/// dtype set to F64 so that tensors burn creates inside the graph are f64 too): burn's
/// autodiff differentiates `log` and `div` with `float_recip`, which burn-ndarray computes in
/// f32 with a ~12-bit SIMD approximation, so an f32 reference's gradients are off by up to
/// ~2.5e-4 by themselves.
const E_GRAD: Tol = Tol::l2_only(1e-5).f64();

/// `diff!` for autodiff bodies: `B: AutodiffBackend`, run on `Autodiff<Gsq>` (both policies)
/// and `Autodiff<NdArray>`.
macro_rules! grad_diff {
    ($family:expr, $inputs:expr, |$B:ident, $dev:ident, $x:ident| $body:block) => {{
        #[allow(unused_variables)]
        fn run<$B: AutodiffBackend>($dev: &$B::Device, $x: &[Input]) -> Vec<Out> {
            $body
        }
        common::ndarray_defaults_to_f64();
        common::differential(
            $family,
            &$inputs,
            run::<Autodiff<Gsq>>,
            run::<Autodiff<Ref>>,
            run::<Autodiff<Ref64>>,
            D_GRAD,
            E_GRAD,
        )
    }};
}

/// A leaf that requires a gradient.
fn leaf<B: AutodiffBackend, const D: usize>(x: &Input, dev: &B::Device) -> Tensor<B, D> {
    ft::<B, D>(x, dev).require_grad()
}

/// `sum(y * c)` with a seeded cotangent `c` of y's shape.
fn weighted<B: AutodiffBackend, const D: usize>(y: Tensor<B, D>, seed: u64) -> Tensor<B, 1> {
    let dims = y.dims();
    let n = dims.iter().product();
    let c = Tensor::<B, D>::from_data(
        TensorData::new(normal(n, 1.0, seed), dims),
        (&y.device(), float_dtype::<B>()),
    );
    (y * c).sum()
}

/// Whether `B` is the reference (burn-ndarray).
fn is_reference<B: AutodiffBackend>(dev: &B::Device) -> bool {
    B::name(dev).contains("ndarray")
}

/// gelu. burn's default `gelu_backward` (which burn-ndarray uses) differentiates the tanh
/// approximation of gelu (off by up to ~1e-3), while Gsq's fused backward is the derivative
/// of the erf form; the reference therefore differentiates the erf formula itself.
fn gelu<B: AutodiffBackend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    if is_reference::<B>(&x.device()) {
        x.clone() * (x / std::f64::consts::SQRT_2).erf().add_scalar(1.0) * 0.5
    } else {
        activation::gelu(x)
    }
}

/// The gradient of a leaf.
fn grad<B: AutodiffBackend, const D: usize>(
    label: &str,
    t: &Tensor<B, D>,
    g: &B::Gradients,
) -> Out {
    fo(
        label,
        t.grad(g)
            .unwrap_or_else(|| panic!("no gradient for {label}")),
    )
}

/// Replaces every float parameter with seeded values (same for every backend): rank-2
/// weights N(0, 1/fan_in), rank-1 parameters 0.5 + N(0, 0.3^2).
struct Reinit {
    seed: u64,
}

impl<B: burn::tensor::backend::Backend> ModuleMapper<B> for Reinit {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, t, mapper) = param.consume();
        let dims = t.dims();
        let dev = t.device();
        let n: usize = dims.iter().product();
        self.seed += 1;
        let data: Vec<f32> = if D == 1 {
            normal(n, 0.3, self.seed)
                .into_iter()
                .map(|v| v + 0.5)
                .collect()
        } else {
            normal(n, 1.0 / (dims[0] as f64).sqrt(), self.seed)
        };
        let fresh =
            Tensor::<B, D>::from_data(TensorData::new(data, dims), (&dev, float_dtype::<B>()))
                .require_grad();
        Param::from_mapped_value(id, fresh, mapper)
    }
}

fn reinit<B: burn::tensor::backend::Backend, M: Module<B>>(m: M, seed: u64) -> M {
    m.map(&mut Reinit { seed })
}

/// Collects the gradient of every float parameter, in visiting order.
struct Grads<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    outs: Vec<Out>,
    prefix: &'static str,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Grads<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let label = format!(
            "{} param {} {:?}",
            self.prefix,
            self.outs.len(),
            param.val().dims()
        );
        let out = grad(&label, &param.val(), self.grads);
        self.outs.push(out);
    }
}

fn param_grads<B: AutodiffBackend, M: Module<B>>(
    prefix: &'static str,
    m: &M,
    g: &B::Gradients,
) -> Vec<Out> {
    let mut v = Grads::<B> {
        grads: g,
        outs: Vec::new(),
        prefix,
    };
    m.visit(&mut v);
    v.outs
}

// ---------------------------------------------------------------------------------------------

#[test]
fn matmul_gradients() {
    let inputs = vec![
        Input::normal(&[8, 45], 1.0, 1),
        Input::normal(&[45, 23], 0.2, 2),
        Input::normal(&[3, 40, 9], 1.0, 3),
        Input::normal(&[3, 40, 11], 0.2, 4),
    ];
    grad_diff!("grad matmul", inputs, |B, dev, x| {
        let a = leaf::<B, 2>(&x[0], dev);
        let w = leaf::<B, 2>(&x[1], dev);
        let b = leaf::<B, 3>(&x[2], dev);
        let c = leaf::<B, 3>(&x[3], dev);
        let y = a.clone().matmul(w.clone());
        let z = b.clone().swap_dims(1, 2).matmul(c.clone()); // transposed view
        let loss = weighted(y.clone(), 10) + weighted(z.clone(), 11);
        let g = loss.backward();
        vec![
            fo("forward 2D", y.inner()),
            fo("forward batched", z.inner()),
            grad("dA", &a, &g),
            grad("dW", &w, &g),
            grad("dB (transposed operand)", &b, &g),
            grad("dC", &c, &g),
        ]
    });
}

#[test]
fn softmax_and_log_softmax_gradients() {
    let inputs = vec![
        Input::normal(&[6, 37], 2.0, 21),
        Input::normal(&[4, 5, 19], 1.5, 22),
    ];
    grad_diff!("grad softmax/log_softmax", inputs, |B, dev, x| {
        let a = leaf::<B, 2>(&x[0], dev);
        let b = leaf::<B, 3>(&x[1], dev);
        let s = activation::softmax(a.clone(), 1);
        let l = activation::log_softmax(b.clone(), 2);
        let loss = weighted(s, 23) + weighted(l, 24);
        let g = loss.backward();
        let a2 = leaf::<B, 2>(&x[0], dev);
        let g2 = weighted(activation::softmax(a2.clone(), 0), 25).backward();
        vec![
            grad("d softmax dim 1", &a, &g),
            grad("d log_softmax", &b, &g),
            grad("d softmax dim 0", &a2, &g2),
        ]
    });
}

#[test]
fn layer_norm_gradients() {
    let inputs = vec![Input::normal(&[3, 5, 40], 2.0, 31).map(|v| v + 0.5)];
    grad_diff!("grad layer_norm", inputs, |B, dev, x| {
        let ln: LayerNorm<B> = reinit(LayerNormConfig::new(40).init(dev), 32);
        let input = leaf::<B, 3>(&x[0], dev);
        let g = weighted(ln.forward(input.clone()), 33).backward();
        let mut out = vec![grad("d input", &input, &g)];
        out.extend(param_grads("layer_norm", &ln, &g));
        out
    });
}

#[test]
fn gelu_gradients() {
    let inputs = vec![Input::normal(&[6, 37], 2.0, 41)];
    grad_diff!("grad gelu", inputs, |B, dev, x| {
        let a = leaf::<B, 2>(&x[0], dev);
        let g = weighted(gelu(a.clone()), 42).backward();
        let b = leaf::<B, 2>(&x[0], dev);
        let g2 = weighted(gelu(b.clone()) * activation::sigmoid(b.clone()), 43).backward();
        vec![grad("d gelu", &a, &g), grad("d gelu * sigmoid", &b, &g2)]
    });
}

#[test]
fn elementwise_math_gradients() {
    let inputs = vec![
        Input::normal(&[5, 33], 1.0, 51),
        Input::uniform(&[5, 33], 0.2, 5.0, 52),
        Input::normal(&[5, 33], 1.0, 53).map(|v| if v >= 0.0 { v + 0.5 } else { v - 0.5 }),
        Input::normal(&[1, 33], 1.0, 54).map(|v| if v >= 0.0 { v + 0.5 } else { v - 0.5 }),
    ];
    grad_diff!("grad exp/log/sqrt/div", inputs, |B, dev, x| {
        let a = leaf::<B, 2>(&x[0], dev);
        let p = leaf::<B, 2>(&x[1], dev);
        let d = leaf::<B, 2>(&x[2], dev);
        let r = leaf::<B, 2>(&x[3], dev); // broadcast denominator: its gradient is a reduction
        let ge = weighted(a.clone().exp(), 55).backward();
        let gl = weighted(p.clone().log(), 56).backward();
        let p2 = leaf::<B, 2>(&x[1], dev);
        let gs = weighted(p2.clone().sqrt(), 57).backward();
        let gd = weighted(a.clone().detach().require_grad() / d.clone(), 58).backward();
        let n = leaf::<B, 2>(&x[0], dev);
        let gb = weighted(n.clone() / r.clone() + n.clone() * n.clone().tanh(), 59).backward();
        vec![
            grad("d exp", &a, &ge),
            grad("d log", &p, &gl),
            grad("d sqrt", &p2, &gs),
            grad("d div (denominator)", &d, &gd),
            grad("d numerator (div + x tanh x)", &n, &gb),
            grad("d broadcast denominator", &r, &gb),
        ]
    });
}

#[test]
fn embedding_gradients() {
    let inputs = vec![Input::normal(&[11, 19], 1.0, 61)];
    grad_diff!("grad embedding", inputs, |B, dev, x| {
        let w = leaf::<B, 2>(&x[0], dev);
        let idx = it::<B, 2>(ints(21, 0, 11, 62), [3, 7], dev); // repeated ids accumulate
        let g = weighted(embedding(w.clone(), idx.clone()), 63).backward();
        let m = reinit(EmbeddingConfig::new(11, 8).init::<B>(dev), 64);
        let g2 = weighted(m.forward(idx), 65).backward();
        let mut out = vec![grad("d weights (module::embedding)", &w, &g)];
        out.extend(param_grads("nn::Embedding", &m, &g2));
        out
    });
}

#[test]
fn attention_gradients() {
    let inputs = vec![
        Input::normal(&[2, 3, 7, 16], 1.0, 71),
        Input::normal(&[2, 3, 9, 16], 1.0, 72),
        Input::normal(&[2, 3, 9, 12], 1.0, 73),
    ];
    grad_diff!("grad module::attention", inputs, |B, dev, x| {
        let q = leaf::<B, 4>(&x[0], dev);
        let k = leaf::<B, 4>(&x[1], dev);
        let v = leaf::<B, 4>(&x[2], dev);
        let out = attention(
            q.clone(),
            k.clone(),
            v.clone(),
            None,
            None,
            AttentionModuleOptions::default(),
        );
        let g = weighted(out.clone(), 74).backward();
        let (q2, k2, v2) = (
            leaf::<B, 4>(&x[0], dev),
            leaf::<B, 4>(&x[1], dev),
            leaf::<B, 4>(&x[2], dev),
        );
        // Key 0 is never masked, so with the causal mask every row keeps at least one key
        // (fully masked rows are `attention_fully_masked_row`'s subject).
        let mut mv = bools(2 * 3 * 7 * 9, 0.3, 75);
        for row in 0..2 * 3 * 7 {
            mv[row * 9] = false;
        }
        let mask = bt::<B, 4>(mv, [2, 3, 7, 9], dev);
        let causal = AttentionModuleOptions {
            is_causal: true,
            ..Default::default()
        };
        let masked = attention(q2.clone(), k2.clone(), v2.clone(), Some(mask), None, causal);
        let g2 = weighted(masked.clone(), 76).backward();
        vec![
            fo("forward", out.inner()),
            grad("dQ", &q, &g),
            grad("dK", &k, &g),
            grad("dV", &v, &g),
            fo("forward masked+causal", masked.inner()),
            grad("dQ masked+causal", &q2, &g2),
            grad("dK masked+causal", &k2, &g2),
            grad("dV masked+causal", &v2, &g2),
        ]
    });
}

/// A row whose keys are all masked: burn's fallback (used under autodiff) fills masked scores
/// with -inf and gives such a row zero probability; the forward must be zeros there and the
/// gradients must match.
/// Known limitation, not yet fixed (run with `--ignored`): burn-autodiff always computes
/// `attention` with burn's `attention_fallback`, which masks with `-inf`, clamps each row's max
/// to `finfo.min = -f32::MAX` and relies on `-inf - (-f32::MAX) = -inf` so that a fully masked
/// row's softmax is all zeros. GSE has no infinity: `-inf` saturates to the format's largest
/// magnitude, which is not below `-f32::MAX` (STREAM16 even rounds `-f32::MAX` to it), so that
/// row becomes `x - x = 0` and its softmax uniform. The fix needs a GSE code for `-inf` below
/// every finite f32 (e.g. the never-produced mantissa `-2^(bits-1)` at the top scale, which is
/// exactly `-2^128`) through quantizers, decoders and kernels. Gsq's own (non-autodiff)
/// `attention` leaves masked keys out and is right (`differential::attention_module_op`).
#[test]
#[ignore = "fully masked attention rows under Autodiff<Gsq> need a GSE -inf code (see doc)"]
fn attention_fully_masked_row() {
    let inputs = vec![
        Input::normal(&[1, 2, 4, 8], 1.0, 81),
        Input::normal(&[1, 2, 5, 8], 1.0, 82),
        Input::normal(&[1, 2, 5, 8], 1.0, 83),
    ];
    grad_diff!("grad attention fully masked row", inputs, |B, dev, x| {
        let q = leaf::<B, 4>(&x[0], dev);
        let k = leaf::<B, 4>(&x[1], dev);
        let v = leaf::<B, 4>(&x[2], dev);
        let mut m = bools(2 * 4 * 5, 0.2, 84);
        for row in 0..8 {
            m[row * 5] = false; // every row keeps key 0...
        }
        for j in 0..5 {
            m[5 + j] = true; // ...except head 0, query 1: every key masked
        }
        let mask = bt::<B, 4>(m, [1, 2, 4, 5], dev);
        let out = attention(
            q.clone(),
            k.clone(),
            v.clone(),
            Some(mask),
            None,
            AttentionModuleOptions::default(),
        );
        let g = weighted(out.clone(), 85).backward();
        vec![
            fo("forward", out.inner()),
            grad("dQ", &q, &g),
            grad("dK", &k, &g),
            grad("dV", &v, &g),
        ]
    });
}

#[test]
fn multi_head_attention_gradients() {
    let inputs = vec![Input::normal(&[2, 10, 32], 1.0, 91)];
    grad_diff!("grad nn::MultiHeadAttention causal", inputs, |B, dev, x| {
        let mha = reinit(
            MultiHeadAttentionConfig::new(32, 4)
                .with_dropout(0.0)
                .init::<B>(dev),
            92,
        );
        let input = leaf::<B, 3>(&x[0], dev);
        let mask = generate_autoregressive_mask::<B>(2, 10, dev);
        let out = mha.forward(MhaInput::self_attn(input.clone()).mask_attn(mask));
        let g = weighted(out.context.clone(), 93).backward();
        let mut outs = vec![
            fo("context", out.context.inner()),
            grad("d input", &input, &g),
        ];
        let mut params = param_grads("mha", &mha, &g);
        // Parameter 3 is the key projection's bias: adding one vector to every key adds one
        // constant to each row of scores, which softmax ignores, so its true gradient is 0 and
        // both backends return round-off noise. It is left out.
        assert!(
            params[3].label.contains("param 3 [32]"),
            "{}",
            params[3].label
        );
        params.remove(3);
        outs.extend(params);
        outs
    });
}

#[test]
fn cross_entropy_gradients() {
    let inputs = vec![
        Input::normal(&[13, 10], 2.0, 101),
        Input::normal(&[24, 33], 1.5, 102),
    ];
    grad_diff!("grad cross-entropy", inputs, |B, dev, x| {
        let logits = leaf::<B, 2>(&x[0], dev);
        let targets = it::<B, 1>(ints(13, 0, 10, 103), [13], dev);
        let loss = CrossEntropyLossConfig::new()
            .init::<B>(dev)
            .forward(logits.clone(), targets);
        let g = loss.backward();
        let big = leaf::<B, 2>(&x[1], dev);
        let t2 = it::<B, 1>(ints(24, 0, 33, 104), [24], dev);
        let loss2 = CrossEntropyLossConfig::new()
            .with_smoothing(Some(0.1))
            .init::<B>(dev)
            .forward(big.clone(), t2);
        let g2 = loss2.backward();
        vec![
            fo("loss", loss.inner()),
            grad("d logits", &logits, &g),
            fo("loss smoothing", loss2.inner()),
            grad("d logits smoothing", &big, &g2),
        ]
    });
}

#[derive(Module, Debug)]
struct Stack<B: burn::tensor::backend::Backend> {
    up: Linear<B>,
    norm: LayerNorm<B>,
    act: Gelu,
    down: Linear<B>,
}

impl<B: burn::tensor::backend::Backend> Stack<B> {
    fn new(dev: &B::Device) -> Self {
        Self {
            up: LinearConfig::new(24, 40).init(dev),
            norm: LayerNormConfig::new(40).init(dev),
            act: Gelu::new(),
            down: LinearConfig::new(40, 8).init(dev),
        }
    }

    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.down
            .forward(self.act.forward(self.norm.forward(self.up.forward(x))))
    }
}

impl<B: AutodiffBackend> Stack<B> {
    /// `forward` with the reference's gelu differentiated in its erf form (see [`gelu`]).
    fn forward_ad(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.down
            .forward(gelu(self.norm.forward(self.up.forward(x))))
    }
}

#[test]
fn linear_layernorm_gelu_stack_gradients() {
    let inputs = vec![Input::normal(&[4, 10, 24], 1.0, 111)];
    grad_diff!("grad Linear+LayerNorm+Gelu stack", inputs, |B, dev, x| {
        let stack = reinit(Stack::<B>::new(dev), 112);
        let input = leaf::<B, 3>(&x[0], dev);
        let y = stack.forward_ad(input.clone());
        let g = weighted(y.clone(), 113).backward();
        // burn-nn's Gelu module itself, forward only (same function as `activation::gelu`).
        let module = stack.forward(input.clone().detach());
        let mut outs = vec![
            fo("forward", y.inner()),
            fo("forward (nn::Gelu)", module.inner()),
            grad("d input", &input, &g),
        ];
        outs.extend(param_grads("stack", &stack, &g));
        outs
    });
}
