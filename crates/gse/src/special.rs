//! GSE has no NaN, no infinity and a finite exponent range. This module is the policy for the
//! values that do not fit, and the process-wide count of how often each case happened.
//!
//! | input                          | [`SpecialPolicy::Saturate`] (default)        | [`SpecialPolicy::Error`] |
//! |--------------------------------|----------------------------------------------|--------------------------|
//! | NaN                            | 0, counted in `nan`                          | error                    |
//! | ±Inf                           | ± the format's largest magnitude, counted    | error                    |
//! | finite, beyond `2^SCALE_MAX`   | ± largest magnitude, counted in `saturated`  | same                     |
//! | below the group's half quantum | 0 (normal rounding, not counted)             | same                     |
//!
//! The largest magnitude of every format is below `f32::MAX`, so saturated values decode to
//! finite f32s. Ops whose exact result is NaN (`sqrt(-1)`, `0/0`, `log(-1)`) give 0 and count
//! in `nan`; ops whose exact result is infinite (`1/0`, `log(0)`) saturate and count in `infinite`.

use core::sync::atomic::{AtomicU64, Ordering};

/// What encoding does with NaN and ±Inf.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpecialPolicy {
    #[default]
    Saturate,
    Error,
}

/// How many values were mapped by the special-value policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpecialCounts {
    pub nan: u64,
    pub infinite: u64,
    pub saturated: u64,
}

impl SpecialCounts {
    pub fn total(&self) -> u64 {
        self.nan + self.infinite + self.saturated
    }
}

/// A value that [`SpecialPolicy::Error`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecialValueError {
    #[error("NaN at element {index}: GSE has no NaN")]
    Nan { index: usize },
    #[error("{} infinity at element {index}: GSE has no infinities", if *negative { "negative" } else { "positive" })]
    Infinite { index: usize, negative: bool },
}

static NAN: AtomicU64 = AtomicU64::new(0);
static INFINITE: AtomicU64 = AtomicU64::new(0);
static SATURATED: AtomicU64 = AtomicU64::new(0);

/// Adds to the process-wide counts.
pub fn record(counts: SpecialCounts) {
    NAN.fetch_add(counts.nan, Ordering::Relaxed);
    INFINITE.fetch_add(counts.infinite, Ordering::Relaxed);
    SATURATED.fetch_add(counts.saturated, Ordering::Relaxed);
}

/// Counts since the process started.
pub fn totals() -> SpecialCounts {
    SpecialCounts {
        nan: NAN.load(Ordering::Relaxed),
        infinite: INFINITE.load(Ordering::Relaxed),
        saturated: SATURATED.load(Ordering::Relaxed),
    }
}
