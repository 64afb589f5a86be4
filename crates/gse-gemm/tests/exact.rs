//! The engine's output is bit-identical to rounding, once, the exact product of the operands
//! quantized by `gse::quantize_group`: for every operand format, shapes that do not divide the
//! group or tile sizes, strided, offset, negative-stride and transposed views, K = 1, M or
//! N = 1, zero-sized dimensions, stochastic operand rounding, bias and batches.

mod common;

use common::*;
use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SplitMix64};
use gse_gemm::{GemmConfig, Kernel, MatRef, linear, matmul, matmul_batched, matmul_with};

fn cfg(operand: GseFormat, out: GseFormat) -> GemmConfig {
    GemmConfig {
        operand_format: operand,
        out_format: out,
        rounding: Rounding::NearestEven,
    }
}

fn check(m: usize, k: usize, n: usize, cfg: &GemmConfig, spread: Spread, seed: u64) {
    let mut rng = SplitMix64::new(seed);
    let a = random_blocks(&mut rng, m, k, GseFormat::STREAM16, spread);
    let b = random_blocks(&mut rng, k, n, GseFormat::INT8, spread);
    let av = MatRef::row_major(&a, m, k);
    let bv = MatRef::row_major(&b, k, n);
    let got = matmul(av, bv, cfg);
    let want = oracle(&[av], &[bv], None, cfg);
    assert_same(&got, &want, &format!("{m}x{k}x{n} {cfg:?} {spread:?}"));
}

#[test]
fn every_operand_format_and_odd_shapes() {
    let shapes = [
        (1, 1, 1),
        (7, 33, 5),
        (13, 100, 17),
        (6, 64, 16),
        (37, 517, 45),
        (1, 300, 70),
        (70, 300, 1),
        (12, 1, 40),
        (25, 2200, 33),
    ];
    for (s, &(m, k, n)) in shapes.iter().enumerate() {
        for operand in [
            GseFormat::INT8,
            GseFormat::INT6,
            GseFormat::INT5,
            GseFormat::INT4,
        ] {
            for out in [GseFormat::STREAM16, GseFormat::EXACT] {
                for spread in [Spread::Narrow, Spread::Varied] {
                    check(m, k, n, &cfg(operand, out), spread, s as u64);
                }
            }
        }
    }
}

#[test]
fn grouped_and_nibble_output_formats() {
    for out in [
        GseFormat::WIDE16,
        GseFormat::INT8,
        GseFormat::INT4,
        GseFormat::new(4, 1).unwrap(),
    ] {
        check(19, 70, 41, &cfg(GseFormat::INT8, out), Spread::Varied, 5);
    }
}

#[test]
fn formats_outside_the_i16_engine_use_the_reference_path() {
    for operand in [
        GseFormat::STREAM16,
        GseFormat::new(12, 1).unwrap(),
        GseFormat::new(10, 64).unwrap(),
        GseFormat::new(8, 4).unwrap(),
    ] {
        check(
            9,
            75,
            11,
            &cfg(operand, GseFormat::EXACT),
            Spread::Varied,
            9,
        );
    }
}

#[test]
fn large_k_crosses_many_blocks_and_unaligned_blocks() {
    // Varied magnitudes make some blocks exceed the pre-shift spread: per-group flushes.
    check(
        20,
        2100,
        35,
        &cfg(GseFormat::INT8, GseFormat::EXACT),
        Spread::Varied,
        11,
    );
    check(
        8,
        4096,
        24,
        &cfg(GseFormat::INT4, GseFormat::EXACT),
        Spread::Varied,
        12,
    );
}

#[test]
fn strided_offset_negative_and_transposed_views() {
    let mut rng = SplitMix64::new(21);
    let (m, k, n) = (23, 77, 29);
    let c = cfg(GseFormat::INT8, GseFormat::EXACT);
    // A stored transposed (K x M), B stored transposed (N x K).
    let at = random_blocks(&mut rng, k, m, GseFormat::WIDE16, Spread::Varied);
    let bt = random_blocks(&mut rng, n, k, GseFormat::EXACT, Spread::Varied);
    let av = MatRef::row_major(&at, k, m).t();
    let bv = MatRef::row_major(&bt, n, k).t();
    assert_same(
        &matmul(av, bv, &c),
        &oracle(&[av], &[bv], None, &c),
        "transposed",
    );
    // Sub-matrices of a bigger parent with an offset, a column step of 2, and negative strides.
    let parent = random_blocks(&mut rng, 100, 200, GseFormat::INT4, Spread::Varied);
    let sub_a = MatRef {
        blocks: &parent,
        offset: 3 * 200 + 5,
        row_stride: 200,
        col_stride: 2,
        rows: m,
        cols: k,
    };
    let flipped_b = MatRef {
        blocks: &parent,
        offset: 99 * 200 + 199,
        row_stride: -200,
        col_stride: -1,
        rows: k,
        cols: n,
    };
    assert_same(
        &matmul(sub_a, flipped_b, &c),
        &oracle(&[sub_a], &[flipped_b], None, &c),
        "offset/negative strides",
    );
    // A zero-stride (broadcast) row.
    let bcast = MatRef {
        blocks: &parent,
        offset: 7,
        row_stride: 0,
        col_stride: 1,
        rows: 5,
        cols: k,
    };
    assert_same(
        &matmul(bcast, bv, &c),
        &oracle(&[bcast], &[bv], None, &c),
        "broadcast rows",
    );
}

