//! PEFT adapter directories: names, keys, layout, exact round trips and malformed input.

mod common;

use burn::module::Param;
use burn::tensor::backend::Backend;
use burn_gsq::GsqDevice;
use common::*;
use gsq_lora::{
    LoraError, LoraLinear, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, PeftLoraConfig, apply_peft,
    llama_module_path, load_peft, peft_files, save_peft,
};
use safetensors::{Dtype, SafeTensors};

/// Two "layers" of q_proj and v_proj, with trained-looking (non-zero) B.
fn layers<B: Backend>(device: &B::Device) -> Vec<(String, LoraLinear<B>)> {
    let mut out = Vec::new();
    for l in 0..2 {
        for (k, (m, d_out)) in [("q_proj", 12), ("v_proj", 4)].into_iter().enumerate() {
            let seed = 10 * l as u64 + k as u64;
            let layer = randomize_b(layer::<B>(12, d_out, &config(), seed, device), seed + 100);
            out.push((llama_module_path(l, m), layer));
        }
    }
    out
}

fn refs<B: Backend>(layers: &[(String, LoraLinear<B>)]) -> Vec<(String, &LoraLinear<B>)> {
    layers.iter().map(|(n, l)| (n.clone(), l)).collect()
}

fn muts<B: Backend>(layers: &mut [(String, LoraLinear<B>)]) -> Vec<(String, &mut LoraLinear<B>)> {
    layers.iter_mut().map(|(n, l)| (n.clone(), l)).collect()
}

/// Fresh layers over the same bases as [`layers`], with a different A and zero B, to load into.
fn fresh<B: Backend>(device: &B::Device) -> Vec<(String, LoraLinear<B>)> {
    let mut out = Vec::new();
    for l in 0..2 {
        for (k, (m, d_out)) in [("q_proj", 12), ("v_proj", 4)].into_iter().enumerate() {
            let seed = 10 * l as u64 + k as u64;
            let mut layer = layer::<B>(12, d_out, &config(), seed, device);
            layer.lora_a = Param::from_tensor(tensor(layer.lora_a_shape(), 777 + seed, device));
            out.push((llama_module_path(l, m), layer));
        }
    }
    out
}

