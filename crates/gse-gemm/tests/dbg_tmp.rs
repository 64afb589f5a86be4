mod common;
use common::*;
use gse::{GseFormat, Rounding, SplitMix64};
use gse_gemm::{GemmConfig, MatRef, matmul};
#[test]
fn dbg() {
    let (m, k, n) = (14, 300, 21);
    let mut rng = SplitMix64::new(77);
    let a = random_blocks(&mut rng, m, k, GseFormat::EXACT, Spread::Extreme);
    let b = random_blocks(&mut rng, k, n, GseFormat::EXACT, Spread::Extreme);
    let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    let c = GemmConfig { operand_format: GseFormat::INT8, out_format: GseFormat::EXACT, rounding: Rounding::NearestEven };
    let got = matmul(av, bv, &c);
    let vals = oracle_values(&av, &bv, None, &c, 0);
    let want = oracle(&[av], &[bv], None, &c);
    for i in 0..got.len() {
        if got.get(i) != want.get(i) {
            eprintln!("{i}: got {:?} want {:?} exact-ish {:?} ", got.get(i), want.get(i), vals[i]);
        }
    }
}
