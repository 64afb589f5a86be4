//! The Llama model on a tiny random config: shapes, causality, RoPE, grouped-query attention,
//! LoRA targets, loading errors on GGUF files that do not fit, and a short LoRA fine-tune on
//! `Autodiff<Gsq>` that lowers held-out loss.

use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use burn_gsq::{Gsq, GsqDevice};
use gsq_lora::LoraConfig;
use gsq_models::gguf::{GgmlType, Gguf, Value};
use gsq_models::llama::{
    LlamaConfig, LlamaError, LlamaModel, LoadOptions, Rope, load_llama, repeat_kv,
};
use gsq_models::writer::GgufWriter;

type Nd = NdArray;

fn ids<B: Backend>(rows: &[Vec<u32>], device: &B::Device) -> Tensor<B, 2, Int> {
    let t = rows[0].len();
    let v: Vec<i64> = rows.iter().flatten().map(|&x| i64::from(x)).collect();
    Tensor::from_data(TensorData::new(v, [rows.len(), t]), device)
}

fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().into_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

fn tiny<B: Backend>(device: &B::Device) -> (LlamaConfig, LlamaModel<B>) {
    let config = LlamaConfig::tiny(50);
    B::seed(device, 7);
    let model = LlamaModel::random(&config, device).unwrap();
    (config, model)
}

fn causal_check<B: Backend>(device: &B::Device, tol: f32) {
    let (config, model) = tiny::<B>(device);
    let a = vec![3, 14, 15, 9, 26, 5, 35, 8];
    let mut b = a.clone();
    b[5] = 40;
    b[7] = 1;
    let out = model.forward(ids::<B>(&[a, b], device));
    assert_eq!(out.dims(), [2, 8, config.vocab_size]);
    let v = to_vec(out);
    let row = 8 * config.vocab_size;
    let prefix = 5 * config.vocab_size;
    // Positions 0..5 see the same tokens in both rows: the same logits (up to `tol` times the
    // largest logit).
    let scale = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let past = max_diff(&v[..prefix], &v[row..row + prefix]);
    assert!(
        past <= tol * scale,
        "past logits moved by {past} (largest logit {scale})"
    );
    // Position 5 differs.
    assert!(max_diff(&v[prefix..row], &v[row + prefix..]) > 1e-3);
}

#[test]
fn shapes_and_causal_mask_on_ndarray() {
    causal_check::<Nd>(&Default::default(), 1e-6);
}

#[test]
fn shapes_and_causal_mask_on_gsq() {
    // On Gsq the matmul `probs · V` quantizes V to INT8 in groups of 32 along the sequence axis,
    // so a future token's value can change the shared scale of a past token's group: the past
    // logits move by quantization noise only, not by information from the future.
    causal_check::<Gsq>(&GsqDevice::default(), 0.02);
}

