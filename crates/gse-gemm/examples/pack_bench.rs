//! Packing cost per value for STREAM16 operands (what every burn tensor is), one side at a
//! time, in every layout the backend hands the GEMM: row-major A (K contiguous), row-major B
//! (lines contiguous), and their transposes (the backward pass's `X^T * dY` and `dY * W^T`).
//!
//! Run: `cargo run --release -p gse-gemm --example pack_bench [threads] [operand bits] [filter]
//! [reps]`

use std::time::Instant;

use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SplitMix64, encode_dyadics};
use gse_gemm::{GemmConfig, MatRef, pack_only};

fn gaussian(rng: &mut SplitMix64, len: usize) -> GseBlocks {
    let vals: Vec<Dyadic> = (0..len)
        .map(|_| {
            let s: i64 = (0..4)
                .map(|_| (rng.next_u64() >> 44) as i64 - (1 << 19))
                .sum();
            Dyadic::new(s, -21)
        })
        .collect();
    encode_dyadics(GseFormat::STREAM16, &vals, Rounding::NearestEven)
}

/// Best of `reps` wall times of `f`, in seconds.
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
    let threads: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let bits: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(8);
    let filter = args.get(3).cloned().unwrap_or_default();
    let reps: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(20);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let cfg = GemmConfig {
        operand_format: GseFormat::new(bits, 32).unwrap(),
        out_format: GseFormat::STREAM16,
        rounding: Rounding::NearestEven,
    };
    let big: usize = std::env::var("BIG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let small = 16;
    let mut rng = SplitMix64::new(7);
    let square = gaussian(&mut rng, big * big);
    let thin = gaussian(&mut rng, big * small);
    let sq = MatRef::row_major(&square, big, big);
    let thin_kn = MatRef::row_major(&thin, big, small);
    let thin_mk = MatRef::row_major(&thin, small, big);
    let cases: [(&str, MatRef<'_>, MatRef<'_>); 4] = [
        ("A row-major (K contiguous)", sq, thin_kn),
        ("A transposed (lines contiguous)", sq.t(), thin_kn),
        ("B row-major (lines contiguous)", thin_mk, sq),
        ("B transposed (K contiguous)", thin_mk, sq.t()),
    ];
    println!("{threads} thread(s), INT{bits} operands, {big}x{big} STREAM16 side");
    for (name, a, b) in cases {
        if !name.contains(&filter) {
            continue;
        }
        let t = pool.install(|| {
            best(reps, || {
                std::hint::black_box(pack_only(a, b, &cfg).unwrap());
            })
        });
        let ns = t * 1e9 / (big * big) as f64;
        println!("{name:<34} {:>7.3} ms  {ns:>5.2} ns/value", t * 1e3);
    }
}
