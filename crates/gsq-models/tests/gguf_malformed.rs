//! Malformed GGUF files: every one is a clear error, never a panic or a huge allocation.

use gsq_models::gguf::{Array, GgmlType, Gguf, GgufError, Value, ValueType};
use gsq_models::writer::{GgufWriter, q4_1_block};

/// Offsets of the fixed header fields.
const TENSOR_COUNT_AT: usize = 8;
const KV_COUNT_AT: usize = 16;
const FIRST_KEY_AT: usize = 24;

fn parse(bytes: Vec<u8>) -> Result<Gguf, GgufError> {
    Gguf::from_bytes(bytes)
}

fn patch_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn patch_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// A small file with a few metadata types (strings, arrays, nesting) and two tensors.
fn small_file() -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.metadata("name", Value::String("tiny".into()));
    w.metadata("n", Value::U32(7));
    w.metadata("f", Value::F64(2.5f64.to_bits()));
    w.metadata(
        "list",
        Value::Array(Array {
            elem_type: ValueType::String,
            items: vec![Value::String("x".into()), Value::String("yz".into())],
        }),
    );
    w.metadata(
        "nested",
        Value::Array(Array {
            elem_type: ValueType::Array,
            items: vec![Value::Array(Array {
                elem_type: ValueType::Bool,
                items: vec![Value::Bool(true)],
            })],
        }),
    );
    w.f32_tensor("norm", &[4], &[1.0, 2.0, 3.0, 4.0]);
    w.tensor(
        "w",
        &[32, 1],
        GgmlType::Q4_1,
        q4_1_block(0x3c00, 0x0000, &[3; 32]),
    );
    w.to_bytes()
}

#[test]
fn the_small_file_is_valid() {
    let g = parse(small_file()).unwrap();
    assert_eq!(g.tensors().len(), 2);
    assert_eq!(g.tensor("w").unwrap().to_f32_vec().unwrap(), vec![3.0; 32]);
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    let bytes = small_file();
    for n in 0..bytes.len() {
        match parse(bytes[..n].to_vec()) {
            Ok(_) => panic!("a file cut to {n} of {} bytes parsed", bytes.len()),
            Err(
                GgufError::Truncated { .. }
                | GgufError::CountBeyondFile { .. }
                | GgufError::TensorOutOfBounds { .. },
            ) => {}
            Err(other) => panic!("cut to {n} bytes: unexpected error kind: {other}"),
        }
    }
}

#[test]
fn bad_magic_and_versions() {
    let mut bytes = small_file();
    bytes[..4].copy_from_slice(b"GGML");
    let err = parse(bytes).unwrap_err();
    assert!(matches!(err, GgufError::BadMagic { .. }), "{err}");
    assert!(err.to_string().contains("GGUF"));
    for version in [0, 1, 4, 0x0300_0000] {
        let mut bytes = small_file();
        patch_u32(&mut bytes, 4, version);
        let err = parse(bytes).unwrap_err();
        assert!(
            matches!(err, GgufError::UnsupportedVersion { version: v } if v == version),
            "{err}"
        );
        if version == 0x0300_0000 {
            assert!(err.to_string().contains("big-endian"), "{err}");
        }
    }
}

#[test]
fn huge_counts_and_lengths_are_refused_before_allocating() {
    for (at, what) in [
        (KV_COUNT_AT, "metadata count"),
        (TENSOR_COUNT_AT, "tensor count"),
        (FIRST_KEY_AT, "length of metadata key #0"),
    ] {
        for huge in [u64::MAX, 1 << 40, 100_000] {
            let mut bytes = small_file();
            patch_u64(&mut bytes, at, huge);
            let err = parse(bytes).unwrap_err();
            assert!(
                matches!(err, GgufError::CountBeyondFile { .. }),
                "{what}: {err}"
            );
            assert!(err.to_string().contains(what), "{what}: {err}");
        }
    }
    // An array count: key "a" (8 + 1 bytes), value type (4), element type (4), then the count.
    let mut w = GgufWriter::new();
    w.metadata(
        "a",
        Value::Array(Array {
            elem_type: ValueType::U64,
            items: vec![Value::U64(1); 3],
        }),
    );
    let mut bytes = w.to_bytes();
    patch_u64(&mut bytes, FIRST_KEY_AT + 9 + 8, 1 << 60);
    let err = parse(bytes).unwrap_err();
    assert!(matches!(err, GgufError::CountBeyondFile { .. }), "{err}");
    assert!(err.to_string().contains("\"a\""), "{err}");
}

