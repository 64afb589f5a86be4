//! burn's quantization API on the `Gsq` backend (`crates/burn-gsq/src/ops/qtensor.rs`).
//!
//! Native schemes (Q8S/Q4S/Q2S, 1-D power-of-two blocks, UE8M0 scales) must be exactly the GSE
//! quantizer's output and round-trip through `TensorData` bit for bit; converted schemes must
//! stay within their stated bound (half a quantum of the GSE group that holds each value) and
//! close to burn-ndarray's own quantize -> dequantize; minifloats are refused.

use burn::backend::NdArray;
use burn::tensor::ops::QTensorOps;
use burn::tensor::quantization::{
    BlockSize, Calibration, QuantLevel, QuantParam, QuantScheme, QuantStore, QuantValue,
    QuantizedBytes, compute_q_params, compute_range,
};
use burn::tensor::{DType, Int, Shape, Tensor, TensorData, TensorPrimitive};
use burn_gsq::{Gsq, GsqDevice};
use gse::{GseFormat, Rounding, SpecialPolicy};

const ROWS: usize = 8;
const COLS: usize = 64;

/// Deterministic values whose magnitude changes every 16 elements (so blocks get different
/// scales), with a few exact zeros and ties.
fn sample(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0;
            let magnitude = 2f32.powi(((i / 16) % 9) as i32 - 4);
            match i % 23 {
                0 => 0.0,
                1 => 2.5 * magnitude / 4.0,
                _ => u * magnitude,
            }
        })
        .collect()
}

fn scheme(value: QuantValue, param: QuantParam, level: QuantLevel) -> QuantScheme {
    QuantScheme::default()
        .with_value(value)
        .with_param(param)
        .with_level(level)
        .with_store(QuantStore::Native)
}

fn native(value: QuantValue, block: u8) -> QuantScheme {
    scheme(value, QuantParam::UE8M0, QuantLevel::block([block]))
}

/// `2^k` as an f32, subnormals included (`powi` flushes them).
fn pow2(k: i32) -> f32 {
    f32::from_bits(gse::f32_bits::dyadic_to_f32_bits(gse::Dyadic::new(1, k)))
}

/// Whether an f32 is exactly a positive power of two (normal or subnormal).
fn is_pow2(f: f32) -> bool {
    let b = f.to_bits();
    let (sign, exp, frac) = (b >> 31, (b >> 23) & 0xff, b & 0x007f_ffff);
    sign == 0
        && if exp == 0 {
            frac.is_power_of_two()
        } else {
            exp < 255 && frac == 0
        }
}

fn bits_of(value: QuantValue) -> u32 {
    value.size_bits() as u32
}

/// The scheme, i8 values and f32 scales of quantized data.
fn parts(data: &TensorData) -> (QuantScheme, Vec<i8>, Vec<f32>) {
    let DType::QFloat(scheme) = data.dtype else {
        panic!("not quantized data: {:?}", data.dtype)
    };
    let (values, qparams) = QuantizedBytes {
        bytes: data.bytes.clone(),
        scheme,
        num_elements: data.num_elements(),
    }
    .into_vec_i8();
    (scheme, values, qparams.scales)
}

fn block_elems(scheme: &QuantScheme, numel: usize) -> usize {
    match scheme.level {
        QuantLevel::Block(b) => b.num_elements(),
        QuantLevel::Tensor => numel,
    }
}

