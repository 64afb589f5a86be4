//! Tensor kernels on GSE data (STREAM16 in and out) next to the same op as a plain f32 Rust
//! loop: elementwise add/mul, exp/tanh/erf through gse-math, softmax, layer norm and a row sum.
//! Throughput is in elements per second of the input.
#![allow(clippy::float_arithmetic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gse::{Dyadic, GseFormat, Rounding, SpecialPolicy, SplitMix64};
use gse_kernels::{self as k, GseTensor};

const FORMAT: GseFormat = GseFormat::STREAM16;
const NE: Rounding = Rounding::NearestEven;

fn normals(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    let mut u = || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (0..n)
        .map(|_| ((-2.0 * u().ln()).sqrt() * (std::f64::consts::TAU * u()).cos()) as f32)
        .collect()
}

fn tensor(values: &[f32], shape: &[usize]) -> GseTensor {
    GseTensor::from_f32(values, shape, FORMAT, NE, SpecialPolicy::Saturate)
        .unwrap()
        .0
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn elementwise(c: &mut Criterion) {
    let n = 1 << 20;
    let (a, b) = (normals(n, 1), normals(n, 2));
    let (ta, tb) = (tensor(&a, &[1024, 1024]), tensor(&b, &[1024, 1024]));
    let mut group = c.benchmark_group("elementwise");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("add", "gse"), |bench| {
        bench.iter(|| k::map_binary(&ta, &tb, FORMAT, NE, Dyadic::add).unwrap())
    });
    group.bench_function(BenchmarkId::new("add", "f32"), |bench| {
        bench.iter(|| {
            black_box(&a)
                .iter()
                .zip(black_box(&b))
                .map(|(x, y)| x + y)
                .collect::<Vec<f32>>()
        })
    });
    group.bench_function(BenchmarkId::new("mul", "gse"), |bench| {
        bench.iter(|| k::map_binary(&ta, &tb, FORMAT, NE, Dyadic::mul).unwrap())
    });
    group.bench_function(BenchmarkId::new("mul", "f32"), |bench| {
        bench.iter(|| {
            black_box(&a)
                .iter()
                .zip(black_box(&b))
                .map(|(x, y)| x * y)
                .collect::<Vec<f32>>()
        })
    });
    group.finish();
}

/// A function's name, its integer version and the f32 baseline.
type UnaryPair = (
    &'static str,
    fn(Dyadic) -> gse_math::Outcome,
    fn(f32) -> f32,
);

fn transcendental(c: &mut Criterion) {
    let n = 1 << 18;
    let a = normals(n, 3);
    let ta = tensor(&a, &[n]);
    let mut group = c.benchmark_group("transcendental");
    group.throughput(Throughput::Elements(n as u64));
    let ops: [UnaryPair; 3] = [
        ("exp", gse_math::exp, f32::exp),
        ("tanh", gse_math::tanh, f32::tanh),
        ("erf", gse_math::erf, libm_erf),
    ];
    for (name, gse_op, f32_op) in ops {
        group.bench_function(BenchmarkId::new(name, "gse"), |bench| {
            bench.iter(|| k::map_unary(&ta, FORMAT, NE, |v| gse_op(v).finite_or(Dyadic::ZERO)))
        });
        group.bench_function(BenchmarkId::new(name, "f32"), |bench| {
            bench.iter(|| {
                black_box(&a)
                    .iter()
                    .map(|&x| f32_op(x))
                    .collect::<Vec<f32>>()
            })
        });
    }
    group.finish();
}

/// f32 erf by Abramowitz-Stegun 7.1.26 (about 1e-7): a typical cost for an f32 erf.
fn libm_erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_7 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    (1.0 - poly * (-x * x).exp()).copysign(x)
}

fn softmax_f32(x: &[f32], n: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for (row, o) in x.chunks(n).zip(out.chunks_mut(n)) {
        let m = row.iter().copied().fold(f32::MIN, f32::max);
        let mut s = 0.0;
        for (v, o) in row.iter().zip(o.iter_mut()) {
            *o = (v - m).exp();
            s += *o;
        }
        let r = 1.0 / s;
        o.iter_mut().for_each(|v| *v *= r);
    }
    out
}

fn layer_norm_f32(x: &[f32], gamma: &[f32], beta: &[f32], n: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for (row, o) in x.chunks(n).zip(out.chunks_mut(n)) {
        let mean = row.iter().sum::<f32>() / n as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n as f32;
        let r = 1.0 / (var + 1e-5).sqrt();
        for (k, (v, o)) in row.iter().zip(o.iter_mut()).enumerate() {
            *o = (v - mean) * r * gamma[k] + beta[k];
        }
    }
    out
}

fn fused(c: &mut Criterion) {
    let mut group = c.benchmark_group("fused");
    // Logits of a 49152-token vocabulary.
    let (rows, n) = (16, 49_152);
    let logits: Vec<f32> = normals(rows * n, 4).iter().map(|v| v * 4.0).collect();
    let t = tensor(&logits, &[rows, n]);
    group.throughput(Throughput::Elements((rows * n) as u64));
    group.bench_function(BenchmarkId::new("softmax", "gse"), |bench| {
        bench.iter(|| k::softmax(&t, 1, FORMAT, NE))
    });
    group.bench_function(BenchmarkId::new("softmax", "f32"), |bench| {
        bench.iter(|| softmax_f32(black_box(&logits), n))
    });

    let (rows, d) = (256, 2048);
    let x = normals(rows * d, 5);
    let (gamma, beta) = (normals(d, 6), normals(d, 7));
    let (tx, tg, tb) = (
        tensor(&x, &[rows, d]),
        tensor(&gamma, &[d]),
        tensor(&beta, &[d]),
    );
    let eps = Dyadic::new(1, -17);
    group.throughput(Throughput::Elements((rows * d) as u64));
    group.bench_function(BenchmarkId::new("layer_norm", "gse"), |bench| {
        bench.iter(|| k::layer_norm(&tx, &tg, Some(&tb), eps, FORMAT, NE))
    });
    group.bench_function(BenchmarkId::new("layer_norm", "f32"), |bench| {
        bench.iter(|| layer_norm_f32(black_box(&x), &gamma, &beta, d))
    });
    group.bench_function(BenchmarkId::new("sum_dim", "gse"), |bench| {
        bench.iter(|| k::sum_dim(&tx, 1, FORMAT, NE))
    });
    group.bench_function(BenchmarkId::new("sum_dim", "f32"), |bench| {
        bench.iter(|| {
            black_box(&x)
                .chunks(d)
                .map(|r| r.iter().sum::<f32>())
                .collect::<Vec<f32>>()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = elementwise, transcendental, fused
}
criterion_main!(benches);
