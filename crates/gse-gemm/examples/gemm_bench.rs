//! GEMM throughput: GOP/s (2*M*N*K per second, packing and output rounding included) for
//! square sizes and transformer shapes, plus the packing cost alone.
//!
//! Run: `cargo run --release -p gse-gemm --example gemm_bench [threads] [operand bits] [filter]`
//! A is STREAM16 activations, B INT8 weights (row-major, K x N), output STREAM16.

use std::time::Instant;

use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SplitMix64, encode_dyadics};
use gse_gemm::{GemmConfig, Kernel, MatRef, matmul_with, pack_only, stats};

fn random(rng: &mut SplitMix64, len: usize, format: GseFormat) -> GseBlocks {
    // Gaussian-ish magnitudes: sum of uniforms, exponent jitter of a few steps.
    let vals: Vec<Dyadic> = (0..len)
        .map(|_| {
            let s: i64 = (0..4).map(|_| (rng.next_u64() >> 44) as i64 - (1 << 19)).sum();
            Dyadic::new(s, -21 - rng.below(2) as i32)
        })
        .collect();
    encode_dyadics(format, &vals, Rounding::NearestEven)
}

/// Best seconds over `reps` runs of `f` (after one warm-up).
fn best(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let bits: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(8);
    let filter = args.get(3).cloned().unwrap_or_default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let cfg = GemmConfig {
        operand_format: GseFormat::new(bits, 32).unwrap(),
        out_format: GseFormat::STREAM16,
        rounding: Rounding::NearestEven,
    };
    let shapes: [(&str, usize, usize, usize); 7] = [
        ("256^3", 256, 256, 256),
        ("512^3", 512, 512, 512),
        ("1024^3", 1024, 1024, 1024),
        ("2048^3", 2048, 2048, 2048),
        ("[8192x576]x[576x1536]", 8192, 576, 1536),
        ("[8192x1536]x[1536x576]", 8192, 1536, 576),
        ("[8192x256]x[256x1024]", 8192, 256, 1024),
    ];
    println!(
        "{threads} thread(s), operands {}, kernel {:?}",
        cfg.operand_format,
        Kernel::detect()
    );
    println!(
        "{:<24} {:>9} {:>9} {:>10} {:>9}  paths",
        "shape", "ms", "GOP/s", "pack ms", "pack %"
    );
    let mut rng = SplitMix64::new(1);
    for (name, m, k, n) in shapes {
        if !name.contains(&filter) {
            continue;
        }
        let a = random(&mut rng, m * k, GseFormat::STREAM16);
        let b = random(&mut rng, k * n, GseFormat::INT8);
        let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        let reps = if m * n * k > 1 << 30 { 3 } else { 10 };
        let (t, tp, paths) = pool.install(|| {
            stats::take();
            let t = best(reps, || {
                std::hint::black_box(matmul_with(av, bv, &cfg, Kernel::detect()).unwrap());
            });
            let paths = stats::take();
            let tp = best(reps, || {
                std::hint::black_box(pack_only(av, bv, &cfg).unwrap());
            });
            (t, tp, paths)
        });
        let gops = 2.0 * (m * n * k) as f64 / t / 1e9;
        let aligned = paths.aligned_blocks as f64
            / (paths.aligned_blocks + paths.group_blocks).max(1) as f64;
        println!(
            "{name:<24} {:>9.2} {gops:>9.1} {:>10.2} {:>8.1}%  {:.0}% blocks aligned, {} dyadic tiles",
            t * 1e3,
            tp * 1e3,
            100.0 * tp / t,
            100.0 * aligned,
            paths.dyadic_tiles
        );
    }
}