fn floats(t: Tensor<Gsq, 2>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

fn gsq_tensor(x: &[f32], device: &GsqDevice) -> Tensor<Gsq, 2> {
    Tensor::from_data(TensorData::new(x.to_vec(), [ROWS, x.len() / ROWS]), device)
}

fn nd_roundtrip(x: &[f32], scheme: &QuantScheme) -> (Vec<f32>, Vec<f32>) {
    let t = Tensor::<NdArray, 2>::from_data(
        TensorData::new(x.to_vec(), [ROWS, x.len() / ROWS]),
        &Default::default(),
    )
    .quantize_dynamic(scheme);
    let (_, _, scales) = parts(&t.clone().into_data());
    let deq = t
        .dequantize()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap();
    (deq, scales)
}

// ---------------------------------------------------------------------------------------------
// Native schemes
// ---------------------------------------------------------------------------------------------

#[test]
fn native_schemes_are_exactly_the_gse_quantizer() {
    let device = GsqDevice::exact();
    let x = sample(ROWS * COLS, 1);
    for value in [QuantValue::Q8S, QuantValue::Q4S, QuantValue::Q2S] {
        for block in [32u8, 16, 8, 1] {
            let s = native(value, block);
            let q = gsq_tensor(&x, &device).quantize_dynamic(&s);
            assert_eq!(q.dtype(), DType::QFloat(s), "{value:?}/{block}");

            let data = q.clone().into_data();
            let (held, values, scales) = parts(&data);
            assert_eq!(held, s);
            assert_eq!(scales.len(), x.len() / block as usize);

            // The GSE quantizer on the same f32 values, nearest-even.
            let format = GseFormat::new(bits_of(value), block as u32).unwrap();
            let reference =
                gse::encode_f32(format, &x, Rounding::NearestEven, SpecialPolicy::Error)
                    .unwrap()
                    .0;
            let p = format.magnitude_bits() as i32;
            for (i, &v) in values.iter().enumerate() {
                assert_eq!(
                    v as i32,
                    reference.mantissa(i),
                    "{value:?}/{block} element {i}"
                );
            }
            for (g, &scale) in scales.iter().enumerate() {
                assert_eq!(
                    scale,
                    pow2(reference.scale(g) - p),
                    "{value:?}/{block} group {g}"
                );
                assert!(is_pow2(scale));
            }

            // Within half a quantum of each block's scale, and dequantize is exact.
            let deq = floats(q.dequantize());
            for (i, (&d, &xi)) in deq.iter().zip(&x).enumerate() {
                let scale = scales[i / block as usize];
                assert_eq!(d, values[i] as f32 * scale, "{value:?}/{block} element {i}");
                assert!(
                    (d - xi).abs() <= scale / 2.0,
                    "{value:?}/{block} element {i}: {xi} -> {d}"
                );
            }
        }
    }
}

#[test]
fn native_data_round_trips_bit_exactly() {
    let device = GsqDevice::default();
    let x = sample(ROWS * COLS, 2);
    for value in [QuantValue::Q8S, QuantValue::Q4S, QuantValue::Q2S] {
        let s = native(value, 32);
        let data = gsq_tensor(&x, &device).quantize_dynamic(&s).into_data();
        let back = Tensor::<Gsq, 2>::from_data(data.clone(), &device);
        assert_eq!(back.dtype(), data.dtype);
        let again = back.into_data();
        assert_eq!(again.dtype, data.dtype);
        assert_eq!(again.shape, data.shape);
        assert_eq!(again.bytes.to_vec(), data.bytes.to_vec(), "{value:?}");
    }
}

#[test]
fn handmade_native_data_is_kept_as_is() {
    // Power-of-two scales that are not the GSE quantizer's choice (a block of small values with
    // a large scale, a subnormal scale) are kept, byte for byte, as are packed-u32 Q8 bytes.
    let device = GsqDevice::default();
    let values: Vec<i8> = (0..64).map(|i| ((i * 37) % 255 - 127) as i8).collect();
    let mut small = values.clone();
    small[32..].iter_mut().for_each(|v| *v /= 16);
    let scales = [pow2(-3), pow2(-130)];
    for store in [QuantStore::Native, QuantStore::PackedU32(0)] {
        let s = native(QuantValue::Q8S, 32).with_store(store);
        let data = TensorData::quantized(small.clone(), [2, 32], s, &scales);
        let t = Tensor::<Gsq, 2>::from_data(data, &device);
        let out = t.clone().into_data();
        let (held, v, sc) = parts(&out);
        assert_eq!(held, s.with_store(QuantStore::Native));
        assert_eq!(v, small);
        assert_eq!(
            sc.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
            scales.map(f32::to_bits)
        );
        let deq = floats(t.dequantize());
        for (i, &d) in deq.iter().enumerate() {
            assert_eq!(d, small[i] as f32 * scales[i / 32]);
        }
    }
}

#[test]
fn native_q8s_is_close_to_burn_ndarray() {
    // burn's scale is max|x| / 127 per block; GSE's is a power of two in (max/128, max/64], so
    // each value is within max/128 of x, and within (GSE quantum + burn quantum) / 2 of
    // burn-ndarray's result.
    let device = GsqDevice::default();
    let x = sample(ROWS * COLS, 3);
    let s = native(QuantValue::Q8S, 32);
    let q = gsq_tensor(&x, &device).quantize_dynamic(&s);
    let (_, _, gse_scales) = parts(&q.clone().into_data());
    let deq = floats(q.dequantize());
    let burn_scheme = scheme(QuantValue::Q8S, QuantParam::F32, QuantLevel::block([32]));
    let (nd, nd_scales) = nd_roundtrip(&x, &burn_scheme);
    for i in 0..x.len() {
        let g = i / 32;
        let max = x[g * 32..(g + 1) * 32]
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()));
        assert!(
            (deq[i] - x[i]).abs() <= max / 128.0 + f32::EPSILON * max,
            "element {i}"
        );
        let tol = (gse_scales[g] + nd_scales[g]) / 2.0 + 1e-6 * max;
        assert!(
            (deq[i] - nd[i]).abs() <= tol,
            "element {i}: gsq {} ndarray {}",
            deq[i],
            nd[i]
        );
    }
}

