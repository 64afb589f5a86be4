//! [`LoraConfig`]: rank, scale, dropout, which modules get adapters and how `A` starts.

use burn::config::Config;
use burn::module::Initializer;

use crate::LoraError;

/// Hyper-parameters of a LoRA adapter, with PEFT's meaning:
/// `y = x·W + b + (alpha / rank)·dropout(x)·A·B`.
///
/// Defaults: rank 8, alpha 16, no dropout, adapters on `q_proj` and `v_proj` (PEFT's defaults
/// for Llama-style models), `A` Kaiming-uniform as PEFT draws it, `B` zero.
#[derive(Config, Debug)]
pub struct LoraConfig {
    /// Inner dimension `r` of the adapter.
    #[config(default = 8)]
    pub rank: usize,
    /// Scale numerator: the adapter's output is multiplied by `alpha / rank`.
    #[config(default = 16.0)]
    pub alpha: f64,
    /// Dropout probability on the adapter's input (training only), in `[0, 1)`.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Module names that get an adapter; a module path matches a name when it equals it or
    /// ends with `.name` (PEFT's rule for a list of names).
    #[config(default = "vec![String::from(\"q_proj\"), String::from(\"v_proj\")]")]
    pub target_modules: Vec<String>,
    /// Initializer of `A` (`[d_in, rank]`, fan-in `d_in`). The default is PEFT's
    /// `kaiming_uniform_(a = sqrt(5))`: gain `sqrt(2 / (1 + 5)) = 1/sqrt(3)`, i.e. uniform on
    /// `±1/sqrt(d_in)`. `B` always starts at zero, so a fresh adapter changes nothing.
    #[config(
        default = "Initializer::KaimingUniform { gain: 0.577_350_269_189_625_8, fan_out_only: false }"
    )]
    pub init_a: Initializer,
}

impl LoraConfig {
    /// Checks that the values are usable: `rank > 0`, finite `alpha`, `dropout` in `[0, 1)`.
    pub fn validate(&self) -> Result<(), LoraError> {
        if self.rank == 0 {
            return Err(LoraError::InvalidConfig("rank must be at least 1".into()));
        }
        if !self.alpha.is_finite() {
            return Err(LoraError::InvalidConfig(format!(
                "alpha must be finite, got {}",
                self.alpha
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(LoraError::InvalidConfig(format!(
                "dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        Ok(())
    }

    /// Whether the module at `module_path` (e.g. `model.layers.3.self_attn.q_proj`) is a target.
    pub fn is_target(&self, module_path: &str) -> bool {
        self.target_modules.iter().any(|t| {
            module_path == t
                || module_path
                    .strip_suffix(t.as_str())
                    .is_some_and(|head| head.ends_with('.'))
        })
    }
}
