//! The f32 <-> GSE codec: encode and decode at INT8 (group 32), STREAM16 and EXACT, next to an
//! f32 copy and a plain f32 -> i8 quantizing conversion. Throughput in elements per second.
#![allow(clippy::float_arithmetic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gse::{GseFormat, Rounding, SpecialPolicy, SplitMix64, decode_f32, encode_f32};

const N: usize = 1 << 20;

fn values() -> Vec<f32> {
    let mut rng = SplitMix64::new(9);
    (0..N)
        .map(|_| ((rng.next_u64() >> 40) as f32 / (1u32 << 24) as f32 - 0.5) * 8.0)
        .collect()
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn codec(c: &mut Criterion) {
    let x = values();
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function(BenchmarkId::new("baseline", "f32_copy"), |b| {
        b.iter(|| black_box(&x).clone())
    });
    group.bench_function(BenchmarkId::new("baseline", "f32_to_i8"), |b| {
        b.iter(|| {
            black_box(&x)
                .iter()
                .map(|v| (v * 16.0).round() as i8)
                .collect::<Vec<i8>>()
        })
    });
    for (name, format) in [
        ("int8", GseFormat::INT8),
        ("stream16", GseFormat::STREAM16),
        ("exact", GseFormat::EXACT),
    ] {
        group.bench_function(BenchmarkId::new("encode", name), |b| {
            b.iter(|| {
                encode_f32(
                    format,
                    black_box(&x),
                    Rounding::NearestEven,
                    SpecialPolicy::Saturate,
                )
                .unwrap()
            })
        });
        let blocks = encode_f32(format, &x, Rounding::NearestEven, SpecialPolicy::Saturate)
            .unwrap()
            .0;
        group.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| decode_f32(black_box(&blocks)))
        });
    }
    group.bench_function(BenchmarkId::new("encode", "int8_stochastic"), |b| {
        b.iter(|| {
            encode_f32(
                GseFormat::INT8,
                black_box(&x),
                Rounding::Stochastic { seed: 1 },
                SpecialPolicy::Saturate,
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = codec
}
criterion_main!(benches);