#[test]
fn rope_preserves_norms_and_depends_on_relative_position_only() {
    let device = Default::default();
    let (d, n) = (8, 16);
    let rope = Rope::<Nd>::new(d, n, 10_000.0, &device);
    let q = Tensor::<Nd, 4>::random(
        [1, 1, 1, d],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let k = Tensor::<Nd, 4>::random(
        [1, 1, 1, d],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    // Position 0 is the identity.
    assert!(max_diff(&to_vec(rope.apply(q.clone(), 0)), &to_vec(q.clone())) < 1e-6);
    // A rotation: the norm is kept.
    let norm = |t: Tensor<Nd, 4>| to_vec(t.powi_scalar(2).sum())[0];
    assert!((norm(rope.apply(q.clone(), 5)) - norm(q.clone())).abs() < 1e-4);
    // <rope(q, m), rope(k, n)> depends on m - n only.
    let dot = |m: usize, nn: usize| {
        to_vec((rope.apply(q.clone(), m) * rope.apply(k.clone(), nn)).sum())[0]
    };
    assert!((dot(7, 3) - dot(10, 6)).abs() < 1e-4);
    assert!((dot(7, 3) - dot(3, 7)).abs() > 1e-4);
    // Adjacent pairs: pair 0 (elements 0, 1) rotates by p radians at position p.
    let e0 = Tensor::<Nd, 4>::from_data(
        TensorData::new([vec![1.0f32], vec![0.0; d - 1]].concat(), [1, 1, 1, d]),
        &device,
    );
    let r = to_vec(rope.apply(e0, 1));
    assert!(
        (r[0] - 1f32.cos()).abs() < 1e-5 && (r[1] - 1f32.sin()).abs() < 1e-5,
        "{r:?}"
    );
    assert!(r[2..].iter().all(|x| x.abs() < 1e-6));
}

#[test]
fn grouped_query_heads_share_their_kv_head() {
    let device = Default::default();
    let x = Tensor::<Nd, 4>::from_data(
        TensorData::new(
            (0..2 * 3 * 4).map(|v| v as f32).collect::<Vec<_>>(),
            [1, 2, 3, 4],
        ),
        &device,
    );
    let r = to_vec(repeat_kv(x, 3));
    assert_eq!(r.len(), 6 * 12);
    for j in 0..6 {
        let kv = j / 3;
        assert_eq!(
            &r[j * 12..(j + 1) * 12],
            &(kv * 12..(kv + 1) * 12)
                .map(|v| v as f32)
                .collect::<Vec<_>>()[..]
        );
    }
}

#[test]
fn lora_attaches_to_named_targets_only() {
    let device = Default::default();
    let (config, model) = tiny::<Nd>(&device);
    let lora = LoraConfig::new()
        .with_rank(2)
        .with_target_modules(vec!["k_proj".into(), "down_proj".into()]);
    let model = model.with_lora(&lora, &device).unwrap();
    let names: Vec<String> = model.lora_layers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 2 * config.num_layers);
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".self_attn.k_proj") || n.ends_with(".mlp.down_proj"))
    );
    let bad = LoraConfig::new().with_target_modules(vec!["qkv".into()]);
    let (_, model) = tiny::<Nd>(&device);
    assert!(matches!(
        model.with_lora(&bad, &device),
        Err(LlamaError::BadConfig { .. })
    ));
}

/// A GGUF file holding a tiny Llama in f32, with `edit` applied to the writer first.
fn tiny_gguf(skip: Option<&str>, wrong_shape: Option<&str>) -> Gguf {
    let c = LlamaConfig::tiny(64);
    let mut w = GgufWriter::new();
    w.metadata("general.architecture", Value::String("llama".into()));
    for (k, v) in [
        ("block_count", c.num_layers),
        ("embedding_length", c.hidden_size),
        ("feed_forward_length", c.intermediate_size),
        ("attention.head_count", c.num_heads),
        ("attention.head_count_kv", c.num_kv_heads),
        ("vocab_size", c.vocab_size),
    ] {
        w.metadata(&format!("llama.{k}"), Value::U32(v as u32));
    }
    w.metadata(
        "llama.attention.layer_norm_rms_epsilon",
        Value::F32(1e-5f32.to_bits()),
    );
    w.metadata("llama.rope.freq_base", Value::F32(10_000f32.to_bits()));
    let (h, kv, f) = (
        c.hidden_size as u64,
        c.kv_dim() as u64,
        c.intermediate_size as u64,
    );
    let mut tensors: Vec<(String, Vec<u64>)> = vec![
        ("token_embd.weight".into(), vec![h, c.vocab_size as u64]),
        ("output_norm.weight".into(), vec![h]),
    ];
    for i in 0..c.num_layers {
        for (n, dims) in [
            ("attn_norm", vec![h]),
            ("ffn_norm", vec![h]),
            ("attn_q", vec![h, h]),
            ("attn_k", vec![h, kv]),
            ("attn_v", vec![h, kv]),
            ("attn_output", vec![h, h]),
            ("ffn_gate", vec![h, f]),
            ("ffn_up", vec![h, f]),
            ("ffn_down", vec![f, h]),
        ] {
            tensors.push((format!("blk.{i}.{n}.weight"), dims));
        }
    }
    for (name, mut dims) in tensors {
        if skip == Some(name.as_str()) {
            continue;
        }
        if wrong_shape == Some(name.as_str()) {
            dims[0] += 32;
        }
        let n: u64 = dims.iter().product();
        let values: Vec<f32> = (0..n).map(|i| ((i % 7) as f32 - 3.0) / 16.0).collect();
        w.f32_tensor(&name, &dims, &values);
    }
    let _ = GgmlType::F32;
    Gguf::from_bytes(w.to_bytes()).unwrap()
}

