//! The three subcommands.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::backend::Backend;
use burn_gsq::{Gsq, GsqDevice, PrecisionPolicy};
use gsq_lora::{GseAdapter, LoraConfig, PEFT_CONFIG_FILE, PeftLoraConfig};
use gsq_models::assets;
use gsq_models::gguf::Gguf;
use gsq_models::llama::{LlamaModel, LoadOptions, load_llama};
use gsq_models::tokenizer::Tokenizer;

use crate::args::{BackendKind, EvalArgs, FetchArgs, FinetuneArgs, ModelArgs};
use crate::data::Corpus;
use crate::report::{Report, agreement, table};
use crate::run::anyhow_free::Result;
use crate::run::{BackendRun, TrainSettings, evaluate, finetune as finetune_on, generate};

/// The model and text paths: the given ones, or the cached assets (fetched when missing).
fn resolve(args: &ModelArgs) -> Result<(PathBuf, PathBuf)> {
    let need_fetch = (args.model.is_none() && assets::require_model().is_err())
        || (args.text.is_none() && assets::require_moby_dick().is_err());
    if need_fetch {
        eprintln!("fetching assets into {}", assets::cache_dir().display());
        assets::fetch_all(&assets::cache_dir())?;
    }
    let model = match &args.model {
        Some(p) => p.clone(),
        None => assets::require_model()?,
    };
    let text = match &args.text {
        Some(p) => p.clone(),
        None => assets::require_moby_dick()?,
    };
    Ok((model, text))
}

struct Inputs {
    gguf: Gguf,
    tok: Tokenizer,
    corpus: Corpus,
    model_path: PathBuf,
    text_path: PathBuf,
}

fn inputs(args: &ModelArgs) -> Result<Inputs> {
    let (model_path, text_path) = resolve(args)?;
    let t0 = Instant::now();
    let gguf = Gguf::open(&model_path)?;
    let tok = Tokenizer::from_gguf(&gguf)?;
    let text = std::fs::read_to_string(&text_path)
        .map_err(|e| format!("reading {}: {e}", text_path.display()))?;
    let corpus = Corpus::new(&text, &tok, args.eval_tokens);
    eprintln!(
        "model {} ({} tensors); text {}: {} training tokens, {} held-out tokens tokenized ({:.1}s)",
        model_path.display(),
        gguf.tensors().len(),
        text_path.display(),
        corpus.train.len(),
        corpus.held_out.len(),
        t0.elapsed().as_secs_f64()
    );
    if args.seq_len < 2 || corpus.train.len() <= args.seq_len + 1 {
        return Err(format!(
            "--seq-len {} needs at least 2 and fewer than the {} training tokens",
            args.seq_len,
            corpus.train.len()
        )
        .into());
    }
    Ok(Inputs {
        gguf,
        tok,
        corpus,
        model_path,
        text_path,
    })
}

fn load_options(args: &ModelArgs) -> LoadOptions {
    LoadOptions {
        base_format: args.base_format.gse(),
        max_seq_len: (args.seq_len + 1).max(args.gen_tokens + 256),
        ..LoadOptions::default()
    }
}

fn gsq_device(args: &ModelArgs) -> GsqDevice {
    let operand = args
        .format
        .gse_grouped(args.group)
        .expect("clap validated the group size");
    GsqDevice::new(PrecisionPolicy::PAPER.with_linear_operand(operand))
}

fn gsq_precision(args: &ModelArgs) -> String {
    let group = if args.group == 32 {
        String::new()
    } else {
        format!(" g{}", args.group)
    };
    format!(
        "GSE-{}{group} ops, {} base",
        args.format.name().to_uppercase(),
        args.base_format.name().to_uppercase()
    )
}