#[test]
fn quantize_with_burn_qparams_uses_gse_scales() {
    let device = GsqDevice::exact();
    let x = sample(ROWS * COLS, 4);
    let s = native(QuantValue::Q8S, 32);
    let t = gsq_tensor(&x, &device);
    let range = compute_range(&s, &t, &Calibration::MinMax);
    let qparams = compute_q_params(&s, range);
    let a = t.clone().quantize(&s, qparams).into_data();
    let b = t.quantize_dynamic(&s).into_data();
    assert_eq!(a.bytes.to_vec(), b.bytes.to_vec());
}

// ---------------------------------------------------------------------------------------------
// Converted schemes
// ---------------------------------------------------------------------------------------------

/// Every value within half the quantum of its GSE group (`x` may itself carry an f32 rounding).
fn assert_within_half_quantum(x: &[f32], deq: &[f32], scales: &[f32], group: usize, what: &str) {
    for i in 0..x.len() {
        let quantum = scales[i / group];
        assert!(
            (deq[i] - x[i]).abs() <= quantum / 2.0 + x[i].abs() * f32::EPSILON,
            "{what} element {i}: {} -> {} (quantum {quantum})",
            x[i],
            deq[i]
        );
    }
}

#[test]
fn converted_schemes_report_what_they_hold() {
    let device = GsqDevice::exact();
    let x = sample(ROWS * COLS, 5);
    let cases = [
        // (requested, held value, held group)
        (QuantScheme::default(), QuantValue::Q8S, 32usize),
        (
            scheme(QuantValue::Q8S, QuantParam::F32, QuantLevel::Tensor),
            QuantValue::Q8S,
            32,
        ),
        (
            scheme(QuantValue::Q8F, QuantParam::F16, QuantLevel::block([16])),
            QuantValue::Q8S,
            16,
        ),
        (
            scheme(QuantValue::Q4F, QuantParam::BF16, QuantLevel::block([64])),
            QuantValue::Q4S,
            64,
        ),
        (
            scheme(
                QuantValue::Q4S,
                QuantParam::UE4M3,
                QuantLevel::block([4, 4]),
            ),
            QuantValue::Q4S,
            16,
        ),
        (
            scheme(QuantValue::Q2F, QuantParam::F32, QuantLevel::block([24])),
            QuantValue::Q2S,
            32,
        ),
        (
            scheme(
                QuantValue::Q8S,
                QuantParam::UE8M0,
                QuantLevel::block([2, 8]),
            ),
            QuantValue::Q8S,
            16,
        ),
    ];
    for (requested, value, group) in cases {
        let q = gsq_tensor(&x, &device).quantize_dynamic(&requested);
        let held = scheme(value, QuantParam::UE8M0, QuantLevel::block([group as u8]));
        assert_eq!(q.dtype(), DType::QFloat(held), "{requested:?}");
        let (reported, _, scales) = parts(&q.clone().into_data());
        assert_eq!(reported, held);
        assert_eq!(scales.len(), x.len() / group);
        assert_within_half_quantum(
            &x,
            &floats(q.dequantize()),
            &scales,
            group,
            &format!("{requested:?}"),
        );
    }
}

#[test]
fn groups_shrink_to_tile_the_tensor() {
    // 8 x 6 = 48 elements: 32 does not divide it, 16 does.
    let device = GsqDevice::exact();
    let x = sample(48, 6);
    let t = Tensor::<Gsq, 2>::from_data(TensorData::new(x.clone(), [8, 6]), &device);
    let q = t.quantize_dynamic(&native(QuantValue::Q8S, 32));
    let (held, _, scales) = parts(&q.clone().into_data());
    assert_eq!(held, native(QuantValue::Q8S, 16));
    assert_eq!(scales.len(), 3);
    assert_within_half_quantum(&x, &floats(q.dequantize()), &scales, 16, "8x6");
}

