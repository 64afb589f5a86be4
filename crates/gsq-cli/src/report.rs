//! The side-by-side table and the JSON run report.

use serde::Serialize;

use crate::run::{BackendRun, TrainSettings};

/// Agreement of two backends' logits at the prompt's last position (before training).
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub backends: [String; 2],
    pub same_argmax: bool,
    pub relative_l2: f64,
    pub max_abs_diff: f32,
}

pub fn agreement(a: &BackendRun, b: &BackendRun) -> Option<Agreement> {
    let (x, y) = (&a.prompt_logits, &b.prompt_logits);
    if x.is_empty() || x.len() != y.len() {
        return None;
    }
    let argmax = |v: &[f32]| {
        v.iter()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |(bi, bv), (i, &z)| if z > bv { (i, z) } else { (bi, bv) },
            )
            .0
    };
    let (mut num, mut den, mut max) = (0f64, 0f64, 0f32);
    for (&p, &q) in x.iter().zip(y) {
        num += f64::from(p - q).powi(2);
        den += f64::from(q).powi(2);
        max = max.max((p - q).abs());
    }
    Some(Agreement {
        backends: [a.backend.clone(), b.backend.clone()],
        same_argmax: argmax(x) == argmax(y),
        relative_l2: (num / den.max(f64::MIN_POSITIVE)).sqrt(),
        max_abs_diff: max,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub model: String,
    pub text: String,
    pub settings: TrainSettings,
    pub runs: Vec<BackendRun>,
    pub logits_agreement: Option<Agreement>,
    pub plot: Option<String>,
    pub plot_colors: Vec<String>,
    pub wall_seconds: f64,
}

/// The side-by-side table printed at the end of `gsq finetune`.
pub fn table(runs: &[BackendRun]) -> String {
    let mut s = String::new();
    let w = 22;
    let row = |s: &mut String, label: &str, cells: Vec<String>| {
        s.push_str(&format!("{label:<26}"));
        for c in cells {
            s.push_str(&format!("{c:>w$}"));
        }
        s.push('\n');
    };
    row(&mut s, "", runs.iter().map(|r| r.backend.clone()).collect());
    row(
        &mut s,
        "precision",
        runs.iter().map(|r| r.precision.clone()).collect(),
    );
    row(
        &mut s,
        "held-out ppl before",
        runs.iter()
            .map(|r| format!("{:.3}", r.before.perplexity))
            .collect(),
    );
    row(
        &mut s,
        "held-out ppl after",
        runs.iter()
            .map(|r| format!("{:.3}", r.after.perplexity))
            .collect(),
    );
    row(
        &mut s,
        "train loss first -> last",
        runs.iter()
            .map(|r| {
                format!(
                    "{:.3} -> {:.3}",
                    r.losses.first().copied().unwrap_or(f32::NAN),
                    r.losses.last().copied().unwrap_or(f32::NAN)
                )
            })
            .collect(),
    );
    row(
        &mut s,
        "mean step time (s)",
        runs.iter()
            .map(|r| format!("{:.2}", r.train_seconds / r.losses.len().max(1) as f64))
            .collect(),
    );
    row(
        &mut s,
        "train tokens/s",
        runs.iter()
            .map(|r| format!("{:.0}", r.tokens_per_second))
            .collect(),
    );
    row(
        &mut s,
        "total time (s)",
        runs.iter()
            .map(|r| format!("{:.0}", r.total_seconds))
            .collect(),
    );
    if let [first, .., last] = runs
        && runs.len() >= 2
    {
        let rel = (first.after.perplexity / last.after.perplexity - 1.0) * 100.0;
        s.push_str(&format!(
            "ppl after: {} is {rel:+.2}% relative to {}\n",
            first.backend, last.backend
        ));
    }
    for r in runs {
        s.push_str(&format!(
            "\n[{}] before: ...{}\n",
            r.backend, r.generation_before
        ));
        s.push_str(&format!(
            "[{}] after:  ...{}\n",
            r.backend, r.generation_after
        ));
    }
    s
}
