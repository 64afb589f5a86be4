//! Each accumulation path is exercised by the data meant to reach it, and agrees with the
//! oracle there. One test function: the path counters are process-wide.

mod common;

use common::*;
use gse::{GseFormat, Rounding, SplitMix64};
use gse_gemm::{GemmConfig, Kernel, MatRef, matmul_with, stats};

fn run(m: usize, k: usize, n: usize, spread: Spread, operand: GseFormat) -> stats::PathCounts {
    let mut rng = SplitMix64::new(m as u64 * 31 + k as u64);
    let a = random_blocks(&mut rng, m, k, GseFormat::EXACT, spread);
    let b = random_blocks(&mut rng, k, n, GseFormat::EXACT, spread);
    let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    let cfg = GemmConfig {
        operand_format: operand,
        out_format: GseFormat::EXACT,
        rounding: Rounding::NearestEven,
    };
    let want = oracle(&[av], &[bv], None, &cfg);
    let mut last = stats::PathCounts::default();
    for kernel in [Kernel::Portable, Kernel::Avx2] {
        stats::take();
        let got = matmul_with(av, bv, &cfg, kernel).unwrap();
        assert_same(&got, &want, &format!("{kernel:?} {spread:?}"));
        last = stats::take();
        eprintln!("{kernel:?} {spread:?} {last:?}");
    }
    last
}

#[test]
fn every_path_is_reached() {
    let narrow = run(30, 1000, 40, Spread::Narrow, GseFormat::INT8);
    assert!(
        narrow.aligned_blocks > 0 && narrow.group_blocks == 0,
        "{narrow:?}"
    );
    assert_eq!(narrow.dyadic_tiles, 0);
    let varied = run(30, 1000, 40, Spread::Varied, GseFormat::INT8);
    assert!(varied.group_blocks > 0, "{varied:?}");
    assert_eq!(varied.dyadic_tiles, 0, "{varied:?}");
    let extreme = run(12, 300, 20, Spread::Extreme, GseFormat::INT8);
    assert!(extreme.dyadic_tiles > 0, "{extreme:?}");
    let reference = run(5, 40, 6, Spread::Varied, GseFormat::STREAM16);
    assert!(reference.reference_products > 0, "{reference:?}");
}
