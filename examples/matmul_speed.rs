//! Matmul speed through burn's public `Tensor` API: `Gsq` (GSE-INT8/6/4 operands) against
//! burn-flex and burn-ndarray f32, interleaved in one process, medians of several runs, results
//! read back (`into_data`) so lazy work is counted.
//!
//! `cargo run --release --example matmul_speed [-- --quick]`

use std::time::{Duration, Instant};

use burn::backend::{Flex, NdArray};
use burn::tensor::{Distribution, Tensor, backend::Backend};
use burn_gsq::{GseFormat, Gsq, GsqDevice, PrecisionPolicy};

/// `[batch?, m, k] x [k, n]` shapes to measure.
const SHAPES: &[(usize, usize, usize, usize)] = &[
    (1, 256, 256, 256),
    (1, 512, 512, 512),
    (1, 1024, 1024, 1024),
    (1, 2048, 2048, 2048),
    (1, 8192, 576, 1536),
    (1, 8192, 1536, 576),
    (1, 8192, 256, 1024),
    (64, 128, 64, 128),
];

fn inputs<B: Backend>(
    b: usize,
    m: usize,
    k: usize,
    n: usize,
    device: &B::Device,
) -> (Tensor<B, 3>, Tensor<B, 3>) {
    B::seed(device, 1);
    let x = Tensor::random([b, m, k], Distribution::Normal(0.0, 1.0), device);
    let w = Tensor::random([b, k, n], Distribution::Normal(0.0, 1.0), device);
    (x, w)
}

fn time_once<B: Backend>(x: &Tensor<B, 3>, w: &Tensor<B, 3>) -> Duration {
    let start = Instant::now();
    let y = x.clone().matmul(w.clone());
    let _ = y.into_data();
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 3 } else { 7 };
    let formats = [
        ("int8", GseFormat::INT8),
        ("int6", GseFormat::INT6),
        ("int4", GseFormat::INT4),
    ];
    println!("shape                        backend        GOP/s   vs flex  vs ndarray");
    for &(b, m, k, n) in SHAPES {
        if quick && m * k * n > 1 << 30 {
            continue;
        }
        let ops = 2.0 * (b * m * k * n) as f64;
        let (fx, fw) = inputs::<Flex>(b, m, k, n, &Default::default());
        let (nx, nw) = inputs::<NdArray>(b, m, k, n, &Default::default());
        let gsq: Vec<_> = formats
            .iter()
            .map(|(name, f)| {
                let device = GsqDevice::new(PrecisionPolicy::PAPER.with_matmul_operand(*f));
                (name, inputs::<Gsq>(b, m, k, n, &device))
            })
            .collect();
        let (mut t_flex, mut t_nd) = (Vec::new(), Vec::new());
        let mut t_gsq = vec![Vec::new(); gsq.len()];
        // Warm up once, then interleave the backends run by run.
        let _ = (time_once(&fx, &fw), time_once(&nx, &nw));
        for (_, (x, w)) in &gsq {
            let _ = time_once(x, w);
        }
        for _ in 0..reps {
            t_flex.push(time_once(&fx, &fw));
            t_nd.push(time_once(&nx, &nw));
            for (i, (_, (x, w))) in gsq.iter().enumerate() {
                t_gsq[i].push(time_once(x, w));
            }
        }
        let (flex, nd) = (median(t_flex), median(t_nd));
        let gops = |d: Duration| ops / d.as_secs_f64() / 1e9;
        let shape = format!("[{b}] {m}x{k} * {k}x{n}");
        println!("{shape:<28} {:<12} {:>7.1}", "flex f32", gops(flex));
        println!("{shape:<28} {:<12} {:>7.1}", "ndarray f32", gops(nd));
        for (i, (name, _)) in gsq.iter().enumerate() {
            let d = median(t_gsq[i].clone());
            println!(
                "{shape:<28} gsq {:<8} {:>7.1}   {:>6.2}x   {:>6.2}x",
                name,
                gops(d),
                flex.as_secs_f64() / d.as_secs_f64(),
                nd.as_secs_f64() / d.as_secs_f64()
            );
        }
    }
}
