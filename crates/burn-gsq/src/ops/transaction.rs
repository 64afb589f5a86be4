//! Transactions read several tensors at once; the default (one read after another) is right for
//! a CPU backend.

use burn_backend::ops::TransactionOps;

use crate::Gsq;

impl TransactionOps<Gsq> for Gsq {}
