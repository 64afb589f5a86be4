//! Criterion benchmarks of the GEMM at a few shapes (the PERF.md tables come from the
//! `gemm_bench` example, which also times packing alone).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SplitMix64, encode_dyadics};
use gse_gemm::{GemmConfig, MatRef, matmul};

fn random(rng: &mut SplitMix64, len: usize, format: GseFormat) -> GseBlocks {
    let vals: Vec<Dyadic> = (0..len)
        .map(|_| Dyadic::new((rng.next_u64() >> 40) as i64 - (1 << 23), -24))
        .collect();
    encode_dyadics(format, &vals, Rounding::NearestEven)
}

fn bench(c: &mut Criterion) {
    let mut rng = SplitMix64::new(1);
    let mut group = c.benchmark_group("matmul_int8");
    group.sample_size(10);
    for (m, k, n) in [(256, 256, 256), (1024, 1024, 1024), (8192, 256, 1024)] {
        let a = random(&mut rng, m * k, GseFormat::STREAM16);
        let b = random(&mut rng, k * n, GseFormat::INT8);
        let cfg = GemmConfig::default();
        group.throughput(Throughput::Elements(2 * (m * n * k) as u64));
        group.bench_function(format!("{m}x{k}x{n}"), |bch| {
            bch.iter(|| {
                matmul(
                    MatRef::row_major(&a, m, k),
                    MatRef::row_major(&b, k, n),
                    &cfg,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
