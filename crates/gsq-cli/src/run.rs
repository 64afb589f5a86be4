//! Fine-tuning and evaluation, generic over the backend.

use std::time::Instant;

use burn::module::{AutodiffModule, Module};
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use gsq_lora::LoraConfig;
use gsq_models::gguf::Gguf;
use gsq_models::llama::{LlamaModel, LoadOptions, load_llama};
use gsq_models::tokenizer::Tokenizer;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::data::{Corpus, mix64};

/// Token ids `[rows, len]` as an int tensor.
pub fn ids<B: Backend>(rows: &[Vec<u32>], device: &B::Device) -> Tensor<B, 2, Int> {
    let len = rows.first().map_or(0, Vec::len);
    let v: Vec<i64> = rows.iter().flatten().map(|&t| i64::from(t)).collect();
    Tensor::from_data(TensorData::new(v, [rows.len(), len]), device)
}

fn scalar<B: Backend>(t: Tensor<B, 1>) -> f32 {
    t.into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .ok()
        .and_then(|v| v.first().copied())
        .unwrap_or(f32::NAN)
}

fn bar(len: u64, prefix: String) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{prefix:>18} [{bar:30}] {pos}/{len} {msg} elapsed {elapsed} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_prefix(prefix);
    pb
}

/// Held-out evaluation: mean next-token loss and perplexity.
#[derive(Debug, Clone, Serialize)]
pub struct Eval {
    pub tokens: usize,
    pub mean_loss: f64,
    pub perplexity: f64,
    pub seconds: f64,
}

/// Mean loss over the held-out windows, `batch` windows at a time.
pub fn evaluate<B: Backend>(
    model: &LlamaModel<B>,
    windows: &[Vec<u32>],
    batch: usize,
    device: &B::Device,
    label: &str,
) -> Eval {
    let t0 = Instant::now();
    let pb = bar(windows.len() as u64, label.to_string());
    let (mut sum, mut n) = (0f64, 0usize);
    for chunk in windows.chunks(batch.max(1)) {
        let loss = scalar(model.loss(ids::<B>(chunk, device)));
        sum += f64::from(loss) * chunk.len() as f64;
        n += chunk.len();
        pb.inc(chunk.len() as u64);
        pb.set_message(format!("ppl {:.2}", (sum / n as f64).exp()));
    }
    pb.finish_and_clear();
    let mean_loss = sum / n.max(1) as f64;
    let tokens = windows.iter().map(|w| w.len() - 1).sum();
    Eval {
        tokens,
        mean_loss,
        perplexity: mean_loss.exp(),
        seconds: t0.elapsed().as_secs_f64(),
    }
}

/// A continuation of `prompt`: greedy at temperature 0, else sampled (seeded). Also returns the
/// logits of the prompt's last position (for comparing backends).
pub fn generate<B: Backend>(
    model: &LlamaModel<B>,
    tok: &Tokenizer,
    prompt: &str,
    n: usize,
    temperature: f32,
    seed: u64,
    device: &B::Device,
) -> (String, Vec<f32>) {
    let mut tokens = tok.encode(prompt);
    let start = tokens.len();
    let mut first = Vec::new();
    for i in 0..n.max(1) {
        if tokens.len() >= model.max_seq_len() {
            break;
        }
        let logits = model
            .forward_last(ids::<B>(&[tokens.clone()], device))
            .into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .unwrap_or_default();
        if i == 0 {
            first.clone_from(&logits);
        }
        if n == 0 {
            break;
        }
        tokens.push(pick(&logits, temperature, mix64(seed ^ i as u64)));
    }
    (tok.decode(&tokens[start..]), first)
}

/// Argmax (temperature 0) or a sample of `softmax(logits / temperature)`.
fn pick(logits: &[f32], temperature: f32, r: u64) -> u32 {
    let (best, max) =
        logits.iter().enumerate().fold(
            (0, f32::MIN),
            |(bi, bv), (i, &x)| if x > bv { (i, x) } else { (bi, bv) },
        );
    if temperature <= 0.0 {
        return best as u32;
    }
    let w: Vec<f64> = logits
        .iter()
        .map(|&x| f64::from((x - max) / temperature).exp())
        .collect();
    let total: f64 = w.iter().sum();
    let mut u = (r >> 11) as f64 / (1u64 << 53) as f64 * total;
    for (i, &p) in w.iter().enumerate() {
        if u < p {
            return i as u32;
        }
        u -= p;
    }
    best as u32
}

/// Settings of one fine-tuning run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSettings {
    pub steps: usize,
    pub batch: usize,
    pub seq_len: usize,
    pub lr: f64,
    pub seed: u64,
    pub rank: usize,
    pub alpha: f64,
    pub targets: Vec<String>,
    pub eval_tokens: usize,
    pub gen_tokens: usize,
    pub temperature: f32,
    pub prompt: String,
}

/// What one backend's run measured.
#[derive(Debug, Clone, Serialize)]
pub struct BackendRun {
    pub backend: String,
    /// Matmul operand and base-weight formats (Gsq) or "f32".
    pub precision: String,
    pub load_seconds: f64,
    pub before: Eval,
    pub after: Eval,
    pub generation_before: String,
    pub generation_after: String,
    pub losses: Vec<f32>,
    pub step_seconds: Vec<f64>,
    pub train_seconds: f64,
    pub tokens_per_second: f64,
    pub total_seconds: f64,
    pub trainable_params: usize,
    #[serde(skip)]
    pub prompt_logits: Vec<f32>,
}

