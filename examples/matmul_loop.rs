//! One matmul shape on `Gsq`, repeated, for profilers (`perf record`, `perf stat`, callgrind):
//!
//! `cargo run --release --example matmul_loop -- B M K N [reps]`
//!
//! Environment: `INTERLEAVE=flex` or `INTERLEAVE=ndarray` runs that backend's product of the
//! same shape before each timed Gsq product, as `matmul_speed` interleaves them (it changes
//! what the allocator and caches hold: the page faults of `into_data` appear then);
//! `NOREAD=1` drops the result instead of reading it back; `ONLY_OTHER=1` times the
//! interleaved backend alone (Gsq's products are skipped). With `INTERLEAVE`, the other
//! backend's median is printed too.

use std::time::{Duration, Instant};

use burn::backend::{Flex, NdArray};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use burn_gsq::{Gsq, GsqDevice};

fn operands<B: Backend>(shape: [usize; 4], device: &B::Device) -> (Tensor<B, 3>, Tensor<B, 3>) {
    let [b, m, k, n] = shape;
    let normal = Distribution::Normal(0.0, 1.0);
    (
        Tensor::random([b, m, k], normal, device),
        Tensor::random([b, k, n], normal, device),
    )
}

fn product<B: Backend>((x, w): &(Tensor<B, 3>, Tensor<B, 3>), read: bool) {
    let y = x.clone().matmul(w.clone());
    if read {
        let _ = y.into_data();
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("arguments are integers: B M K N [reps]"))
        .collect();
    let [b, m, k, n] = args[..4] else {
        panic!("usage: matmul_loop B M K N [reps]");
    };
    let reps = args.get(4).copied().unwrap_or(50);
    let other = std::env::var("INTERLEAVE").unwrap_or_default();
    let read = std::env::var_os("NOREAD").is_none();
    let only_other = std::env::var_os("ONLY_OTHER").is_some();
    let gsq = operands::<Gsq>([b, m, k, n], &GsqDevice::default());
    let flex = (other == "flex").then(|| operands::<Flex>([b, m, k, n], &Default::default()));
    let nd = (other == "ndarray").then(|| operands::<NdArray>([b, m, k, n], &Default::default()));
    let mut times = Vec::with_capacity(reps);
    let mut other_times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        if let Some(f) = &flex {
            product(f, true);
        }
        if let Some(f) = &nd {
            product(f, true);
        }
        other_times.push(start.elapsed());
        let start = Instant::now();
        if !only_other {
            product(&gsq, read);
        }
        times.push(start.elapsed());
    }
    times.sort();
    other_times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if !other.is_empty() {
        println!("{other}: median {:.3} ms", ms(other_times[reps / 2]));
    }
    // Which accumulation paths the GEMM took (the slow ones show up here first).
    let paths = gse_gemm::stats::take();
    println!("paths: {paths:?}");
    let median = times[reps / 2];
    let gops = 2.0 * (b * m * k * n) as f64 / median.as_secs_f64() / 1e9;
    println!(
        "{b}x{m}x{k}x{n}: median {:.3} ms ({gops:.1} GOP/s), min {:.3} ms, max {:.3} ms",
        ms(median),
        ms(times[0]),
        ms(times[reps - 1])
    );
}
