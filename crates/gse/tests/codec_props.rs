//! Properties of the f32 <-> GSE codec: rounding error bounds, unbiased stochastic rounding,
//! the order key, robustness to every bit pattern and the exact format's lossless round trip.
//! Error bounds are checked in exact dyadic arithmetic, so no floating-point slack is involved.

use gse::f32_bits::{F32Class, classify_f32};
use gse::sort_key::order_key;
use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SpecialPolicy, decode_f32, encode_f32};
use proptest::prelude::*;

const ROUNDED_FORMATS: [GseFormat; 4] = [
    GseFormat::INT8,
    GseFormat::INT6,
    GseFormat::INT4,
    GseFormat::STREAM16,
];

fn exact(bits: u32) -> Dyadic {
    match classify_f32(bits) {
        F32Class::Finite(d) => d,
        other => panic!("{bits:#x} is not finite: {other:?}"),
    }
}

fn encode(format: GseFormat, values: &[f32], rounding: Rounding) -> GseBlocks {
    encode_f32(format, values, rounding, SpecialPolicy::Error)
        .expect("finite input")
        .0
}

/// Finite f32s below 2^127 in magnitude (so no group's rounding can carry past the largest
/// scale and saturate), from every binade including subnormals and zero.
fn finite_f32() -> impl Strategy<Value = f32> {
    (any::<bool>(), 0u32..254, any::<u32>()).prop_map(|(negative, biased, frac)| {
        let bits = ((negative as u32) << 31) | (biased << 23) | (frac & 0x007f_ffff);
        f32::from_bits(bits)
    })
}

/// Values of one realistic scale: a shared binade give or take 20, like a tensor's groups.
fn clustered_f32s() -> impl Strategy<Value = Vec<f32>> {
    (100u32..150).prop_flat_map(|center| {
        prop::collection::vec(
            (any::<bool>(), 0u32..40, any::<u32>()).prop_map(move |(negative, d, frac)| {
                let biased = center + d - 20;
                f32::from_bits(((negative as u32) << 31) | (biased << 23) | (frac & 0x007f_ffff))
            }),
            1..100,
        )
    })
}

/// Asserts `|decode(blocks)[i] - values[i]| <= quantum_i / 2`, exactly.
fn assert_within_half_quantum(format: GseFormat, values: &[f32], blocks: &GseBlocks) {
    let decoded = decode_f32(blocks);
    for (i, (&x, &y)) in values.iter().zip(&decoded).enumerate() {
        let err = exact(y.to_bits()).sub(exact(x.to_bits())).abs();
        let half_quantum = Dyadic::new(1, blocks.lsb_of(i) - 1);
        assert!(
            err.cmp_value(half_quantum).is_le(),
            "{format}: element {i}: {x:e} decoded as {y:e}, more than half a quantum 2^{} away",
            blocks.lsb_of(i)
        );
        // The decoded value is the stored one: decoding adds no second rounding.
        assert!(
            exact(y.to_bits()).cmp_value(blocks.get(i)).is_eq(),
            "{format}: element {i}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn nearest_rounding_is_within_half_a_quantum(values in prop::collection::vec(finite_f32(), 1..100)) {
        for format in ROUNDED_FORMATS {
            let blocks = encode(format, &values, Rounding::NearestEven);
            assert_within_half_quantum(format, &values, &blocks);
        }
    }

    #[test]
    fn nearest_rounding_of_clustered_groups(values in clustered_f32s()) {
        for format in ROUNDED_FORMATS {
            let blocks = encode(format, &values, Rounding::NearestEven);
            assert_within_half_quantum(format, &values, &blocks);
            // The group's largest member keeps the top bit: its scale is as small as possible.
            for g in 0..blocks.group_count() {
                let start = g * format.group_size();
                let end = (start + format.group_size()).min(values.len());
                let top = values[start..end].iter().map(|v| exact(v.to_bits()).top()).max().unwrap();
                if top != i32::MIN && top > gse::SCALE_MIN {
                    prop_assert!(blocks.scale(g) == top || blocks.scale(g) == top + 1, "group {g}");
                }
            }
        }
    }

    #[test]
    fn stochastic_rounding_stays_within_one_quantum(values in prop::collection::vec(finite_f32(), 1..100), seed in any::<u64>()) {
        for format in ROUNDED_FORMATS {
            let blocks = encode(format, &values, Rounding::Stochastic { seed });
            let decoded = decode_f32(&blocks);
            for (i, (&x, &y)) in values.iter().zip(&decoded).enumerate() {
                let err = exact(y.to_bits()).sub(exact(x.to_bits())).abs();
                prop_assert!(err.cmp_value(Dyadic::new(1, blocks.lsb_of(i))).is_lt(), "{format} element {i}");
            }
        }
    }

    #[test]
    fn order_key_orders_like_the_values(a in finite_f32(), b in finite_f32()) {
        let (da, db) = (exact(a.to_bits()), exact(b.to_bits()));
        prop_assert_eq!(order_key(da).cmp(&order_key(db)), da.cmp_value(db));
        // And like f32's own order (GSE has no signed zero: -0 and +0 are one value).
        prop_assert_eq!(order_key(da).cmp(&order_key(db)), a.partial_cmp(&b).unwrap());
    }

    #[test]
    fn order_key_orders_decoded_values(values in prop::collection::vec(finite_f32(), 2..64)) {
        for format in ROUNDED_FORMATS {
            let blocks = encode(format, &values, Rounding::NearestEven);
            for i in 1..values.len() {
                let (a, b) = (blocks.get(i - 1), blocks.get(i));
                prop_assert_eq!(order_key(a).cmp(&order_key(b)), a.cmp_value(b));
            }
        }
    }

    #[test]
    fn encoding_any_bit_pattern_never_panics(bits in prop::collection::vec(any::<u32>(), 1..100), seed in any::<u64>()) {
        let values: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b)).collect();
        let specials = values.iter().filter(|v| !v.is_finite()).count();
        for format in ROUNDED_FORMATS.into_iter().chain([GseFormat::EXACT, GseFormat::WIDE16, GseFormat::INT5]) {
            for rounding in [Rounding::NearestEven, Rounding::Stochastic { seed }] {
                let (blocks, counts) = encode_f32(format, &values, rounding, SpecialPolicy::Saturate).unwrap();
                prop_assert_eq!(blocks.len(), values.len());
                prop_assert_eq!((counts.nan + counts.infinite) as usize, specials);
                let decoded = decode_f32(&blocks);
                prop_assert!(decoded.iter().all(|v| v.is_finite()), "{format}: saturated values decode finite");
                let refused = encode_f32(format, &values, rounding, SpecialPolicy::Error);
                prop_assert_eq!(refused.is_err(), specials > 0);
            }
        }
    }

    #[test]
    fn exact_format_round_trips_finite_f32s(bits in prop::collection::vec(any::<u32>(), 1..100)) {
        // Every finite pattern but -0 (GSE has one zero).
        let values: Vec<f32> = bits
            .iter()
            .map(|&b| f32::from_bits(b))
            .filter(|v| v.is_finite() && v.to_bits() != 0x8000_0000)
            .collect();
        let blocks = encode(GseFormat::EXACT, &values, Rounding::NearestEven);
        let decoded = decode_f32(&blocks);
        for (x, y) in values.iter().zip(&decoded) {
            prop_assert_eq!(x.to_bits(), y.to_bits());
        }
    }
}