/// A one-key file with `value`, and the offset of the value's type tag.
fn one_key(value: Value) -> (Vec<u8>, usize) {
    let mut w = GgufWriter::new();
    w.metadata("key", value);
    (w.to_bytes(), FIRST_KEY_AT + 8 + 3)
}

#[test]
fn unknown_types_bad_bools_and_bad_utf8_name_the_key() {
    let (mut bytes, type_at) = one_key(Value::U8(1));
    patch_u32(&mut bytes, type_at, 13);
    let err = parse(bytes).unwrap_err().to_string();
    assert!(err.contains("\"key\"") && err.contains("13"), "{err}");

    let (mut bytes, type_at) = one_key(Value::Array(Array {
        elem_type: ValueType::U8,
        items: vec![],
    }));
    patch_u32(&mut bytes, type_at + 4, 77);
    let err = parse(bytes).unwrap_err().to_string();
    assert!(
        err.contains("array element of metadata key \"key\"") && err.contains("77"),
        "{err}"
    );

    let (mut bytes, type_at) = one_key(Value::Bool(true));
    bytes[type_at + 4] = 2;
    let err = parse(bytes).unwrap_err();
    assert!(
        matches!(err, GgufError::InvalidBool { byte: 2, .. }),
        "{err}"
    );

    let (mut bytes, type_at) = one_key(Value::String("ab".into()));
    bytes[type_at + 4 + 8] = 0xff;
    let err = parse(bytes).unwrap_err().to_string();
    assert!(err.contains("\"key\"") && err.contains("UTF-8"), "{err}");

    let (mut bytes, _) = one_key(Value::U8(1));
    bytes[FIRST_KEY_AT + 8] = 0xc3; // a lone UTF-8 lead byte in the key
    let err = parse(bytes).unwrap_err().to_string();
    assert!(
        err.contains("metadata key #0") && err.contains("UTF-8"),
        "{err}"
    );
}

#[test]
fn deep_nesting_is_refused() {
    let mut value = Value::U8(0);
    for _ in 0..40 {
        let elem_type = value.value_type();
        value = Value::Array(Array {
            elem_type,
            items: vec![value],
        });
    }
    let (bytes, _) = one_key(value);
    let err = parse(bytes).unwrap_err();
    assert!(matches!(err, GgufError::NestingTooDeep { .. }), "{err}");
}

#[test]
fn duplicates_and_bad_alignment() {
    let mut w = GgufWriter::new();
    w.metadata("k", Value::U8(1)).metadata("k", Value::U8(2));
    assert!(matches!(parse(w.to_bytes()), Err(GgufError::DuplicateKey { key }) if key == "k"));

    let mut w = GgufWriter::new();
    w.f32_tensor("t", &[1], &[1.0])
        .f32_tensor("t", &[1], &[2.0]);
    assert!(matches!(parse(w.to_bytes()), Err(GgufError::DuplicateTensor { name }) if name == "t"));

    let mut w = GgufWriter::new();
    w.metadata("general.alignment", Value::U32(48));
    assert!(matches!(
        parse(w.to_bytes()),
        Err(GgufError::BadAlignment { value: 48 })
    ));

    let mut w = GgufWriter::new();
    w.metadata("general.alignment", Value::U64(32));
    let err = parse(w.to_bytes()).unwrap_err().to_string();
    assert!(
        err.contains("general.alignment") && err.contains("u32"),
        "{err}"
    );
}

