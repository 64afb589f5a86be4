//! [`LoraLinear`]: a frozen linear layer plus a trainable low-rank update.

use burn::module::{Module, Param, ParamId};
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::module::linear;
use burn::tensor::{Tensor, TensorData};

use crate::{LoraConfig, LoraError};

/// A linear layer with a LoRA adapter:
/// `y = x·W + b + (alpha / rank)·dropout(x)·A·B`.
///
/// * `weight` (`[d_in, d_out]`, burn's `Linear` layout) and `bias` (`[d_out]`) are **frozen**:
///   their params do not require gradients, so autodiff builds none for them and optimizers
///   keep no state for them.
/// * `lora_a` (`[d_in, rank]`) starts from [`LoraConfig::init_a`], `lora_b` (`[rank, d_out]`)
///   at zero, so a fresh adapter leaves the layer's output unchanged.
///
/// [`Self::merge`] folds the update into `weight` (the forward pass then skips the adapter) and
/// [`Self::unmerge`] takes it out again.
#[derive(Module, Debug)]
pub struct LoraLinear<B: Backend> {
    /// Frozen base weight `[d_in, d_out]`.
    pub weight: Param<Tensor<B, 2>>,
    /// Frozen base bias `[d_out]`.
    pub bias: Option<Param<Tensor<B, 1>>>,
    /// Trainable down-projection `[d_in, rank]`.
    pub lora_a: Param<Tensor<B, 2>>,
    /// Trainable up-projection `[rank, d_out]`.
    pub lora_b: Param<Tensor<B, 2>>,
    dropout: Dropout,
    alpha: f64,
    rank: usize,
    merged: bool,
}

/// A tensor as a frozen parameter: detached and not requiring gradients.
pub(crate) fn frozen<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Param<Tensor<B, D>> {
    Param::initialized(ParamId::new(), tensor.detach().set_require_grad(false))
}

impl<B: Backend> LoraLinear<B> {
    /// Wraps a burn `Linear` (its weight and bias become frozen).
    pub fn from_linear(linear: Linear<B>, config: &LoraConfig) -> Result<Self, LoraError> {
        let weight = linear.weight.val();
        let device = weight.device();
        let bias = linear.bias.map(|b| b.val());
        Self::from_weight(weight, bias, config, &device)
    }

    /// Builds the layer over a base `weight` `[d_in, d_out]` and optional `bias` `[d_out]`,
    /// both moved to `device` and frozen.
    pub fn from_weight(
        weight: Tensor<B, 2>,
        bias: Option<Tensor<B, 1>>,
        config: &LoraConfig,
        device: &B::Device,
    ) -> Result<Self, LoraError> {
        config.validate()?;
        let [d_in, d_out] = weight.dims();
        if let Some(b) = &bias
            && b.dims() != [d_out]
        {
            return Err(LoraError::Layer {
                name: "bias".into(),
                reason: format!(
                    "bias has shape {:?}, the weight [d_in, d_out] = [{d_in}, {d_out}] needs [{d_out}]",
                    b.dims()
                ),
            });
        }
        let rank = config.rank;
        let lora_a = config
            .init_a
            .init_with([d_in, rank], Some(d_in), Some(rank), device);
        let lora_b = Param::from_tensor(Tensor::zeros([rank, d_out], device));
        Ok(Self {
            weight: frozen(weight.to_device(device)),
            bias: bias.map(|b| frozen(b.to_device(device))),
            lora_a,
            lora_b,
            dropout: DropoutConfig::new(config.dropout).init(),
            alpha: config.alpha,
            rank,
            merged: false,
        })
    }

    /// Applies the layer to `x` `[..., d_in]`, giving `[..., d_out]`.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let bias = self.bias.as_ref().map(|b| b.val());
        if self.merged {
            return linear(x, self.weight.val(), bias);
        }
        let base = linear(x.clone(), self.weight.val(), bias);
        let down = linear(self.dropout.forward(x), self.lora_a.val(), None);
        let up = linear(down, self.lora_b.val(), None);
        base + self.scale(up)
    }

    /// `t · alpha / rank`, as two scalar ops (no float arithmetic here).
    fn scale<const D: usize>(&self, t: Tensor<B, D>) -> Tensor<B, D> {
        t.mul_scalar(self.alpha).div_scalar(self.rank as f64)
    }

    /// The update `(alpha / rank)·A·B` `[d_in, d_out]`, detached from the graph.
    pub fn delta_weight(&self) -> Tensor<B, 2> {
        let ab = self
            .lora_a
            .val()
            .detach()
            .matmul(self.lora_b.val().detach());
        self.scale(ab)
    }

    /// Folds the update into the base weight (`W += (alpha / rank)·A·B`); the forward pass then
    /// uses `W` alone. Merging a merged layer changes nothing.
    pub fn merge(mut self) -> Self {
        if self.merged {
            return self;
        }
        let delta = self.delta_weight();
        self.weight = self
            .weight
            .map(|w| (w + delta).detach().set_require_grad(false));
        self.merged = true;
        self
    }

    /// Takes the update out of the base weight again (`W -= (alpha / rank)·A·B`). Exact up to
    /// the rounding of the add and subtract. Unmerging an unmerged layer changes nothing.
    pub fn unmerge(mut self) -> Self {
        if !self.merged {
            return self;
        }
        let delta = self.delta_weight();
        self.weight = self
            .weight
            .map(|w| (w - delta).detach().set_require_grad(false));
        self.merged = false;
        self
    }

    pub fn is_merged(&self) -> bool {
        self.merged
    }

    pub fn rank(&self) -> usize {
        self.rank
    }

    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Dropout probability on the adapter's input.
    pub fn dropout(&self) -> f64 {
        self.dropout.prob
    }

    /// Input features.
    pub fn d_input(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Output features.
    pub fn d_output(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Shape of `lora_a` in burn's layout: `[d_in, rank]`.
    pub fn lora_a_shape(&self) -> [usize; 2] {
        [self.d_input(), self.rank]
    }

    /// Shape of `lora_b` in burn's layout: `[rank, d_out]`.
    pub fn lora_b_shape(&self) -> [usize; 2] {
        [self.rank, self.d_output()]
    }

    /// Replaces `alpha` and `dropout` (as read from an adapter file).
    pub(crate) fn set_hyper(&mut self, alpha: f64, dropout: f64) {
        self.alpha = alpha;
        self.dropout = DropoutConfig::new(dropout).init();
    }

    /// Replaces `A` and `B` by row-major f32 values of their current shapes, keeping each
    /// param's id and whether it requires gradients.
    pub(crate) fn set_adapter(&mut self, a: Vec<f32>, b: Vec<f32>) {
        let a_shape = self.lora_a_shape();
        let b_shape = self.lora_b_shape();
        self.lora_a = replace_values(self.lora_a.clone(), a, a_shape);
        self.lora_b = replace_values(self.lora_b.clone(), b, b_shape);
    }
}

/// `param` holding `values` (row-major, of `shape`) on its device, same id and grad setting.
fn replace_values<B: Backend>(
    param: Param<Tensor<B, 2>>,
    values: Vec<f32>,
    shape: [usize; 2],
) -> Param<Tensor<B, 2>> {
    param.map(|old| {
        let device = old.device();
        let require_grad = old.is_require_grad();
        Tensor::from_data(TensorData::new(values, shape), &device).set_require_grad(require_grad)
    })
}
