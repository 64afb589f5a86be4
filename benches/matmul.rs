//! Matmul through burn's public `Tensor` API: `Gsq` with GSE-INT8, INT6 and INT4 operands
//! (`GsqDevice::new(PAPER.with_matmul_operand(..))`, operands re-quantized along K at the point
//! of use, STREAM16 results) against burn-ndarray and burn-flex f32. Every timed call reads its
//! result back (`into_data`), so no backend can leave work pending.
//!
//! Criterion reports throughput as elements/s where one element is one operation
//! (`2 * batch * M * K * N` per call): read it as OP/s. After each shape, a short interleaved
//! run (medians of 5) prints the Gsq/f32 ratios.
//!
//! `cargo bench --bench matmul` (default: 10 samples per case, short warm-up);
//! `cargo bench --bench matmul -- 1024` for one shape.
#![allow(clippy::float_arithmetic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::backend::{Flex, NdArray};
use burn::tensor::{Tensor, TensorData, backend::Backend};
use burn_gsq::{GseFormat, Gsq, GsqDevice, PrecisionPolicy};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gse::SplitMix64;

/// `(name, batch, m, k, n)`: `[batch, m, k] x [batch, k, n]`.
const SHAPES: &[(&str, usize, usize, usize, usize)] = &[
    ("256^3", 1, 256, 256, 256),
    ("512^3", 1, 512, 512, 512),
    ("1024^3", 1, 1024, 1024, 1024),
    ("2048^3", 1, 2048, 2048, 2048),
    ("8192x576x1536", 1, 8192, 576, 1536),
    ("8192x1536x576", 1, 8192, 1536, 576),
    ("8192x256x1024", 1, 8192, 256, 1024),
    ("batched64_128x64x128", 64, 128, 64, 128),
];

const FORMATS: [(&str, GseFormat); 3] = [
    ("gsq-int8", GseFormat::INT8),
    ("gsq-int6", GseFormat::INT6),
    ("gsq-int4", GseFormat::INT4),
];

/// Standard normal samples (Box-Muller over a seeded integer generator).
fn normals(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    let mut u = || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (0..n)
        .map(|_| ((-2.0 * u().ln()).sqrt() * (std::f64::consts::TAU * u()).cos()) as f32)
        .collect()
}

fn operands<B: Backend>(
    (b, m, k, n): (usize, usize, usize, usize),
    device: &B::Device,
) -> (Tensor<B, 3>, Tensor<B, 3>) {
    let x = TensorData::new(normals(b * m * k, 1), [b, m, k]);
    let w = TensorData::new(normals(b * k * n, 2), [b, k, n]);
    (Tensor::from_data(x, device), Tensor::from_data(w, device))
}

fn product<B: Backend>(x: &Tensor<B, 3>, w: &Tensor<B, 3>) -> TensorData {
    x.clone().matmul(w.clone()).into_data()
}

/// One backend's operands, type-erased behind a closure that runs one product.
type Case = (&'static str, Box<dyn Fn() -> TensorData>);

fn cases(shape: (usize, usize, usize, usize)) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    let (x, w) = operands::<Flex>(shape, &Default::default());
    out.push(("flex-f32", Box::new(move || product(&x, &w))));
    let (x, w) = operands::<NdArray>(shape, &Default::default());
    out.push(("ndarray-f32", Box::new(move || product(&x, &w))));
    for (name, format) in FORMATS {
        let device = GsqDevice::new(PrecisionPolicy::PAPER.with_matmul_operand(format));
        let (x, w) = operands::<Gsq>(shape, &device);
        out.push((name, Box::new(move || product(&x, &w))));
    }
    out
}

/// Interleaved medians of a few runs of every case, printed as GOP/s and ratios to the f32
/// backends (cases 0 and 1).
fn ratios(label: &str, ops: f64, cases: &[Case]) {
    let mut times = vec![Vec::new(); cases.len()];
    for _ in 0..5 {
        for (t, (_, run)) in times.iter_mut().zip(cases) {
            let start = Instant::now();
            black_box(run());
            t.push(start.elapsed());
        }
    }
    let med: Vec<f64> = times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[t.len() / 2].as_secs_f64()
        })
        .collect();
    for ((name, _), &t) in cases.iter().zip(&med) {
        println!(
            "ratio {label:<22} {name:<12} {:>7.1} GOP/s  {:>5.2}x flex  {:>5.2}x ndarray",
            ops / t / 1e9,
            med[0] / t,
            med[1] / t
        );
    }
}

/// The name filter given on the command line (`cargo bench --bench matmul -- FILTER`).
fn filter() -> Option<String> {
    std::env::args().skip(1).find(|a| !a.starts_with('-'))
}

fn matmul(c: &mut Criterion) {
    let filter = filter();
    for &(label, b, m, k, n) in SHAPES {
        if filter.as_deref().is_some_and(|f| !label.contains(f)) {
            continue;
        }
        let ops = 2.0 * (b * m * k * n) as f64;
        let cases = cases((b, m, k, n));
        let mut group = c.benchmark_group(format!("matmul/{label}"));
        group.throughput(Throughput::Elements(ops as u64));
        for (name, run) in &cases {
            group.bench_function(BenchmarkId::from_parameter(name), |bench| {
                bench.iter(|| black_box(run()))
            });
        }
        group.finish();
        ratios(label, ops, &cases);
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = matmul
}
criterion_main!(benches);
