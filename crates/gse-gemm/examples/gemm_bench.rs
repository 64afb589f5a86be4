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
            let s: i64 = (0..4)
                .map(|_| (rng.next_u64() >> 44) as i64 - (1 << 19))
                .sum();
            Dyadic::new(s, -21 - rng.below(2) as i32)
        })
        .collect();
    encode_dyadics(format, &vals, Rounding::NearestEven)
}

/// Process CPU time (user + system) in seconds, from `/proc/self/stat` (100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    // rest = " state ppid pgrp ...": utime and stime are its 12th and 13th words.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) as f64 / 100.0
}

/// Runs `f` (after one warm-up) at least `min_reps` times and for at least `min_secs`:
/// the best wall time and the mean CPU time per run. The CPU time counts only what this
/// process ran, so it is far less disturbed by other jobs on the machine than wall time.
fn measure(min_reps: usize, min_secs: f64, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    let mut best = f64::INFINITY;
    let mut reps = 0;
    while reps < min_reps || start.elapsed().as_secs_f64() < min_secs {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        reps += 1;
    }
    (best, (cpu_seconds() - cpu0) / reps as f64)
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
        "wall = best wall time; cpu = mean process CPU time per run, GOP/s(cpu) = ops per \
         (cpu / threads)"
    );
    println!(
        "{:<24} {:>8} {:>8} {:>9} {:>10} {:>8} {:>7}  paths",
        "shape", "wall ms", "GOP/s", "cpu ms", "GOP/s(cpu)", "pack ms", "pack %"
    );
    let mut rng = SplitMix64::new(1);
    for (name, m, k, n) in shapes {
        if !name.contains(&filter) {
            continue;
        }
        let a = random(&mut rng, m * k, GseFormat::STREAM16);
        let b = random(&mut rng, k * n, GseFormat::INT8);
        let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        let ((t, cpu), (tp, cpu_p), paths) = pool.install(|| {
            stats::take();
            let run = measure(3, 1.5, || {
                std::hint::black_box(matmul_with(av, bv, &cfg, Kernel::detect()).unwrap());
            });
            let paths = stats::take();
            let pack = measure(3, 0.5, || {
                std::hint::black_box(pack_only(av, bv, &cfg).unwrap());
            });
            (run, pack, paths)
        });
        let ops = 2.0 * (m * n * k) as f64;
        let aligned =
            paths.aligned_blocks as f64 / (paths.aligned_blocks + paths.group_blocks).max(1) as f64;
        println!(
            "{name:<24} {:>8.2} {:>8.1} {:>9.2} {:>10.1} {:>8.2} {:>6.1}%  {:.0}% aligned, {} dyadic",
            t * 1e3,
            ops / t / 1e9,
            cpu * 1e3,
            ops / (cpu / threads as f64) / 1e9,
            tp * 1e3,
            100.0 * cpu_p / cpu,
            100.0 * aligned,
            paths.dyadic_tiles
        );
    }
}