#[test]
fn stochastic_operand_rounding_matches_the_documented_streams() {
    for seed in [1u64, 99] {
        let c = GemmConfig {
            rounding: Rounding::Stochastic { seed },
            ..cfg(GseFormat::INT5, GseFormat::EXACT)
        };
        check(17, 90, 21, &c, Spread::Varied, seed);
    }
}

#[test]
fn zero_sized_dimensions_give_empty_or_zero_results() {
    let mut rng = SplitMix64::new(3);
    let c = GemmConfig::default();
    let a = random_blocks(&mut rng, 4, 5, GseFormat::INT8, Spread::Narrow);
    let empty = GseBlocks::zeros(GseFormat::INT8, 0);
    let e = |rows, cols| MatRef::row_major(&empty, rows, cols);
    assert_eq!(matmul(e(0, 5), MatRef::row_major(&a, 5, 4), &c).len(), 0);
    assert_eq!(matmul(MatRef::row_major(&a, 4, 5), e(5, 0), &c).len(), 0);
    // K = 0: a 3 x 2 matrix of zeros (plus the bias with linear).
    let z = matmul(e(3, 0), e(0, 2), &c);
    assert_eq!(z.len(), 6);
    assert!(z.to_dyadics().iter().all(|d| d.is_zero()));
    let bias = random_blocks(&mut rng, 1, 2, GseFormat::STREAM16, Spread::Narrow);
    let y = linear(e(3, 0), e(0, 2), Some(&bias), &c);
    for i in 0..6 {
        assert_eq!(y.get(i), bias.get(i % 2));
    }
    assert_eq!(matmul_batched(&[], &[], &c).len(), 0);
}

#[test]
fn linear_adds_the_bias_before_the_single_rounding() {
    let mut rng = SplitMix64::new(8);
    let (m, k, n) = (11, 130, 37);
    let x = random_blocks(&mut rng, m, k, GseFormat::STREAM16, Spread::Varied);
    let w = random_blocks(&mut rng, k, n, GseFormat::INT8, Spread::Varied);
    for bias_format in [GseFormat::EXACT, GseFormat::STREAM16, GseFormat::INT4] {
        let bias = random_blocks(&mut rng, 1, n, bias_format, Spread::Varied);
        for out in [GseFormat::STREAM16, GseFormat::EXACT, GseFormat::WIDE16] {
            let c = cfg(GseFormat::INT8, out);
            let (xv, wv) = (MatRef::row_major(&x, m, k), MatRef::row_major(&w, k, n));
            let got = linear(xv, wv, Some(&bias), &c);
            assert_same(&got, &oracle(&[xv], &[wv], Some(&bias), &c), "linear");
        }
    }
}

#[test]
fn batched_with_broadcast_and_shared_views() {
    let mut rng = SplitMix64::new(4);
    let (m, k, n) = (9, 40, 13);
    let c = cfg(GseFormat::INT8, GseFormat::STREAM16);
    let a: Vec<GseBlocks> = (0..3)
        .map(|_| random_blocks(&mut rng, m, k, GseFormat::STREAM16, Spread::Varied))
        .collect();
    let w = random_blocks(&mut rng, k, n, GseFormat::INT8, Spread::Varied);
    let av: Vec<MatRef> = a.iter().map(|x| MatRef::row_major(x, m, k)).collect();
    let wv = MatRef::row_major(&w, k, n);
    // One B broadcast over three A; the same B repeated; A repeated.
    assert_same(
        &matmul_batched(&av, &[wv], &c),
        &oracle(&av, &[wv], None, &c),
        "bcast B",
    );
    let ws = [wv, wv, wv];
    assert_same(
        &matmul_batched(&av, &ws, &c),
        &oracle(&av, &ws, None, &c),
        "shared B",
    );
    let same_a = [av[0], av[1], av[0], av[0]];
    let ws4 = [wv; 4];
    assert_same(
        &matmul_batched(&same_a, &ws4, &c),
        &oracle(&same_a, &ws4, None, &c),
        "shared A",
    );
}

