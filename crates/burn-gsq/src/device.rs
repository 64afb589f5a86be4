//! [`GsqDevice`]: the CPU, seen through a precision policy.
//!
//! A device names a [`PrecisionPolicy`] by index in a process-wide registry, so that devices stay
//! `Copy` and burn can rebuild them from a `DeviceId`. Tensors remember their device, and every
//! op computes at the policy of its (first) input's device.

use std::sync::RwLock;

use burn_backend::{DeviceId, DeviceOps};
use burn_std::device::Device;

use crate::policy::PrecisionPolicy;

static POLICIES: RwLock<Vec<PrecisionPolicy>> = RwLock::new(Vec::new());

/// The builtin policies take the first indices.
const BUILTIN: [PrecisionPolicy; 2] = [PrecisionPolicy::PAPER, PrecisionPolicy::EXACT];

/// The device of the `Gsq` backend. `GsqDevice::default()` uses [`PrecisionPolicy::PAPER`].
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GsqDevice {
    policy_index: u16,
}

impl GsqDevice {
    /// A device computing at `policy` (registered once; equal policies give equal devices).
    pub fn new(policy: PrecisionPolicy) -> Self {
        if let Some(i) = BUILTIN.iter().position(|p| *p == policy) {
            return Self {
                policy_index: i as u16,
            };
        }
        let mut registry = POLICIES.write().unwrap_or_else(|e| e.into_inner());
        let i = match registry.iter().position(|p| *p == policy) {
            Some(i) => i,
            None => {
                registry.push(policy);
                registry.len() - 1
            }
        };
        Self {
            policy_index: (BUILTIN.len() + i) as u16,
        }
    }

    /// Integer-emulated f32 everywhere ([`PrecisionPolicy::EXACT`]).
    pub fn exact() -> Self {
        Self::new(PrecisionPolicy::EXACT)
    }

    pub fn policy(&self) -> PrecisionPolicy {
        let i = self.policy_index as usize;
        if i < BUILTIN.len() {
            return BUILTIN[i];
        }
        let registry = POLICIES.read().unwrap_or_else(|e| e.into_inner());
        registry.get(i - BUILTIN.len()).copied().unwrap_or_default()
    }
}

impl Device for GsqDevice {
    fn to_id(&self) -> DeviceId {
        DeviceId::new(0, self.policy_index)
    }

    fn from_id(id: DeviceId) -> Self {
        Self {
            policy_index: id.index_id,
        }
    }
}

impl DeviceOps for GsqDevice {}

impl core::fmt::Debug for GsqDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let p = self.policy();
        write!(f, "Gsq(matmul {}, stream {})", p.matmul_operand, p.stream)
    }
}

impl core::fmt::Display for GsqDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}