#[test]
fn converted_burn_data_stays_within_one_burn_quantum() {
    // burn-ndarray's per-tensor Q8S/Q8F data (f32 scale max/127) read into Gsq: each value is
    // requantized into GSE-INT8 groups of 32, within half a GSE quantum, which is at most the
    // data's own scale.
    let device = GsqDevice::exact();
    let x = sample(ROWS * COLS, 7);
    for value in [QuantValue::Q8S, QuantValue::Q8F] {
        let s = scheme(value, QuantParam::F32, QuantLevel::Tensor);
        let nd = Tensor::<NdArray, 2>::from_data(
            TensorData::new(x.clone(), [ROWS, COLS]),
            &Default::default(),
        )
        .quantize_dynamic(&s);
        let nd_data = nd.clone().into_data();
        let (_, _, nd_scales) = parts(&nd_data);
        let nd_deq = nd
            .dequantize()
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .unwrap();

        let t = Tensor::<Gsq, 2>::from_data(nd_data, &device);
        let (held, _, scales) = parts(&t.clone().into_data());
        assert_eq!(held, native(QuantValue::Q8S, 32));
        let deq = floats(t.dequantize());
        assert_within_half_quantum(&nd_deq, &deq, &scales, 32, &format!("{value:?}"));
        // Q8F's -128 can carry a group to the next scale: two burn quanta there.
        let bound = if value == QuantValue::Q8F { 2.0 } else { 1.0 } * nd_scales[0];
        for i in 0..x.len() {
            assert!(
                (deq[i] - nd_deq[i]).abs() <= bound * (1.0 + f32::EPSILON),
                "{value:?} element {i}"
            );
        }
    }
}