#[test]
fn loads_a_fitting_gguf_on_gsq_and_ndarray() {
    let g = tiny_gguf(None, None);
    let opts = LoadOptions {
        max_seq_len: 16,
        ..LoadOptions::default()
    };
    let (config, m) = load_llama::<Nd>(&g, &opts, &Default::default()).unwrap();
    assert_eq!(config.vocab_size, 64);
    let (_, mg) = load_llama::<Gsq>(&g, &opts, &GsqDevice::default()).unwrap();
    let x = [vec![1, 2, 3, 4]];
    let a = to_vec(m.forward(ids::<Nd>(&x, &Default::default())));
    let b = to_vec(mg.forward(ids::<Gsq>(&x, &GsqDevice::default())));
    assert!(max_diff(&a, &b) < 0.05 * a.iter().fold(0f32, |m, v| m.max(v.abs())) + 1e-3);
}

#[test]
fn a_gguf_that_does_not_fit_names_the_key_or_tensor() {
    let opts = LoadOptions {
        max_seq_len: 16,
        ..LoadOptions::default()
    };
    let err = |g: Gguf| {
        load_llama::<Nd>(&g, &opts, &Default::default())
            .unwrap_err()
            .to_string()
    };
    let e = err(tiny_gguf(Some("blk.1.ffn_up.weight"), None));
    assert!(e.contains("blk.1.ffn_up.weight"), "{e}");
    let e = err(tiny_gguf(None, Some("blk.0.attn_k.weight")));
    assert!(
        e.contains("blk.0.attn_k.weight") && e.contains("shape"),
        "{e}"
    );
    // A missing metadata key.
    let mut w = GgufWriter::new();
    w.metadata("general.architecture", Value::String("llama".into()));
    let e = err(Gguf::from_bytes(w.to_bytes()).unwrap());
    assert!(e.contains("llama.embedding_length"), "{e}");
    // Another architecture.
    let mut w = GgufWriter::new();
    w.metadata("general.architecture", Value::String("gpt2".into()));
    let e = err(Gguf::from_bytes(w.to_bytes()).unwrap());
    assert!(e.contains("general.architecture"), "{e}");
}

/// A 12-step LoRA fine-tune of the tiny model on `Autodiff<Gsq>`, seeded: held-out loss before
/// and after, and the bits of every training loss.
fn short_lora_finetune() -> (f32, f32, Vec<u32>) {
    type B = Autodiff<Gsq>;
    let device = GsqDevice::default();
    let (config, model) = tiny::<B>(&device);
    let lora = LoraConfig::new()
        .with_rank(4)
        .with_alpha(8.0)
        .with_target_modules(
            [
                "q_proj",
                "k_proj",
                "v_proj",
                "o_proj",
                "gate_proj",
                "up_proj",
                "down_proj",
            ]
            .map(String::from)
            .to_vec(),
        );
    let mut model = model.with_lora(&lora, &device).unwrap();
    // A periodic sequence: the next token is determined by the current one.
    let seq = |start: u32| -> Vec<u32> {
        (0..17)
            .map(|i| (start + 7 * i) % config.vocab_size as u32)
            .collect()
    };
    let train = ids::<B>(&[seq(0), seq(3), seq(11), seq(20)], &device);
    let held = ids::<Gsq>(&[seq(5), seq(30)], &device);
    let held_loss = |m: &LlamaModel<B>| to_vec(m.valid().loss(held.clone()))[0];
    let before = held_loss(&model);
    let mut optim = AdamWConfig::new().with_weight_decay(0.0).init();
    let mut losses = Vec::new();
    for _ in 0..12 {
        let loss = model.loss(train.clone());
        losses.push(to_vec(loss.clone().inner())[0].to_bits());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    (before, held_loss(&model), losses)
}

#[test]
fn a_short_lora_finetune_on_autodiff_gsq_lowers_held_out_loss() {
    let (before, after, _) = short_lora_finetune();
    eprintln!("held-out loss {before:.4} -> {after:.4}");
    assert!(after < 0.8 * before, "held-out loss {before} -> {after}");
}

#[test]
fn the_same_seed_gives_a_bit_identical_lora_finetune() {
    let (first, second) = (short_lora_finetune(), short_lora_finetune());
    assert_eq!(
        first.2, second.2,
        "training losses differ between two seeded runs"
    );
    assert_eq!(first.1.to_bits(), second.1.to_bits());
}
