//! Where an elementwise op's time goes: index generation, decoding, the op, quantization.
//! `cargo run --release -p gse-kernels --example elementwise_profile`
use std::hint::black_box;
use std::time::Instant;

use gse::{Dyadic, GseFormat, Rounding, SplitMix64};
use gse_kernels::{self as k, GseTensor};

fn time<R>(label: &str, n: usize, mut f: impl FnMut() -> R) {
    let mut best = u128::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed().as_nanos());
    }
    println!("{label:<40} {:>8} ps/elem", best * 1000 / n as u128);
}

fn main() {
    let n = 1 << 20;
    let mut rng = SplitMix64::new(1);
    let vals: Vec<Dyadic> = (0..n)
        .map(|_| Dyadic::new((rng.next_u64() >> 40) as i64 - (1 << 23), -20))
        .collect();
    for format in [GseFormat::STREAM16, GseFormat::WIDE16, GseFormat::INT8] {
        println!("{format:?}");
        let a = k::generate(&[1024, 1024], format, Rounding::NearestEven, |i| vals[i]);
        let b = k::generate(&[1024, 1024], format, Rounding::NearestEven, |i| {
            vals[n - 1 - i]
        });
        let ne = Rounding::NearestEven;
        time("generate (quantize only)", n, || {
            k::generate(&[1024, 1024], format, ne, |i| vals[i])
        });
        time("map_unary identity", n, || {
            k::map_unary(&a, format, ne, |x| x)
        });
        time("map_binary add", n, || {
            k::map_binary(&a, &b, format, ne, Dyadic::add).unwrap()
        });
        time("map_binary mul", n, || {
            k::map_binary(&a, &b, format, ne, Dyadic::mul).unwrap()
        });
        let bt: GseTensor = b.permute(&[1, 0]);
        time("map_binary add (transposed rhs)", n, || {
            k::map_binary(&a, &bt, format, ne, Dyadic::add).unwrap()
        });
        let mut idx = vec![0usize; 4096];
        time("fill_indices (serial)", n, || {
            for s in (0..n).step_by(4096) {
                a.layout().fill_indices(s, &mut idx);
            }
        });
        time("decode get (serial)", n, || {
            let mut acc = 0i64;
            for p in 0..n {
                acc = acc.wrapping_add(a.blocks().get(p).mant);
            }
            acc
        });
    }
}
