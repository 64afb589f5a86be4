//! [`Projection`]: a frozen linear map (no bias), with or without a LoRA adapter.

use burn::module::{Module, Param, ParamId};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use burn::tensor::module::linear;
use gsq_lora::{LoraConfig, LoraLinear};

use super::LlamaError;

/// A projection of a Llama block (`q_proj`, …, `down_proj`): either a frozen weight
/// `[d_in, d_out]` or a [`LoraLinear`] over that frozen weight.
#[derive(Module, Debug)]
pub struct Projection<B: Backend> {
    /// The frozen weight when the projection has no adapter.
    pub base: Option<Param<Tensor<B, 2>>>,
    /// The adapter (holding the frozen weight) when it has one.
    pub lora: Option<LoraLinear<B>>,
}

/// A tensor as a frozen parameter: detached and not requiring gradients.
pub fn frozen<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Param<Tensor<B, D>> {
    Param::initialized(ParamId::new(), tensor.detach().set_require_grad(false))
}

impl<B: Backend> Projection<B> {
    /// A frozen projection over `weight` `[d_in, d_out]`.
    pub fn frozen(weight: Tensor<B, 2>) -> Self {
        Self {
            base: Some(frozen(weight)),
            lora: None,
        }
    }

    /// Adds a fresh LoRA adapter (a no-op when it already has one).
    pub fn with_lora(self, config: &LoraConfig, device: &B::Device) -> Result<Self, LlamaError> {
        match self.base {
            Some(w) => Ok(Self {
                base: None,
                lora: Some(LoraLinear::from_weight(w.val(), None, config, device)?),
            }),
            None => Ok(self),
        }
    }

    /// `x·W` (plus the adapter's update).
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        match (&self.lora, &self.base) {
            (Some(l), _) => l.forward(x),
            (None, Some(w)) => linear(x, w.val(), None),
            (None, None) => unreachable!("a projection always holds a weight"),
        }
    }

    /// The frozen base weight `[d_in, d_out]`.
    pub fn weight(&self) -> Tensor<B, 2> {
        match (&self.lora, &self.base) {
            (Some(l), _) => l.weight.val(),
            (None, Some(w)) => w.val(),
            (None, None) => unreachable!("a projection always holds a weight"),
        }
    }
}
