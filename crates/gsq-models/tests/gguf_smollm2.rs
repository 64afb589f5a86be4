//! The real SmolLM2-135M-Instruct Q4_1 file (fetched by scripts/fetch-assets.sh; these tests fail,
//! never skip, when it is missing). Expected facts are from shared/reference/assets.md.

mod common;

use gse::{Dyadic, GseFormat};
use gsq_models::gguf::{GgmlType, Gguf};

#[test]
fn header_and_model_metadata() {
    let g = common::smollm2();
    assert_eq!(g.version(), 3);
    assert_eq!(g.metadata().len(), 33);
    assert_eq!(g.tensors().len(), 272);
    assert_eq!(g.alignment(), 32);
    assert_eq!(g.str("general.architecture").unwrap(), "llama");
    assert_eq!(g.str("general.license").unwrap(), "apache-2.0");
    for (key, value) in [
        ("llama.block_count", 30),
        ("llama.embedding_length", 576),
        ("llama.feed_forward_length", 1536),
        ("llama.attention.head_count", 9),
        ("llama.attention.head_count_kv", 3),
        ("llama.rope.dimension_count", 64),
        ("llama.context_length", 8192),
        ("llama.vocab_size", 49152),
        ("tokenizer.ggml.bos_token_id", 1),
        ("tokenizer.ggml.eos_token_id", 2),
    ] {
        assert_eq!(g.u32(key).unwrap(), value, "{key}");
    }
    assert!(
        g.dyadic("llama.rope.freq_base")
            .unwrap()
            .cmp_value(Dyadic::from_int(100_000))
            .is_eq()
    );
    assert_eq!(
        g.f32_bits("llama.attention.layer_norm_rms_epsilon")
            .unwrap(),
        1e-5f32.to_bits()
    );
    assert_eq!(g.str("tokenizer.ggml.pre").unwrap(), "smollm");
    assert!(!g.bool("tokenizer.ggml.add_bos_token").unwrap());
}

#[test]
fn tensor_directory_matches_the_architecture() {
    let g = common::smollm2();
    let count = |ty| g.tensors().iter().filter(|t| t.ty == ty).count();
    assert_eq!(count(GgmlType::Q4_1), 210, "7 linear weights x 30 blocks");
    assert_eq!(
        count(GgmlType::F32),
        61,
        "2 norms x 30 blocks + output_norm"
    );
    assert_eq!(count(GgmlType::Q8_0), 1);
    let params: u64 = g.tensors().iter().map(|t| t.element_count).sum();
    assert_eq!(params, 134_515_008);
    assert!(
        g.tensor_info("output.weight").is_none(),
        "embeddings are tied"
    );

    let shape = |name: &str| g.tensor(name).unwrap().shape();
    assert_eq!(shape("token_embd.weight"), [49152, 576]);
    assert_eq!(g.tensor("token_embd.weight").unwrap().ty(), GgmlType::Q8_0);
    assert_eq!(shape("blk.0.attn_q.weight"), [576, 576]);
    assert_eq!(shape("blk.0.attn_k.weight"), [192, 576], "3 kv heads of 64");
    assert_eq!(shape("blk.0.attn_v.weight"), [192, 576]);
    assert_eq!(shape("blk.29.ffn_gate.weight"), [1536, 576]);
    assert_eq!(shape("blk.29.ffn_down.weight"), [576, 1536]);
    assert_eq!(shape("output_norm.weight"), [576]);
    assert_eq!(
        g.tensor_info("blk.0.attn_q.weight").unwrap().dims,
        [576, 576]
    );
    assert_eq!(
        g.tensor_info("blk.0.attn_k.weight").unwrap().dims,
        [576, 192],
        "ggml order"
    );
}

/// ggml's own dequantization, written here with f32 arithmetic from the raw bytes: the
/// independent reference for `to_f32_vec`.
fn reference_q4_1(data: &[u8]) -> Vec<f32> {
    fn half(lo: u8, hi: u8) -> f32 {
        let bits = u16::from_le_bytes([lo, hi]);
        let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
        let exp = i32::from((bits >> 10) & 0x1f);
        let frac = f32::from(bits & 0x3ff);
        assert_ne!(exp, 0x1f, "no NaN or infinite scale in the model");
        if exp == 0 {
            sign * frac * 2f32.powi(-24)
        } else {
            sign * (1024.0 + frac) * 2f32.powi(exp - 25)
        }
    }
    let mut out = Vec::new();
    for block in data.chunks_exact(20) {
        let (d, m) = (half(block[0], block[1]), half(block[2], block[3]));
        let codes = &block[4..];
        out.extend(codes.iter().map(|&b| f32::from(b & 0x0f) * d + m));
        out.extend(codes.iter().map(|&b| f32::from(b >> 4) * d + m));
    }
    out
}