#[test]
fn attention_shaped_batches() {
    // [batch * heads] of (seq x d) * (d x seq), B given as a transposed view of K (seq x d).
    let mut rng = SplitMix64::new(10);
    let (bh, seq, d) = (6, 40, 24);
    let q = random_blocks(&mut rng, bh * seq, d, GseFormat::STREAM16, Spread::Varied);
    let kk = random_blocks(&mut rng, bh * seq, d, GseFormat::STREAM16, Spread::Varied);
    let qv: Vec<MatRef> = (0..bh)
        .map(|h| MatRef {
            offset: h * seq * d,
            ..MatRef::row_major(&q, seq, d)
        })
        .collect();
    let kv: Vec<MatRef> = (0..bh)
        .map(|h| {
            MatRef {
                offset: h * seq * d,
                ..MatRef::row_major(&kk, seq, d)
            }
            .t()
        })
        .collect();
    let c = GemmConfig::default();
    assert_same(
        &matmul_batched(&qv, &kv, &c),
        &oracle(&qv, &kv, None, &c),
        "attention",
    );
}

#[test]
fn extreme_spreads_are_exact_too() {
    // Whole K-groups near 2^-60 among values near 1 exceed the i64 range (spread limit ~39 at
    // this K): those tiles sum in the exact wide accumulator, still correctly rounded.
    let (m, k, n) = (14, 300, 21);
    let mut rng = SplitMix64::new(77);
    let a = random_blocks(&mut rng, m, k, GseFormat::EXACT, Spread::Extreme);
    let b = random_blocks(&mut rng, k, n, GseFormat::EXACT, Spread::Extreme);
    let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    for out in [GseFormat::STREAM16, GseFormat::EXACT, GseFormat::WIDE16] {
        let c = cfg(GseFormat::INT8, out);
        assert_same(
            &matmul(av, bv, &c),
            &oracle(&[av], &[bv], None, &c),
            "extreme",
        );
    }
}

/// STREAM16 values with every case the packing fast path must hand back or settle: zeros,
/// values at the bottom of the scale range (unnormalized mantissas), at the top (scale byte
/// 255, where a carry saturates), and mantissas just below `2^15` (carries at every width).
fn stream16_edges(rng: &mut SplitMix64, rows: usize, cols: usize) -> GseBlocks {
    let vals: Vec<Dyadic> = (0..rows * cols)
        .map(|_| {
            let mant = (rng.next_u64() >> 40) as i64 - (1 << 23);
            match rng.below(40) {
                0 => Dyadic::ZERO,
                1 => Dyadic::new(mant, -150 - rng.below(12) as i32), // unnormalized
                2 => Dyadic::new(mant | 0x7f_ffff, 104),             // scale byte 255
                3..=6 => Dyadic::new(
                    ((1 << 23) - 1 - rng.below(1 << 12) as i64) * (1 - 2 * (mant & 1)),
                    -23,
                ),
                _ => Dyadic::new(mant, -23 - rng.below(6) as i32),
            }
        })
        .collect();
    gse::encode_dyadics(GseFormat::STREAM16, &vals, Rounding::NearestEven)
}

#[test]
fn stream16_operands_in_every_layout_match_the_oracle() {
    let mut rng = SplitMix64::new(77);
    for (m, k, n) in [(13, 100, 35), (6, 64, 16), (40, 96, 48), (9, 33, 17)] {
        let a = stream16_edges(&mut rng, m, k);
        let at = stream16_edges(&mut rng, k, m);
        let b = stream16_edges(&mut rng, k, n);
        let bt = stream16_edges(&mut rng, n, k);
        let views = [
            (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n)),
            (
                MatRef::row_major(&at, k, m).t(),
                MatRef::row_major(&bt, n, k).t(),
            ),
        ];
        for operand in [GseFormat::INT8, GseFormat::INT6, GseFormat::INT4] {
            for (ai, &(av, _)) in views.iter().enumerate() {
                for (bi, &(_, bv)) in views.iter().enumerate() {
                    let c = cfg(operand, GseFormat::EXACT);
                    assert_same(
                        &matmul(av, bv, &c),
                        &oracle(&[av], &[bv], None, &c),
                        &format!("{m}x{k}x{n} {operand} a{ai} b{bi}"),
                    );
                }
            }
        }
    }
}