/// Loads the model on `B`, evaluates, fine-tunes the LoRA adapters, evaluates again and saves
/// the adapters (PEFT folder and GSE-native file) under `out`.
#[allow(clippy::too_many_arguments)]
pub fn finetune<B: AutodiffBackend>(
    label: &str,
    precision: String,
    gguf: &Gguf,
    tok: &Tokenizer,
    corpus: &Corpus,
    load: &LoadOptions,
    lora: &LoraConfig,
    s: &TrainSettings,
    out: &std::path::Path,
    device: &B::Device,
) -> anyhow_free::Result<BackendRun> {
    let t_all = Instant::now();
    let t0 = Instant::now();
    let (_, model) = load_llama::<B>(gguf, load, device)?;
    B::seed(device, s.seed);
    let mut model = model.with_lora(lora, device)?;
    let load_seconds = t0.elapsed().as_secs_f64();
    let trainable_params: usize = model
        .lora_layers()
        .iter()
        .map(|(_, l)| l.lora_a.num_params() + l.lora_b.num_params())
        .sum();
    eprintln!(
        "[{label}] loaded in {load_seconds:.1}s; {} adapters, {trainable_params} trainable parameters",
        model.lora_layers().len()
    );
    let windows = corpus.held_out_windows(s.seq_len + 1, s.eval_tokens);
    let inner_device = device.clone();
    let (before, (generation_before, prompt_logits)) = {
        let m = model.valid();
        let e = evaluate(
            &m,
            &windows,
            s.batch,
            &inner_device,
            &format!("{label} eval before"),
        );
        let g = generate(
            &m,
            tok,
            &s.prompt,
            s.gen_tokens,
            s.temperature,
            s.seed,
            &inner_device,
        );
        (e, g)
    };
    eprintln!(
        "[{label}] held-out perplexity before: {:.3} ({} tokens, {:.1}s)",
        before.perplexity, before.tokens, before.seconds
    );
    eprintln!("[{label}] before: {}{}", s.prompt, generation_before);

    let mut optim = AdamWConfig::new().with_weight_decay(0.0).init();
    let pb = bar(s.steps as u64, format!("{label} train"));
    let mut losses = Vec::with_capacity(s.steps);
    let mut step_seconds = Vec::with_capacity(s.steps);
    let t_train = Instant::now();
    for step in 0..s.steps {
        let t = Instant::now();
        let batch = corpus.batch(s.seed, step, s.batch, s.seq_len + 1);
        let loss = model.loss(ids::<B>(&batch, device));
        let value = scalar(loss.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(s.lr, model, grads);
        losses.push(value);
        let dt = t.elapsed().as_secs_f64();
        step_seconds.push(dt);
        pb.inc(1);
        pb.set_message(format!(
            "loss {value:.4} {:.0} tok/s",
            (s.batch * s.seq_len) as f64 / dt
        ));
    }
    pb.finish_and_clear();
    let train_seconds = t_train.elapsed().as_secs_f64();
    let tokens_per_second = (s.steps * s.batch * s.seq_len) as f64 / train_seconds.max(1e-9);
    eprintln!(
        "[{label}] trained {} steps in {train_seconds:.1}s ({tokens_per_second:.0} tok/s); loss {:.4} -> {:.4}",
        s.steps,
        losses.first().copied().unwrap_or(f32::NAN),
        losses.last().copied().unwrap_or(f32::NAN)
    );

    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let layers = model.lora_layers();
    let peft_dir = out.join(format!("adapter-{label}-peft"));
    gsq_lora::save_peft(&peft_dir, lora, crate::BASE_MODEL, &layers)?;
    let gse_path = out.join(format!("adapter-{label}.gse"));
    gsq_lora::save_gse(&gse_path, lora, &layers)?;
    eprintln!(
        "[{label}] adapter saved: {} and {}",
        peft_dir.display(),
        gse_path.display()
    );

    let m = model.valid();
    let after = evaluate(
        &m,
        &windows,
        s.batch,
        &inner_device,
        &format!("{label} eval after"),
    );
    let (generation_after, _) = generate(
        &m,
        tok,
        &s.prompt,
        s.gen_tokens,
        s.temperature,
        s.seed,
        &inner_device,
    );
    eprintln!(
        "[{label}] held-out perplexity after: {:.3} ({:.1}s)",
        after.perplexity, after.seconds
    );
    eprintln!("[{label}] after: {}{}", s.prompt, generation_after);
    Ok(BackendRun {
        backend: label.to_string(),
        precision,
        load_seconds,
        before,
        after,
        generation_before,
        generation_after,
        losses,
        step_seconds,
        train_seconds,
        tokens_per_second,
        total_seconds: t_all.elapsed().as_secs_f64(),
        trainable_params,
        prompt_logits,
    })
}

/// A boxed error with a message, without pulling in anyhow.
pub mod anyhow_free {
    pub type Error = Box<dyn std::error::Error + Send + Sync>;
    pub type Result<T> = std::result::Result<T, Error>;
}