pub fn finetune(args: &FinetuneArgs) -> Result<()> {
    let t_all = Instant::now();
    let m = &args.model;
    let inp = inputs(m)?;
    let lora = LoraConfig::new()
        .with_rank(args.rank)
        .with_alpha(args.alpha)
        .with_target_modules(args.targets.clone());
    let settings = TrainSettings {
        steps: args.steps,
        batch: args.batch,
        seq_len: m.seq_len,
        lr: args.lr,
        seed: m.seed,
        rank: args.rank,
        alpha: args.alpha,
        targets: args.targets.clone(),
        eval_tokens: m.eval_tokens,
        gen_tokens: m.gen_tokens,
        temperature: m.temperature,
        prompt: m.prompt.clone(),
    };
    eprintln!(
        "fine-tuning: {} steps x {} sequences x {} tokens, lr {}, LoRA rank {} alpha {} on {:?}, seed {}",
        args.steps, args.batch, m.seq_len, args.lr, args.rank, args.alpha, args.targets, m.seed
    );
    let load = load_options(m);
    let mut runs: Vec<BackendRun> = Vec::new();
    for &kind in &args.backend {
        let label = kind.name();
        let run = match kind {
            BackendKind::Gsq => finetune_on::<Autodiff<Gsq>>(
                label,
                gsq_precision(m),
                &inp.gguf,
                &inp.tok,
                &inp.corpus,
                &load,
                &lora,
                &settings,
                &args.out,
                &gsq_device(m),
            )?,
            BackendKind::Flex => finetune_on::<Autodiff<Flex>>(
                label,
                "f32".into(),
                &inp.gguf,
                &inp.tok,
                &inp.corpus,
                &load,
                &lora,
                &settings,
                &args.out,
                &Default::default(),
            )?,
            BackendKind::Ndarray => finetune_on::<Autodiff<NdArray>>(
                label,
                "f32".into(),
                &inp.gguf,
                &inp.tok,
                &inp.corpus,
                &load,
                &lora,
                &settings,
                &args.out,
                &Default::default(),
            )?,
        };
        runs.push(run);
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let curves: Vec<(String, Vec<f32>)> = runs
        .iter()
        .map(|r| (r.backend.clone(), r.losses.clone()))
        .collect();
    let png = args.out.join("loss.png");
    let (plot, plot_colors) = match crate::plot::loss_png(&png, &curves) {
        Ok(colors) => (Some(png.display().to_string()), colors),
        Err(e) => {
            eprintln!("warning: {e}");
            (None, Vec::new())
        }
    };
    let logits_agreement = match runs.as_slice() {
        [a, b, ..] => agreement(a, b),
        _ => None,
    };
    println!("\n{}", table(&runs));
    if let Some(a) = &logits_agreement {
        println!(
            "logits at the prompt's last position, {} vs {} (before training): same argmax {}, relative L2 difference {:.4}, max |diff| {:.3}",
            a.backends[0], a.backends[1], a.same_argmax, a.relative_l2, a.max_abs_diff
        );
    }
    if let Some(p) = &plot {
        let legend: Vec<String> = runs
            .iter()
            .zip(&plot_colors)
            .map(|(r, c)| format!("{} = {c}", r.backend))
            .collect();
        println!("loss curves: {p} ({})", legend.join(", "));
    }
    let report = Report {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        model: inp.model_path.display().to_string(),
        text: inp.text_path.display().to_string(),
        settings,
        runs,
        logits_agreement,
        plot,
        plot_colors,
        wall_seconds: t_all.elapsed().as_secs_f64(),
    };
    let json = args.out.join("report.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report)?)
        .map_err(|e| format!("{}: {e}", json.display()))?;
    println!(
        "report: {}; wall time {:.0}s",
        json.display(),
        report.wall_seconds
    );
    Ok(())
}

/// Attaches and loads the adapter at `path` (a PEFT folder or a `.gse` file).
fn with_adapter<B: Backend>(
    model: LlamaModel<B>,
    path: &Path,
    device: &B::Device,
) -> Result<LlamaModel<B>> {
    if path.is_dir() {
        let cfg_path = path.join(PEFT_CONFIG_FILE);
        let json = std::fs::read_to_string(&cfg_path)
            .map_err(|e| format!("{}: {e}", cfg_path.display()))?;
        let peft: PeftLoraConfig = serde_json::from_str(&json)?;
        let mut model = model.with_lora(&peft.to_config()?, device)?;
        gsq_lora::load_peft(path, &mut model.lora_layers_mut())?;
        Ok(model)
    } else {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let adapter = GseAdapter::from_bytes(&bytes)?;
        let mut model = model.with_lora(&adapter.config, device)?;
        adapter.apply(&mut model.lora_layers_mut())?;
        Ok(model)
    }
}

fn eval_on<B: Backend>(
    args: &EvalArgs,
    inp: &Inputs,
    precision: String,
    device: &B::Device,
) -> Result<()> {
    let m = &args.model;
    let t0 = Instant::now();
    let (_, model) = load_llama::<B>(&inp.gguf, &load_options(m), device)?;
    let model = match &args.adapter {
        Some(p) => with_adapter(model, p, device)?,
        None => model,
    };
    eprintln!("loaded in {:.1}s", t0.elapsed().as_secs_f64());
    let windows = inp.corpus.held_out_windows(m.seq_len + 1, m.eval_tokens);
    let e = evaluate(&model, &windows, 4, device, "eval");
    let (text, _) = generate(
        &model,
        &inp.tok,
        &m.prompt,
        m.gen_tokens,
        m.temperature,
        m.seed,
        device,
    );
    let adapter = args.adapter.as_ref().map_or("no adapter".to_string(), |p| {
        format!("adapter {}", p.display())
    });
    println!(
        "{} ({precision}, {adapter}): held-out perplexity {:.3} over {} tokens ({:.1}s)",
        args.backend.name(),
        e.perplexity,
        e.tokens,
        e.seconds
    );
    println!("{}{}", m.prompt, text);
    Ok(())
}

pub fn eval(args: &EvalArgs) -> Result<()> {
    let inp = inputs(&args.model)?;
    match args.backend {
        BackendKind::Gsq => eval_on::<Gsq>(
            args,
            &inp,
            gsq_precision(&args.model),
            &gsq_device(&args.model),
        ),
        BackendKind::Flex => eval_on::<Flex>(args, &inp, "f32".into(), &Default::default()),
        BackendKind::Ndarray => eval_on::<NdArray>(args, &inp, "f32".into(), &Default::default()),
    }
}

pub fn fetch(args: &FetchArgs) -> Result<()> {
    let dir = args.dir.clone().unwrap_or_else(assets::cache_dir);
    let a = assets::fetch_all(&dir)?;
    for o in &a.outcomes {
        println!("{}: {} ({:?})", o.what, o.path.display(), o.action);
    }
    Ok(())
}