/// Normalized STREAM16 values (what burn's tensors hold) that the vectorized packing takes
/// without declining: zeros, exponents spread over a few steps (unaligned lines and blocks
/// too), and mantissas just below `2^15`, which carry at every operand width.
fn stream16_normalized(rng: &mut SplitMix64, rows: usize, cols: usize) -> GseBlocks {
    let vals: Vec<Dyadic> = (0..rows * cols)
        .map(|_| {
            let mant = (rng.next_u64() >> 40) as i64 - (1 << 23);
            match rng.below(24) {
                0 => Dyadic::ZERO,
                1..=4 => Dyadic::new(
                    ((1 << 23) - 1 - rng.below(1 << 12) as i64) * (1 - 2 * (mant & 1)),
                    -23 - rng.below(3) as i32,
                ),
                5 => Dyadic::new(mant, -10 - rng.below(12) as i32),
                _ => Dyadic::new(mant, -23 - rng.below(4) as i32),
            }
        })
        .collect();
    gse::encode_dyadics(GseFormat::STREAM16, &vals, Rounding::NearestEven)
}

#[test]
fn vectorized_stream16_packing_matches_the_oracle_and_the_portable_kernel() {
    let mut rng = SplitMix64::new(78);
    // K over one block (with a partial last group), panels of 6 and 16 lines with and
    // without a partial last one, and group sizes of 8, 16 and 32.
    for (m, k, n) in [(12, 64, 32), (13, 2200, 35), (30, 520, 48), (6, 40, 16)] {
        let a = stream16_normalized(&mut rng, m, k);
        let at = stream16_normalized(&mut rng, k, m);
        let b = stream16_normalized(&mut rng, k, n);
        let bt = stream16_normalized(&mut rng, n, k);
        let a_views = [
            MatRef::row_major(&a, m, k),
            MatRef::row_major(&at, k, m).t(),
        ];
        let b_views = [
            MatRef::row_major(&b, k, n),
            MatRef::row_major(&bt, n, k).t(),
        ];
        let formats = [
            GseFormat::INT8,
            GseFormat::INT6,
            GseFormat::INT4,
            GseFormat::new(6, 8).unwrap(),
            GseFormat::new(8, 16).unwrap(),
        ];
        for operand in formats {
            let c = cfg(operand, GseFormat::EXACT);
            for (ai, av) in a_views.iter().enumerate() {
                for (bi, bv) in b_views.iter().enumerate() {
                    let what = format!("{m}x{k}x{n} {operand} a{ai} b{bi}");
                    let want = oracle(&[*av], &[*bv], None, &c);
                    for kernel in [Kernel::Avx2, Kernel::Portable] {
                        let got = matmul_with(*av, *bv, &c, kernel).unwrap();
                        assert_same(&got, &want, &format!("{what} {kernel:?}"));
                    }
                }
            }
        }
    }
}

/// Products whose scales leave the output format's range (saturating above, flushing to
/// zero or the smallest scale below) in tiles whose exact sums are i32: the per-tile range
/// test that lets rows skip the per-lane checks must send these to the checked path.
#[test]
fn out_of_range_output_scales_in_i32_tiles() {
    let mut rng = SplitMix64::new(79);
    for shift in [-70i32, -64, 60, 66, 70] {
        let (m, k, n) = (12, 32, 32);
        let val = |rng: &mut SplitMix64| {
            let mant = (rng.next_u64() >> 40) as i64 - (1 << 23);
            Dyadic::new(mant, shift - 23 - rng.below(3) as i32)
        };
        let a: Vec<Dyadic> = (0..m * k).map(|_| val(&mut rng)).collect();
        let b: Vec<Dyadic> = (0..k * n).map(|_| val(&mut rng)).collect();
        let a = gse::encode_dyadics(GseFormat::STREAM16, &a, Rounding::NearestEven);
        let b = gse::encode_dyadics(GseFormat::STREAM16, &b, Rounding::NearestEven);
        let (av, bv) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        for operand in [GseFormat::INT8, GseFormat::INT4] {
            let c = cfg(operand, GseFormat::STREAM16);
            let want = oracle(&[av], &[bv], None, &c);
            for kernel in [Kernel::Avx2, Kernel::Portable] {
                let got = matmul_with(av, bv, &c, kernel).unwrap();
                assert_same(&got, &want, &format!("2^{shift} {operand} {kernel:?}"));
            }
        }
    }
}
