//! Trains the same burn-nn transformer on `Autodiff<Gsq>` (integer-only) and `Autodiff<NdArray>`
//! (f32) and prints both loss curves side by side.
//!
//! `cargo run --release --example train_transformer`

#[path = "common/shift_task.rs"]
mod shift_task;

use burn::backend::{Autodiff, NdArray};
use burn_gsq::{Gsq, GsqDevice};

fn main() {
    let steps = 150;
    let gsq = shift_task::train::<Autodiff<Gsq>>(&GsqDevice::default(), steps, 42);
    let f32 = shift_task::train::<Autodiff<NdArray>>(&Default::default(), steps, 42);
    println!("step   gsq (GSE-INT8)   ndarray (f32)");
    for step in (0..steps).step_by(10).chain([steps - 1]) {
        println!("{step:>4}   {:>14.4}   {:>13.4}", gsq[step], f32[step]);
    }
    let tail = |l: &[f32]| l[l.len() - 10..].iter().sum::<f32>() / 10.0;
    println!(
        "mean loss of the last 10 steps: gsq {:.4}, f32 {:.4} (chance: {:.4})",
        tail(&gsq),
        tail(&f32),
        (shift_task::VOCAB as f32).ln()
    );
}