#[test]
fn q4_1_weights_decode_like_ggml() {
    let g = common::smollm2();
    let t = g.tensor("blk.3.ffn_down.weight").unwrap();
    assert_eq!(t.ty(), GgmlType::Q4_1);
    assert_eq!(t.to_f32_vec().unwrap(), reference_q4_1(t.data));
}

#[test]
fn q4_1_in_gse_int8_is_within_half_a_quantum_per_block() {
    let g = common::smollm2();
    let t = g.tensor("blk.7.attn_q.weight").unwrap();
    let exact = t.to_dyadics().unwrap();
    let gse = t.to_gse(GseFormat::INT8).unwrap();
    assert_eq!(gse.len(), 576 * 576);
    assert_eq!(
        gse.group_count(),
        576 * 576 / 32,
        "one GSE group per Q4_1 block"
    );
    let mut worst_relative = 0f64;
    for (group, values) in exact.chunks(32).enumerate() {
        // The stated bound: |gse - exact| <= half the group's quantum 2^(scale - 7).
        let half_quantum = Dyadic::new(1, gse.scale(group) - 8);
        let mut max_abs = 0f64;
        let mut max_err = 0f64;
        for (k, &x) in values.iter().enumerate() {
            let err = gse.get(group * 32 + k).sub(x).abs();
            assert!(
                err.cmp_value(half_quantum).is_le(),
                "group {group} element {k}"
            );
            max_err = max_err.max(as_f64(err));
            max_abs = max_abs.max(as_f64(x.abs()));
        }
        if max_abs > 0.0 {
            worst_relative = worst_relative.max(max_err / max_abs);
        }
    }
    // Relative to the block's largest magnitude that is at most 2^-7 (2^-6 after a carry).
    assert!(worst_relative <= 1.0 / 64.0, "{worst_relative}");
    eprintln!("Q4_1 -> GSE-INT8: worst error / block max = {worst_relative:.5}");
}

#[test]
fn q8_0_embedding_rows_and_f32_norms() {
    let g = common::smollm2();
    let embd = g.tensor("token_embd.weight").unwrap();
    let row = 576 * 34 / 32; // bytes of one row of 576 values
    // Row 1 (<|im_start|>) via the raw bytes: d * q.
    let raw = &embd.data[row..2 * row];
    let expected: Vec<f32> = raw
        .chunks_exact(34)
        .flat_map(|b| {
            let d = f32::from_bits(gse::f32_bits::dyadic_to_f32_bits(
                gsq_models::gguf::f16::f16_bits_to_dyadic(u16::from_le_bytes([b[0], b[1]]))
                    .unwrap(),
            ));
            b[2..].iter().map(move |&q| d * f32::from(q as i8))
        })
        .collect();
    let all = embd.to_f32_vec().unwrap();
    assert_eq!(all.len(), 49152 * 576);
    assert_eq!(&all[576..1152], expected.as_slice());

    let norm = g.tensor("output_norm.weight").unwrap();
    let f32s = norm.to_f32_vec().unwrap();
    let raw: Vec<f32> = norm
        .data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(f32s, raw);
    let exact = norm.to_gse(GseFormat::EXACT).unwrap();
    assert_eq!(
        gse::decode_f32(&exact),
        raw,
        "EXACT keeps the norms bit for bit"
    );
}

fn as_f64(d: Dyadic) -> f64 {
    d.mant as f64 * 2f64.powi(d.exp)
}

/// Every tensor of the model converts; GSE-INT8 for the matrices, EXACT for the norms.
#[test]
fn every_tensor_converts() {
    let g: &Gguf = common::smollm2();
    let start = std::time::Instant::now();
    let mut values = 0;
    for info in g.tensors() {
        let format = if info.ty == GgmlType::F32 {
            GseFormat::EXACT
        } else {
            GseFormat::INT8
        };
        let blocks = g.tensor(&info.name).unwrap().to_gse(format).unwrap();
        assert_eq!(blocks.len(), info.len(), "{}", info.name);
        values += blocks.len();
    }
    assert_eq!(values, 134_515_008);
    eprintln!("converted the whole model to GSE in {:?}", start.elapsed());
}
