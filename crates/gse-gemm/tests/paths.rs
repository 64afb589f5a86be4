//! Each accumulation path is exercised by the data meant to reach it, and agrees with the
//! oracle there. The path counters are process-wide, so the tests here run one at a time.

mod common;

use common::*;
use gse::{GseFormat, Rounding, SplitMix64};
use gse_gemm::{GemmConfig, Kernel, MatRef, matmul_with, stats};

/// Held by every test of this file: the path counters are process-wide.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

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
    let _serial = serial();
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

/// One-scale-per-value operands (STREAM16, EXACT) at the edges of the packing's paths:
/// lines that carry to `2^p`, scales at the ends of the range and mantissas that are not
/// normalized (written directly, as a kernel may) fall back, and all agree with the oracle on
/// both kernels.
#[test]
fn per_value_scale_operands_agree_at_the_edges() {
    let _serial = serial();
    let (m, k, n) = (13, 96, 21);
    let mut rng = SplitMix64::new(77);
    for (case, format) in [GseFormat::STREAM16, GseFormat::EXACT]
        .into_iter()
        .enumerate()
    {
        let bits = format.magnitude_bits();
        let top = (1i64 << bits) - 1;
        let mut a = random_blocks(&mut rng, m, k, format, Spread::Narrow);
        let mut b = random_blocks(&mut rng, k, n, format, Spread::Varied);
        for i in 0..m * k {
            let scale = 2 + (i % 3) as i32;
            match (i + case) % 9 {
                // Largest mantissas: their group's INT8 rounding carries.
                0 | 1 => a.write_group(i, scale, &[(top - (i % 5) as i64) as i32]),
                // Not normalized (small mantissa under a large scale).
                2 if i % 27 == 2 => a.write_group(i, scale + 4, &[3 - (i % 7) as i32]),
                // The bottom of the scale range.
                3 if i % 5 == 0 => a.write_group(i, gse::SCALE_MIN, &[(top >> 1) as i32 + 1]),
                _ => {}
            }
        }
        for i in (0..k * n).step_by(11) {
            b.write_group(i, gse::SCALE_MAX, &[-(top as i32)]);
        }
        let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        for operand in [GseFormat::INT8, GseFormat::INT4] {
            let cfg = GemmConfig {
                operand_format: operand,
                out_format: GseFormat::EXACT,
                rounding: Rounding::NearestEven,
            };
            let want = oracle(&[av], &[bv], None, &cfg);
            for kernel in [Kernel::Portable, Kernel::Avx2] {
                let got = matmul_with(av, bv, &cfg, kernel).unwrap();
                assert_same(&got, &want, &format!("{format} {operand} {kernel:?}"));
            }
        }
    }
}

/// The same products on pools of 1, 2 and 3 threads give the same bits (the task split changes
/// with the thread count; tile values must not): one K-block (i32 tiles), several K-blocks
/// (i64 tiles through the narrowed vector rounding), a batch with a broadcast operand.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let _serial = serial();
    let mut rng = SplitMix64::new(5);
    let cases = [(70, 300, 50, 1), (45, 1100, 37, 1), (20, 64, 33, 6)];
    for (m, k, n, batch) in cases {
        let a: Vec<_> = (0..batch)
            .map(|_| random_blocks(&mut rng, m, k, GseFormat::STREAM16, Spread::Narrow))
            .collect();
        let b = random_blocks(&mut rng, k, n, GseFormat::STREAM16, Spread::Varied);
        let av: Vec<MatRef> = a.iter().map(|x| MatRef::row_major(x, m, k)).collect();
        let bv = [MatRef::row_major(&b, k, n)];
        let cfg = GemmConfig {
            operand_format: GseFormat::INT8,
            out_format: GseFormat::STREAM16,
            rounding: Rounding::NearestEven,
        };
        let run = |threads: usize, kernel: Kernel| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| gse_gemm::matmul_batched_with(&av, &bv, &cfg, kernel).unwrap())
        };
        let want = run(1, Kernel::Portable);
        for threads in [1, 2, 3] {
            for kernel in [Kernel::Portable, Kernel::Avx2] {
                let got = run(threads, kernel);
                assert_same(
                    &got,
                    &want,
                    &format!("{m}x{k}x{n} x{batch} {threads} threads {kernel:?}"),
                );
            }
        }
    }
}