#[test]
fn exact_format_round_trips_a_sweep_of_every_binade() {
    // One pattern in 4099 (a prime stride, so every exponent and many fractions are hit).
    let values: Vec<f32> = (0..=u32::MAX)
        .step_by(4099)
        .map(f32::from_bits)
        .filter(|v| v.is_finite() && v.to_bits() != 0x8000_0000)
        .collect();
    assert!(values.len() > 1_000_000);
    let blocks = encode(GseFormat::EXACT, &values, Rounding::NearestEven);
    let decoded = decode_f32(&blocks);
    let bad = values
        .iter()
        .zip(&decoded)
        .filter(|(x, y)| x.to_bits() != y.to_bits())
        .count();
    assert_eq!(bad, 0);
    // Negative zero decodes as +0.
    let blocks = encode(GseFormat::EXACT, &[-0.0], Rounding::NearestEven);
    assert_eq!(decode_f32(&blocks)[0].to_bits(), 0);
}

/// Stochastic rounding is unbiased: `n` copies of `x` rounded with independent random words
/// (one per element index) average to `x`. Each rounding errs by less than a quantum `q` with
/// mean 0 and standard deviation at most `q/2`, so the mean of `n` draws has a standard
/// deviation at most `q / (2 sqrt n)`; the tolerance is 6 of those (a false failure has odds
/// below 1e-8, and the seed is fixed anyway). The sum is taken exactly in dyadics.
#[test]
fn stochastic_rounding_is_unbiased() {
    const N: usize = 65_536;
    let cases: [(GseFormat, f32); 6] = [
        (GseFormat::INT4, 0.3),
        (GseFormat::INT4, -0.71),
        (GseFormat::INT8, 1.000_123_4),
        (GseFormat::INT8, -3.3e-20),
        (GseFormat::STREAM16, 0.123_456_79),
        (GseFormat::INT6, 7.77e10),
    ];
    for (seed, (format, x)) in cases.into_iter().enumerate() {
        let values = vec![x; N];
        let blocks = encode(
            format,
            &values,
            Rounding::Stochastic {
                seed: 0x5eed + seed as u64,
            },
        );
        let q = blocks.lsb_of(0);
        let mut sum = Dyadic::ZERO;
        for i in 0..N {
            sum = sum.add(blocks.get(i));
        }
        // mean - x, in quanta, times 2^16 = N: |sum - N x| <= 6 q sqrt(N) / 2 = 3 q 2^8.
        let deviation = sum
            .sub(exact(x.to_bits()).mul(Dyadic::from_int(N as i64)))
            .abs();
        let tolerance = Dyadic::new(3 << 8, q);
        assert!(
            deviation.cmp_value(tolerance).is_le(),
            "{format} x = {x:e}: |sum - N x| = {deviation:?} above {tolerance:?}"
        );
        // And it did round (not every value equal to x): the mean would otherwise be trivial.
        let first = blocks.get(0);
        assert!(
            (1..N).any(|i| blocks.get(i) != first),
            "{format} x = {x:e}: no rounding happened"
        );
    }
}