fn round_trip<B: Backend>(device: &B::Device, tag: &str) {
    let src = layers::<B>(device);
    let dir = std::env::temp_dir().join(format!("gsq-lora-peft-{tag}-{}", std::process::id()));
    save_peft(&dir, &config(), "HuggingFaceTB/SmolLM2-135M", &refs(&src)).unwrap();
    let mut dst = fresh::<B>(device);
    assert_ne!(bits(dst[0].1.lora_a.val()), bits(src[0].1.lora_a.val()));
    let cfg = load_peft(&dir, &mut muts(&mut dst)).unwrap();
    assert_eq!((cfg.r, cfg.lora_alpha), (4, 8.0));
    for ((n1, a), (n2, b)) in src.iter().zip(&dst) {
        assert_eq!(n1, n2);
        assert_eq!(bits(a.lora_a.val()), bits(b.lora_a.val()), "{n1} A");
        assert_eq!(bits(a.lora_b.val()), bits(b.lora_b.val()), "{n1} B");
        assert_eq!(b.alpha(), 8.0);
        let x = tensor::<B, 2>([3, 12], 5, device);
        assert_eq!(
            bits(a.forward(x.clone())),
            bits(b.forward(x)),
            "{n1} output"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn round_trip_is_bit_exact_ndarray() {
    round_trip::<Nd>(&Default::default(), "nd");
}

#[test]
fn round_trip_is_bit_exact_gsq() {
    // STREAM16 values are f32-exact and re-encode to the same blocks.
    round_trip::<Gq>(&GsqDevice::default(), "gsq");
}

#[test]
fn round_trip_is_bit_exact_autodiff_gsq_and_keeps_params_trainable() {
    let device = GsqDevice::default();
    let src = layers::<AdGq>(&device);
    let files = peft_files(&config(), "base", &refs(&src)).unwrap();
    let mut dst = fresh::<AdGq>(&device);
    apply_peft(&files.config_json, &files.safetensors, &mut muts(&mut dst)).unwrap();
    for ((_, a), (_, b)) in src.iter().zip(&dst) {
        assert_eq!(bits(a.lora_a.val()), bits(b.lora_a.val()));
        assert_eq!(bits(a.lora_b.val()), bits(b.lora_b.val()));
        assert!(b.lora_a.is_require_grad() && b.lora_b.is_require_grad());
        assert!(!b.weight.is_require_grad());
    }
}

#[test]
fn config_keys_and_tensor_names_are_peft_s() {
    let device = Default::default();
    let src = layers::<Nd>(&device);
    let files = peft_files(&config(), "HuggingFaceTB/SmolLM2-135M", &refs(&src)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&files.config_json).unwrap();
    assert_eq!(json["peft_type"], "LORA");
    assert_eq!(json["task_type"], "CAUSAL_LM");
    assert_eq!(json["r"], 4);
    assert_eq!(json["lora_alpha"].as_f64(), Some(8.0));
    assert_eq!(json["lora_dropout"].as_f64(), Some(0.0));
    assert_eq!(
        json["target_modules"],
        serde_json::json!(["q_proj", "v_proj"])
    );
    assert_eq!(json["bias"], "none");
    assert_eq!(
        json["base_model_name_or_path"],
        "HuggingFaceTB/SmolLM2-135M"
    );
    assert_eq!(json["fan_in_fan_out"], false);
    assert_eq!(json["inference_mode"], true);
    assert_eq!(json["use_rslora"], false);
    assert_eq!(json["use_dora"], false);

    let st = SafeTensors::deserialize(&files.safetensors).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        [
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
            "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
            "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight",
            "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight",
            "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight",
        ]
    );
    // PyTorch layout: lora_A.weight = A^T [r, d_in], lora_B.weight = B^T [d_out, r].
    let (_, v) = &src[1];
    let a = st
        .tensor("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight")
        .unwrap();
    let b = st
        .tensor("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight")
        .unwrap();
    assert_eq!((a.dtype(), a.shape()), (Dtype::F32, &[4, 12][..]));
    assert_eq!((b.dtype(), b.shape()), (Dtype::F32, &[4, 4][..]));
    let f = |d: &[u8]| -> Vec<f32> {
        d.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let (a_file, b_file) = (f(a.data()), f(b.data()));
    let (a_burn, b_burn) = (to_vec(v.lora_a.val()), to_vec(v.lora_b.val()));
    for i in 0..12 {
        for r in 0..4 {
            assert_eq!(a_file[r * 12 + i].to_bits(), a_burn[i * 4 + r].to_bits());
        }
    }
    for o in 0..4 {
        for r in 0..4 {
            assert_eq!(b_file[o * 4 + r].to_bits(), b_burn[r * 4 + o].to_bits());
        }
    }
    assert_eq!(
        llama_module_path(3, "down_proj"),
        "base_model.model.model.layers.3.mlp.down_proj"
    );
}

#[test]
fn missing_extra_misshaped_and_duplicate_names_are_errors() {
    let device = Default::default();
    let src = layers::<Nd>(&device);
    let files = peft_files(&config(), "base", &refs(&src)).unwrap();

    // A layer the file lacks.
    let mut dst = fresh::<Nd>(&device);
    dst.push((
        "base_model.model.model.layers.9.self_attn.q_proj".into(),
        layer::<Nd>(12, 12, &config(), 1, &device),
    ));
    let err = apply_peft(&files.config_json, &files.safetensors, &mut muts(&mut dst)).unwrap_err();
    assert!(
        matches!(err, LoraError::MissingTensor(ref n) if n.contains("layers.9")),
        "{err}"
    );

    // A file tensor no layer expects.
    let mut dst = fresh::<Nd>(&device);
    dst.pop();
    let before = bits(dst[0].1.lora_a.val());
    let err = apply_peft(&files.config_json, &files.safetensors, &mut muts(&mut dst)).unwrap_err();
    assert!(
        matches!(err, LoraError::UnexpectedTensor(ref n) if n.contains("layers.1.self_attn.v_proj")),
        "{err}"
    );
    assert_eq!(
        bits(dst[0].1.lora_a.val()),
        before,
        "a failed load changed a layer"
    );

    // Wrong shapes.
    let mut dst = fresh::<Nd>(&device);
    dst[1].1 = layer::<Nd>(12, 5, &config(), 3, &device);
    let err = apply_peft(&files.config_json, &files.safetensors, &mut muts(&mut dst)).unwrap_err();
    assert!(
        matches!(err, LoraError::ShapeMismatch { ref found, .. } if found == &[4, 4]),
        "{err}"
    );

    // Wrong rank.
    let mut dst = fresh::<Nd>(&device);
    dst[0].1 = layer::<Nd>(12, 12, &config().with_rank(2), 3, &device);
    let err = apply_peft(&files.config_json, &files.safetensors, &mut muts(&mut dst)).unwrap_err();
    assert!(matches!(err, LoraError::Layer { .. }), "{err}");

    // Same path twice.
    let mut dst = fresh::<Nd>(&device);
    dst[1].0 = dst[0].0.clone();
    let err = apply_peft(&files.config_json, &files.safetensors, &mut muts(&mut dst)).unwrap_err();
    assert!(matches!(err, LoraError::DuplicateName(_)), "{err}");

    // Merged layer.
    let mut dst = fresh::<Nd>(&device);
    dst[0].1 = dst[0].1.clone().merge();
    let err = apply_peft(&files.config_json, &files.safetensors, &mut muts(&mut dst)).unwrap_err();
    assert!(matches!(err, LoraError::Layer { .. }), "{err}");

    // Saving layers whose rank differs from the config's.
    let err = peft_files(&config().with_rank(8), "base", &refs(&src)).unwrap_err();
    assert!(matches!(err, LoraError::Layer { .. }), "{err}");
}

#[test]
fn truncated_or_corrupt_safetensors_are_errors_not_panics() {
    let device = Default::default();
    let src = layers::<Nd>(&device);
    let files = peft_files(&config(), "base", &refs(&src)).unwrap();
    let bytes = &files.safetensors;
    for cut in 0..bytes.len() {
        let mut dst = fresh::<Nd>(&device);
        let r = apply_peft(&files.config_json, &bytes[..cut], &mut muts(&mut dst));
        assert!(r.is_err(), "truncated at {cut} was accepted");
    }
    // Flipping a byte of the header is an error or (in a data byte) a different value; never
    // a panic.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    for i in 0..8 + header_len {
        let mut b = bytes.clone();
        b[i] ^= 0xff;
        let mut dst = fresh::<Nd>(&device);
        let _ = apply_peft(&files.config_json, &b, &mut muts(&mut dst));
    }
}

#[test]
fn bad_or_unsupported_configs_are_errors() {
    let device = Default::default();
    let src = layers::<Nd>(&device);
    let files = peft_files(&config(), "base", &refs(&src)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&files.config_json).unwrap();
    let load = |json: &str| {
        let mut dst = fresh::<Nd>(&device);
        apply_peft(json, &files.safetensors, &mut muts(&mut dst))
    };
    assert!(matches!(load("{"), Err(LoraError::Json(_))));
    assert!(matches!(load("{}"), Err(LoraError::Json(_))));
    for i in 0..files.config_json.len() {
        assert!(load(&files.config_json[..i]).is_err());
    }
    let with = |key: &str, value: serde_json::Value| {
        let mut j = json.clone();
        j[key] = value;
        j.to_string()
    };
    for (key, value) in [
        ("peft_type", serde_json::json!("IA3")),
        ("bias", serde_json::json!("all")),
        ("use_rslora", serde_json::json!(true)),
        ("use_dora", serde_json::json!(true)),
        ("rank_pattern", serde_json::json!({"q_proj": 8})),
        ("modules_to_save", serde_json::json!(["lm_head"])),
    ] {
        let err = load(&with(key, value)).unwrap_err();
        assert!(matches!(err, LoraError::UnsupportedPeft(_)), "{key}: {err}");
    }
    let err = load(&with("r", serde_json::json!(0))).unwrap_err();
    assert!(matches!(err, LoraError::InvalidConfig(_)), "{err}");
    let err = load(&with("r", serde_json::json!(-1))).unwrap_err();
    assert!(matches!(err, LoraError::Json(_)), "{err}");
    // PEFT writes integers for lora_alpha, a pattern for target_modules, and extra keys.
    let mut j = json.clone();
    j["lora_alpha"] = serde_json::json!(8);
    j["target_modules"] = serde_json::json!(".*\\.(q|v)_proj");
    j["peft_version"] = serde_json::json!("0.13.2");
    let cfg: PeftLoraConfig = load(&j.to_string()).unwrap();
    assert_eq!(cfg.lora_alpha, 8.0);
    assert_eq!(cfg.extra["peft_version"], "0.13.2");
    // Missing files.
    let err = load_peft::<Nd>("/nonexistent/gsq-lora", &mut []).unwrap_err();
    assert!(matches!(err, LoraError::Io { .. }), "{err}");
}

/// Adapters saved in bf16 or f16 load exactly (widened to f32).
#[test]
fn half_precision_adapters_load_exactly() {
    let device = Default::default();
    let src = layers::<Nd>(&device);
    let files = peft_files(&config(), "base", &refs(&src)).unwrap();
    let st = SafeTensors::deserialize(&files.safetensors).unwrap();
    // bf16: keep the top half of each f32; f16: values chosen exactly representable.
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = Vec::new();
    let mut expect_a = Vec::new();
    for (k, (name, view)) in st.tensors().into_iter().enumerate() {
        let vals: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let (dtype, bytes, widened): (Dtype, Vec<u8>, Vec<f32>) = if k % 2 == 0 {
            let h: Vec<u16> = vals.iter().map(|v| (v.to_bits() >> 16) as u16).collect();
            let w = h
                .iter()
                .map(|&h| f32::from_bits((h as u32) << 16))
                .collect();
            (
                Dtype::BF16,
                h.iter().flat_map(|h| h.to_le_bytes()).collect(),
                w,
            )
        } else {
            // Multiples of 2^-10 in [-1, 1), subnormal-range values and zero, as f16.
            let w: Vec<f32> = vals
                .iter()
                .enumerate()
                .map(|(i, v)| match i % 3 {
                    0 => (v * 1024.0).round() / 1024.0,
                    1 => (v * 1024.0).round() * 2f32.powi(-24),
                    _ => 0.0,
                })
                .collect();
            let h: Vec<u16> = w.iter().map(|&v| f32_to_f16_exact(v)).collect();
            (
                Dtype::F16,
                h.iter().flat_map(|h| h.to_le_bytes()).collect(),
                w,
            )
        };
        if name.ends_with("layers.0.self_attn.q_proj.lora_A.weight") {
            expect_a = widened.clone();
        }
        owned.push((name, view.shape().to_vec(), bytes, dtype));
    }
    let views: Vec<_> = owned
        .iter()
        .map(|(n, s, b, d)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let bytes = safetensors::serialize(views, None).unwrap();
    let mut dst = fresh::<Nd>(&device);
    apply_peft(&files.config_json, &bytes, &mut muts(&mut dst)).unwrap();
    // layer 0 q_proj: A is [12, 4] in burn, the file held [4, 12].
    let a = to_vec(dst[0].1.lora_a.val());
    assert!(!expect_a.is_empty());
    for i in 0..12 {
        for r in 0..4 {
            assert_eq!(a[i * 4 + r].to_bits(), expect_a[r * 12 + i].to_bits());
        }
    }
    // An integer dtype is refused.
    let data = vec![0u8; 4 * 12 * 4];
    let bad = safetensors::serialize(
        [(
            "x".to_string(),
            safetensors::tensor::TensorView::new(Dtype::I32, vec![4, 12], &data).unwrap(),
        )],
        None,
    )
    .unwrap();
    let mut dst = vec![(
        String::from("x"),
        layer::<Nd>(12, 12, &config(), 1, &device),
    )];
    let renamed: Vec<_> = [
        ("x.lora_A.weight", Dtype::I32),
        ("x.lora_B.weight", Dtype::F32),
    ]
    .iter()
    .map(|(n, d)| (n.to_string(), *d))
    .collect();
    let bufs: Vec<Vec<u8>> = renamed.iter().map(|_| vec![0u8; 4 * 48]).collect();
    let bad2 = safetensors::serialize(
        renamed
            .iter()
            .zip(&bufs)
            .zip([vec![4usize, 12], vec![12, 4]])
            .map(|(((n, d), b), s)| {
                (
                    n.clone(),
                    safetensors::tensor::TensorView::new(*d, s, b).unwrap(),
                )
            }),
        None,
    )
    .unwrap();
    let err = apply_peft(&files.config_json, &bad2, &mut muts(&mut dst)).unwrap_err();
    assert!(matches!(err, LoraError::UnsupportedDType { .. }), "{err}");
    let err = apply_peft(&files.config_json, &bad, &mut muts(&mut dst)).unwrap_err();
    assert!(matches!(err, LoraError::MissingTensor(_)), "{err}");
}

/// f32 -> f16 bits for values that f16 holds exactly (normal or subnormal).
fn f32_to_f16_exact(v: f32) -> u16 {
    if v == 0.0 {
        return 0;
    }
    let sign = if v < 0.0 { 0x8000u16 } else { 0 };
    let a = v.abs();
    let e = a.log2().floor() as i32;
    if e < -14 {
        let m = (a / 2f32.powi(-24)) as u16;
        assert_eq!(m as f32 * 2f32.powi(-24), a);
        sign | m
    } else {
        let frac = ((a / 2f32.powi(e) - 1.0) * 1024.0) as u16;
        assert_eq!((1.0 + frac as f32 / 1024.0) * 2f32.powi(e), a);
        sign | (((e + 15) as u16) << 10) | frac
    }
}

#[test]
fn files_are_written_where_peft_expects_them() {
    let device = Default::default();
    let src = layers::<Nd>(&device);
    let dir = std::env::temp_dir().join(format!("gsq-lora-peft-files-{}", std::process::id()));
    save_peft(&dir, &config(), "base", &refs(&src)).unwrap();
    assert!(dir.join(PEFT_CONFIG_FILE).is_file());
    assert!(dir.join(PEFT_WEIGHTS_FILE).is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}