/// A file with one tensor `name` and the offsets of its type tag and data offset.
fn one_tensor(dims: &[u64], ty: GgmlType, data: Vec<u8>) -> (Vec<u8>, usize, usize) {
    let mut w = GgufWriter::new();
    w.tensor("t", dims, ty, data);
    let type_at = FIRST_KEY_AT + 8 + 1 + 4 + 8 * dims.len();
    (w.to_bytes(), type_at, type_at + 4)
}

#[test]
fn tensor_info_errors_name_the_tensor() {
    let (mut bytes, type_at, _) = one_tensor(&[4], GgmlType::F32, vec![0; 16]);
    patch_u32(&mut bytes, type_at, 4); // Q4_2, retired
    let err = parse(bytes).unwrap_err();
    assert!(
        matches!(&err, GgufError::UnknownTensorType { tensor, type_id: 4 } if tensor == "t"),
        "{err}"
    );

    let (mut bytes, _, offset_at) = one_tensor(&[4], GgmlType::F32, vec![0; 16]);
    patch_u64(&mut bytes, offset_at, 8);
    let err = parse(bytes).unwrap_err();
    assert!(
        matches!(err, GgufError::MisalignedTensor { offset: 8, .. }),
        "{err}"
    );

    let (mut bytes, _, offset_at) = one_tensor(&[4], GgmlType::F32, vec![0; 16]);
    patch_u64(&mut bytes, offset_at, 1 << 20);
    let err = parse(bytes).unwrap_err();
    assert!(
        matches!(&err, GgufError::TensorOutOfBounds { tensor, .. } if tensor == "t"),
        "{err}"
    );

    let (mut bytes, _, offset_at) = one_tensor(&[4], GgmlType::F32, vec![0; 16]);
    patch_u64(&mut bytes, offset_at, u64::MAX - 31);
    let err = parse(bytes).unwrap_err();
    assert!(matches!(err, GgufError::TensorOutOfBounds { .. }), "{err}");

    let (bytes, _, _) = one_tensor(&[1, 1, 1, 1, 1], GgmlType::F32, vec![0; 4]);
    let err = parse(bytes).unwrap_err();
    assert!(
        matches!(err, GgufError::TooManyDims { n_dims: 5, .. }),
        "{err}"
    );

    let (bytes, _, _) = one_tensor(&[16], GgmlType::Q4_1, vec![0; 20]);
    let err = parse(bytes).unwrap_err().to_string();
    assert!(
        err.contains("\"t\"") && err.contains("block length 32"),
        "{err}"
    );

    let (bytes, _, _) = one_tensor(&[1 << 40, 1 << 40], GgmlType::F32, vec![]);
    let err = parse(bytes).unwrap_err();
    assert!(matches!(err, GgufError::BadShape { .. }), "{err}");
}

#[test]
fn missing_files_are_io_errors_naming_the_path() {
    let err = Gguf::open("/nonexistent/model.gguf")
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/model.gguf"), "{err}");
}

/// Every byte of the header, metadata and tensor infos overwritten with a few values: the parse
/// may succeed or fail, and a successful one must convert or refuse each tensor, never panic.
#[test]
fn corrupting_any_header_byte_never_panics() {
    let bytes = small_file();
    let data_start = parse(bytes.clone()).unwrap().data_offset();
    for at in 0..data_start {
        for v in [0x00, 0xff, 0x7f, 0x80, bytes[at] ^ 1] {
            let mut corrupt = bytes.clone();
            corrupt[at] = v;
            if let Ok(g) = parse(corrupt) {
                for info in g.tensors() {
                    let t = g.tensor(&info.name).unwrap();
                    let _ = t.to_f32_vec();
                    let _ = t.to_gse(gse::GseFormat::INT8);
                }
            }
        }
    }
}
