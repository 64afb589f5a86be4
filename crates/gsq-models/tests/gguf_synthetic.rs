//! GGUF files written by the test (with `gsq_models::writer`) and read back: every metadata value
//! type and every convertible tensor type, against values computed here independently.

use gse::f32_bits::dyadic_to_f32_bits;
use gse::{Dyadic, GseFormat};
use gsq_models::gguf::{Array, GgmlType, Gguf, GgufError, Value, ValueType};
use gsq_models::writer::{GgufWriter, q4_0_block, q4_1_block, q8_0_block};

/// One value of every type, including arrays of strings, nested arrays and an empty array.
fn every_value_type() -> Vec<(&'static str, Value)> {
    let strings = Array {
        elem_type: ValueType::String,
        items: vec![Value::String("a".into()), Value::String("ünï".into())],
    };
    let nested = Array {
        elem_type: ValueType::Array,
        items: vec![
            Value::Array(Array {
                elem_type: ValueType::I32,
                items: vec![Value::I32(-1), Value::I32(2)],
            }),
            Value::Array(Array {
                elem_type: ValueType::I32,
                items: vec![],
            }),
        ],
    };
    vec![
        ("t.u8", Value::U8(200)),
        ("t.i8", Value::I8(-100)),
        ("t.u16", Value::U16(60_000)),
        ("t.i16", Value::I16(-30_000)),
        ("t.u32", Value::U32(4_000_000_000)),
        ("t.i32", Value::I32(-2_000_000_000)),
        ("t.f32", Value::F32(1.5f32.to_bits())),
        ("t.bool", Value::Bool(true)),
        ("t.string", Value::String("héllo, “world”".into())),
        ("t.strings", Value::Array(strings)),
        ("t.nested", Value::Array(nested)),
        (
            "t.empty",
            Value::Array(Array {
                elem_type: ValueType::F32,
                items: vec![],
            }),
        ),
        ("t.u64", Value::U64(u64::MAX)),
        ("t.i64", Value::I64(i64::MIN)),
        ("t.f64", Value::F64((-0.1f64).to_bits())),
    ]
}

fn with_metadata(version: u32) -> GgufWriter {
    let mut w = GgufWriter::new().with_version(version);
    for (k, v) in every_value_type() {
        w.metadata(k, v);
    }
    w
}

#[test]
fn every_value_type_round_trips_in_v2_and_v3() {
    for version in [2, 3] {
        let g = Gguf::from_bytes(with_metadata(version).to_bytes()).unwrap();
        assert_eq!(g.version(), version);
        let expected: Vec<(String, Value)> = every_value_type()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(g.metadata(), expected.as_slice());
        assert!(g.tensors().is_empty());
    }
}

#[test]
fn typed_accessors_convert_or_name_the_key() {
    let g = Gguf::from_bytes(with_metadata(3).to_bytes()).unwrap();
    assert_eq!(g.u32("t.u8").unwrap(), 200);
    assert_eq!(g.u32("t.u32").unwrap(), 4_000_000_000);
    assert_eq!(g.u64("t.u64").unwrap(), u64::MAX);
    assert!(g.bool("t.bool").unwrap());
    assert_eq!(g.str("t.string").unwrap(), "héllo, “world”");
    assert_eq!(g.string_array("t.strings").unwrap(), ["a", "ünï"]);
    assert_eq!(g.dyadic("t.f32").unwrap(), Dyadic::new(3 << 22, -23));
    assert_eq!(g.f32_bits("t.f32").unwrap(), 1.5f32.to_bits());
    assert_eq!(g.f32_bits("t.f64").unwrap(), (-0.1f32).to_bits());
    assert_eq!(g.dyadic("t.i32").unwrap(), Dyadic::from_int(-2_000_000_000));

    let err = g.u32("t.i8").unwrap_err().to_string();
    assert!(err.contains("t.i8") && err.contains("i8"), "{err}");
    let err = g.u32("t.u64").unwrap_err().to_string();
    assert!(err.contains("t.u64") && err.contains("u32 range"), "{err}");
    let err = g.string_array("t.nested").unwrap_err().to_string();
    assert!(
        err.contains("t.nested") && err.contains("array of array"),
        "{err}"
    );
    assert!(matches!(g.str("nope"), Err(GgufError::MissingKey { key }) if key == "nope"));
    assert!(matches!(g.tensor("w"), Err(GgufError::MissingTensor { name }) if name == "w"));
}

/// A small, exactly representable set of f16 scale patterns: 0.25, -1.5, 3/1024, 2^-24.
const SCALES: [(u16, f64); 4] = [
    (0x3400, 0.25),
    (0xbe00, -1.5),
    (0x1a00, 3.0 / 1024.0),
    (0x0001, 1.0 / 16_777_216.0),
];

