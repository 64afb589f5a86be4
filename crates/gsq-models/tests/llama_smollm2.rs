//! SmolLM2-135M from the real GGUF file on `Gsq` (integer-only, INT8 base) and on burn-flex
//! (f32): the logits of a fixed prompt agree, and both continue it as the reference forward pass
//! does (shared/reference/assets.md: "Once upon a time, there was a" → " small town nestled in
//! the heart of a bustling city"). Fails (never skips) when the asset is missing.

mod common;

use std::time::Instant;

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use burn_gsq::{Gsq, GsqDevice};
use gse::GseFormat;
use gsq_models::llama::{LlamaModel, LoadOptions, load_llama};
use gsq_models::tokenizer::Tokenizer;

const PROMPT: &str = "Once upon a time, there was a";
const CONTINUATION: &str = " small town nestled in";

fn ids<B: Backend>(tokens: &[u32], device: &B::Device) -> Tensor<B, 2, Int> {
    let v: Vec<i64> = tokens.iter().map(|&t| i64::from(t)).collect();
    Tensor::from_data(TensorData::new(v, [1, tokens.len()]), device)
}

fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().into_vec::<f32>().unwrap()
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold(
            (0, f32::MIN),
            |(bi, bv), (i, &x)| if x > bv { (i, x) } else { (bi, bv) },
        )
        .0
}

fn greedy<B: Backend>(
    model: &LlamaModel<B>,
    tok: &Tokenizer,
    n: usize,
    device: &B::Device,
) -> String {
    let mut tokens = tok.encode(PROMPT);
    let start = tokens.len();
    for _ in 0..n {
        let logits = to_vec(model.forward_last(ids::<B>(&tokens, device)));
        tokens.push(argmax(&logits) as u32);
    }
    tok.decode(&tokens[start..])
}

fn options(base_format: GseFormat) -> LoadOptions {
    LoadOptions {
        base_format,
        max_seq_len: 64,
        ..LoadOptions::default()
    }
}

#[test]
fn gsq_and_flex_logits_agree_and_continue_like_the_reference() {
    let gguf = common::smollm2();
    let tok = Tokenizer::from_gguf(gguf).unwrap();
    let tokens = tok.encode(PROMPT);
    let gdev = GsqDevice::default();
    let t0 = Instant::now();
    let (config, gsq) = load_llama::<Gsq>(gguf, &options(GseFormat::INT8), &gdev).unwrap();
    eprintln!("load on Gsq (INT8 base): {:?}", t0.elapsed());
    let (_, flex) =
        load_llama::<Flex>(gguf, &options(GseFormat::INT8), &Default::default()).unwrap();
    let vocab = config.vocab_size;
    let t0 = Instant::now();
    let g = to_vec(gsq.forward(ids::<Gsq>(&tokens, &gdev)));
    eprintln!("Gsq forward of {} tokens: {:?}", tokens.len(), t0.elapsed());
    let f = to_vec(flex.forward(ids::<Flex>(&tokens, &Default::default())));
    assert_eq!(g.len(), tokens.len() * vocab);
    let (mut top1, mut num, mut den) = (0usize, 0f64, 0f64);
    for (gr, fr) in g.chunks(vocab).zip(f.chunks(vocab)) {
        top1 += usize::from(argmax(gr) == argmax(fr));
        for (&x, &y) in gr.iter().zip(fr) {
            num += f64::from(x - y).powi(2);
            den += f64::from(y).powi(2);
        }
    }
    let rel = (num / den).sqrt();
    eprintln!(
        "Gsq (INT8 base, GSE-INT8 matmuls) vs Flex f32 over {} positions: top-1 agreement {top1}/{}, relative L2 difference {rel:.4}",
        tokens.len(),
        tokens.len()
    );
    assert!(rel < 0.25, "relative L2 difference {rel}");
    assert!(
        top1 + 1 >= tokens.len(),
        "top-1 agreement {top1}/{}",
        tokens.len()
    );
    let flex_text = greedy(&flex, &tok, 4, &Default::default());
    let gsq_text = greedy(&gsq, &tok, 4, &gdev);
    eprintln!("greedy: flex {flex_text:?}, gsq {gsq_text:?}");
    assert_eq!(flex_text, CONTINUATION);
    // GSE-INT8 matmuls over an INT8 copy of the Q4_1 weights: the first two tokens match the
    // reference; the third is a near tie (" nestled" / " called").
    assert!(gsq_text.starts_with(" small town"), "{gsq_text:?}");
}