#[test]
fn non_power_of_two_scales_are_converted() {
    let device = GsqDevice::exact();
    let values: Vec<i8> = (0..64).map(|i| (i as i8) - 32).collect();
    let s = native(QuantValue::Q8S, 32);
    let data = TensorData::quantized(values.clone(), [2, 32], s, &[0.1, 3.0]);
    let t = Tensor::<Gsq, 2>::from_data(data, &device);
    let (held, _, scales) = parts(&t.clone().into_data());
    assert_eq!(held, s);
    assert!(scales.iter().all(|&s| is_pow2(s)));
    let deq = floats(t.dequantize());
    for (i, &v) in values.iter().enumerate() {
        let exact = v as f64 * [0.1f32, 3.0][i / 32] as f64;
        let half = scales[i / 32] as f64 / 2.0;
        assert!(
            (deq[i] as f64 - exact).abs() <= half,
            "element {i}: {exact} -> {}",
            deq[i]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

#[test]
#[should_panic(expected = "minifloat value types")]
fn minifloat_quantize_is_refused() {
    let x = sample(ROWS * COLS, 8);
    let s = scheme(QuantValue::E4M3, QuantParam::F32, QuantLevel::Tensor);
    let _ = gsq_tensor(&x, &GsqDevice::default()).quantize_dynamic(&s);
}

#[test]
#[should_panic(expected = "use Q8S/Q4S/Q2S with block UE8M0 scales")]
fn minifloat_data_is_refused() {
    let s = scheme(QuantValue::E5M2, QuantParam::F32, QuantLevel::Tensor);
    let data = TensorData::quantized(vec![0i8; 4], [2, 2], s, &[1.0]);
    let _ = Tensor::<Gsq, 2>::from_data(data, &GsqDevice::default());
}

// ---------------------------------------------------------------------------------------------
// Views and indexing
// ---------------------------------------------------------------------------------------------

fn q_expand(t: Tensor<Gsq, 2>, shape: [usize; 2]) -> Tensor<Gsq, 2> {
    let TensorPrimitive::QFloat(p) = t.into_primitive() else {
        panic!("not quantized")
    };
    Tensor::from_primitive(TensorPrimitive::QFloat(Gsq::q_expand(p, Shape::new(shape))))
}

#[test]
fn views_keep_values_and_into_data_reforms_groups() {
    let device = GsqDevice::exact();
    let x = sample(ROWS * COLS, 9);
    let s = native(QuantValue::Q8S, 32);
    let q = gsq_tensor(&x, &device).quantize_dynamic(&s);
    let deq = q.clone().dequantize();

    // A view holds exactly the viewed values.
    let views: Vec<(&str, Tensor<Gsq, 2>, Tensor<Gsq, 2>)> = vec![
        (
            "swap_dims",
            q.clone().swap_dims(0, 1),
            deq.clone().swap_dims(0, 1),
        ),
        (
            "permute",
            q.clone().permute([1, 0]),
            deq.clone().permute([1, 0]),
        ),
        ("flip", q.clone().flip([0, 1]), deq.clone().flip([0, 1])),
        (
            "slice",
            q.clone().slice([1..5, 8..40]),
            deq.clone().slice([1..5, 8..40]),
        ),
        (
            "reshape",
            q.clone().reshape([COLS, ROWS]),
            deq.clone().reshape([COLS, ROWS]),
        ),
        // burn's `Tensor::expand` dequantizes: call the backend's `q_expand` directly.
        (
            "expand",
            q_expand(q.clone().slice([0..1, 0..COLS]), [3, COLS]),
            deq.clone().slice([0..1, 0..COLS]).expand([3, COLS]),
        ),
    ];
    for (name, view, expected) in views {
        let want = floats(expected.clone());
        assert_eq!(floats(view.clone().dequantize()), want, "{name}");
        // into_data re-forms the groups: the same as quantizing the viewed values afresh.
        let data = view.into_data();
        let fresh = expected.quantize_dynamic(&s).into_data();
        assert_eq!(data.dtype, fresh.dtype, "{name}");
        assert_eq!(data.bytes.to_vec(), fresh.bytes.to_vec(), "{name}");
        let (_, _, scales) = parts(&data);
        let group = block_elems(&parts(&data).0, want.len());
        let back = floats(Tensor::<Gsq, 2>::from_data(data, &device).dequantize());
        assert_within_half_quantum(&want, &back, &scales, group, name);
    }
}

#[test]
fn select_and_gather_write_fresh_groups() {
    let device = GsqDevice::exact();
    let x = sample(ROWS * COLS, 10);
    let s = native(QuantValue::Q4S, 16);
    let q = gsq_tensor(&x, &device).quantize_dynamic(&s);
    let deq = q.clone().dequantize();

    let idx = Tensor::<Gsq, 1, Int>::from_data(TensorData::new(vec![3i64, 0, 3, 7], [4]), &device);
    let sel = q.clone().select(0, idx.clone());
    let want = deq.clone().select(0, idx).quantize_dynamic(&s);
    assert_eq!(
        sel.clone().into_data().bytes.to_vec(),
        want.into_data().bytes.to_vec()
    );

    let cols = Tensor::<Gsq, 1, Int>::from_data(TensorData::new(vec![5i64, 1, 63], [3]), &device);
    let sel = q.clone().select(1, cols.clone());
    let want = deq.clone().select(1, cols).quantize_dynamic(&s);
    assert_eq!(sel.dtype(), want.dtype());
    assert_eq!(
        sel.into_data().bytes.to_vec(),
        want.into_data().bytes.to_vec()
    );

    let gidx: Vec<i64> = (0..ROWS * 4).map(|i| ((i * 7) % COLS) as i64).collect();
    let gidx = Tensor::<Gsq, 2, Int>::from_data(TensorData::new(gidx, [ROWS, 4]), &device);
    let g = q.gather(1, gidx.clone());
    let want = deq.gather(1, gidx).quantize_dynamic(&s);
    assert_eq!(
        g.into_data().bytes.to_vec(),
        want.into_data().bytes.to_vec()
    );
}

#[test]
fn dequantize_on_the_default_device_is_exact() {
    // INT8 values with power-of-two scales fit STREAM16 exactly.
    let device = GsqDevice::default();
    let x = sample(ROWS * COLS, 11);
    let q = gsq_tensor(&x, &device).quantize_dynamic(&native(QuantValue::Q8S, 32));
    let (_, values, scales) = parts(&q.clone().into_data());
    let deq = floats(q.dequantize());
    for i in 0..x.len() {
        assert_eq!(deq[i], values[i] as f32 * scales[i / 32]);
    }
    let _ = BlockSize::new([32]);
}

// Note: burn-autodiff 0.21 implements `quantize`/`dequantize`/`q_from_data` as `todo!()`, so
// quantization is used on the inner backend (`Tensor::inner()` of an `Autodiff<Gsq>` tensor).