/// 32 codes below `modulus`; the two halves differ, so a nibble-order mix-up shows.
fn codes(seed: u8, modulus: u8) -> [u8; 32] {
    std::array::from_fn(|i| {
        let half = (i / 16) as u8;
        ((i as u8).wrapping_mul(7) ^ (half * 5)).wrapping_add(seed) % modulus
    })
}

/// A file with one tensor of each convertible type, and the values each should decode to,
/// computed with f64 arithmetic (exact for these small scales and codes).
/// A tensor's name, row-major shape and expected values.
type Expected = (&'static str, Vec<usize>, Vec<f64>);

fn tensor_file() -> (Vec<u8>, Vec<Expected>) {
    let mut w = GgufWriter::new();
    w.metadata("general.alignment", Value::U32(64));
    let mut expected = Vec::new();

    let f32_values = [1.0f32, -2.5, 1e-30, 3.4e38, -0.0, 7.0];
    w.f32_tensor("f32", &[3, 2], &f32_values);
    expected.push(("f32", vec![2, 3], f32_values.map(f64::from).to_vec()));

    let f16_bits = [0x3c00u16, 0xc000, 0x7bff, 0x0001, 0x8000, 0x3555];
    let f16_data = f16_bits.iter().flat_map(|b| b.to_le_bytes()).collect();
    w.tensor("f16", &[6], GgmlType::F16, f16_data);
    let f16_values = [
        1.0,
        -2.0,
        65504.0,
        1.0 / 16_777_216.0,
        0.0,
        0.333_251_953_125,
    ];
    expected.push(("f16", vec![6], f16_values.to_vec()));

    let mut q8 = Vec::new();
    let mut q8_values = Vec::new();
    for (b, &(d, dv)) in SCALES.iter().enumerate() {
        let q: [i8; 32] = std::array::from_fn(|i| ((i * 9 + b * 5) as u8).wrapping_sub(100) as i8);
        q8.extend(q8_0_block(d, &q));
        q8_values.extend(q.iter().map(|&v| dv * f64::from(v)));
    }
    w.tensor("q8_0", &[64, 2], GgmlType::Q8_0, q8);
    expected.push(("q8_0", vec![2, 64], q8_values));

    let mut q40 = Vec::new();
    let mut q40_values = Vec::new();
    for (b, &(d, dv)) in SCALES.iter().enumerate() {
        let c = codes(b as u8, 16);
        q40.extend(q4_0_block(d, &c));
        q40_values.extend(c.iter().map(|&q| dv * (f64::from(q) - 8.0)));
    }
    w.tensor("q4_0", &[32, 4], GgmlType::Q4_0, q40);
    expected.push(("q4_0", vec![4, 32], q40_values));

    let mut q41 = Vec::new();
    let mut q41_values = Vec::new();
    for (b, &(d, dv)) in SCALES.iter().enumerate() {
        let (m, mv) = SCALES[(b + 1) % SCALES.len()];
        let c = codes(b as u8 + 3, 16);
        q41.extend(q4_1_block(d, m, &c));
        q41_values.extend(c.iter().map(|&q| dv * f64::from(q) + mv));
    }
    w.tensor("q4_1", &[64, 2], GgmlType::Q4_1, q41);
    expected.push(("q4_1", vec![2, 64], q41_values));
    (w.to_bytes(), expected)
}

fn dyadic_as_f64(d: Dyadic) -> f64 {
    // Exact for the mantissas in these tests (below 2^53).
    d.mant as f64 * 2f64.powi(d.exp)
}

#[test]
fn every_convertible_tensor_type_decodes_exactly() {
    let (bytes, expected) = tensor_file();
    let g = Gguf::from_bytes(bytes).unwrap();
    assert_eq!(g.alignment(), 64);
    assert_eq!(g.data_offset() % 64, 0);
    for (name, shape, values) in expected {
        let t = g.tensor(name).unwrap();
        assert_eq!(t.shape(), shape, "{name}");
        let exact: Vec<f64> = t
            .to_dyadics()
            .unwrap()
            .into_iter()
            .map(dyadic_as_f64)
            .collect();
        assert_eq!(exact, values, "{name}");
        // Compared as values: GSE and Dyadic have no negative zero.
        let reference: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        assert_eq!(
            t.to_f32_vec().unwrap(),
            reference,
            "{name}: the nearest f32s"
        );
        let exact_gse = t.to_gse(GseFormat::EXACT).unwrap();
        let decoded: Vec<f32> = exact_gse
            .to_dyadics()
            .into_iter()
            .map(|d| f32::from_bits(dyadic_to_f32_bits(d)))
            .collect();
        assert_eq!(decoded, reference, "{name}: EXACT GSE keeps every f32");
    }
}

#[test]
fn gse_int8_decode_is_within_half_a_quantum_of_each_block() {
    let (bytes, _) = tensor_file();
    let g = Gguf::from_bytes(bytes).unwrap();
    for name in ["q8_0", "q4_0", "q4_1"] {
        let t = g.tensor(name).unwrap();
        let exact = t.to_dyadics().unwrap();
        for format in [GseFormat::INT8, GseFormat::INT4] {
            let blocks = t.to_gse(format).unwrap();
            assert_eq!(blocks.len(), exact.len());
            for (i, &x) in exact.iter().enumerate() {
                let half_quantum = Dyadic::new(1, blocks.lsb_of(i) - 1);
                let err = blocks.get(i).sub(x).abs();
                assert!(
                    err.cmp_value(half_quantum).is_le(),
                    "{name} {format} element {i}: {err:?} > {half_quantum:?}"
                );
            }
        }
    }
}

#[test]
fn q8_0_with_a_power_of_two_scale_is_exact_in_gse_int8() {
    // d = 0.25 and |q| <= 127: every value is a multiple of 2^-2 below 2^5, the INT8 grid of
    // scale 5 (quantum 2^-2), so nothing rounds.
    let q: [i8; 32] = std::array::from_fn(|i| (i as i32 * 8 - 127) as i8);
    let mut w = GgufWriter::new();
    w.tensor("q", &[32], GgmlType::Q8_0, q8_0_block(0x3400, &q));
    let g = Gguf::from_bytes(w.to_bytes()).unwrap();
    let t = g.tensor("q").unwrap();
    let exact = t.to_dyadics().unwrap();
    let gse = t.to_gse(GseFormat::INT8).unwrap().to_dyadics();
    for (a, b) in exact.iter().zip(&gse) {
        assert!(a.cmp_value(*b).is_eq());
    }
}

#[test]
fn unconvertible_and_non_finite_tensors_are_named_errors() {
    let mut w = GgufWriter::new();
    w.tensor("k_quant", &[256], GgmlType::Q6K, vec![0; 210]);
    let nan_scale = q8_0_block(0x7e00, &[1; 32]);
    w.tensor("nan_scale", &[32], GgmlType::Q8_0, nan_scale);
    w.f32_tensor("inf", &[2], &[1.0, f32::INFINITY]);
    let g = Gguf::from_bytes(w.to_bytes()).unwrap();

    let err = g
        .tensor("k_quant")
        .unwrap()
        .to_gse(GseFormat::INT8)
        .unwrap_err();
    assert!(
        matches!(&err, GgufError::UnsupportedTensorType { tensor, ty: GgmlType::Q6K } if tensor == "k_quant"),
        "{err}"
    );
    assert!(err.to_string().contains("Q6_K"));
    let err = g
        .tensor("nan_scale")
        .unwrap()
        .to_f32_vec()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nan_scale") && err.contains("block 0"),
        "{err}"
    );
    let err = g
        .tensor("inf")
        .unwrap()
        .to_dyadics()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"inf\"") && err.contains("element 1"),
        "{err}"
    );
}

#[test]
fn large_tensors_convert_across_chunks() {
    // 3 chunks and a bit of Q4_1 blocks: group and chunk boundaries must line up.
    let blocks = gsq_models::gguf::CHUNK_VALUES * 3 / 32 + 5;
    let mut data = Vec::new();
    for b in 0..blocks {
        let (d, _) = SCALES[b % SCALES.len()];
        data.extend(q4_1_block(d, 0x3c00, &codes(b as u8, 16)));
    }
    let mut w = GgufWriter::new();
    w.tensor("big", &[32, blocks as u64], GgmlType::Q4_1, data);
    let g = Gguf::from_bytes(w.to_bytes()).unwrap();
    let t = g.tensor("big").unwrap();
    let exact = t.to_dyadics().unwrap();
    assert_eq!(exact.len(), blocks * 32);
    let reference = gse::encode_dyadics(GseFormat::INT8, &exact, gse::Rounding::NearestEven);
    assert_eq!(t.to_gse(GseFormat::INT8).unwrap(), reference);
    let f32s = t.to_f32_vec().unwrap();
    let expect: Vec<f32> = exact
        .iter()
        .map(|&d| f32::from_bits(dyadic_to_f32_bits(d)))
        .collect();
    assert_eq!(f32s, expect);
}
