//! Why a product could not be formed.

/// A malformed request: the operands do not fit together or a view leaves its storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GemmError {
    #[error("inner dimensions differ: A has {a_cols} columns, B has {b_rows} rows")]
    InnerDim { a_cols: usize, b_rows: usize },
    #[error(
        "{operand} view reaches storage indices {lowest}..={highest}, storage has {len} values"
    )]
    ViewOutOfBounds {
        operand: &'static str,
        lowest: i128,
        highest: i128,
        len: usize,
    },
    #[error("batch sizes differ: {a} A views, {b} B views (one side may have exactly 1)")]
    BatchLen { a: usize, b: usize },
    #[error(
        "batch entry {index} is {rows}x{inner} * {inner_b}x{cols}, entry 0 is {m}x{k} * {k}x{n}"
    )]
    BatchShape {
        index: usize,
        rows: usize,
        inner: usize,
        inner_b: usize,
        cols: usize,
        m: usize,
        k: usize,
        n: usize,
    },
    #[error("bias has {actual} values, the output has {expected} columns")]
    BiasLen { expected: usize, actual: usize },
    #[error("product has {0} elements, more than memory can index")]
    TooLarge(u128),
}
