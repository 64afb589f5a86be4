//! A small burn-nn transformer LM on `Autodiff<Gsq>` learns a task that needs attention, to a
//! loss close to the same run in f32 (`Autodiff<NdArray>`): the bar is 1.5x.

#[path = "../examples/common/shift_task.rs"]
mod shift_task;

use burn::backend::{Autodiff, NdArray};
use burn_gsq::{Gsq, GsqDevice};

/// Mean loss over the whole run: the area under the learning curve. Final losses of this task
/// reach ~1e-5 on both backends, where a ratio says nothing; the area compares how fast they learn.
fn mean(losses: &[f32]) -> f32 {
    losses.iter().sum::<f32>() / losses.len() as f32
}

#[test]
fn transformer_learns_the_shift_task_like_f32() {
    let steps = 60;
    let gsq = shift_task::train::<Autodiff<Gsq>>(&GsqDevice::default(), steps, 7);
    let f32 = shift_task::train::<Autodiff<NdArray>>(&Default::default(), steps, 7);
    let chance = (shift_task::VOCAB as f32).ln();
    let (g_last, f_last) = (gsq[steps - 1], f32[steps - 1]);
    println!(
        "last loss: gsq {g_last:.5}, f32 {f_last:.5}; mean: gsq {:.4}, f32 {:.4}; chance {chance:.4}",
        mean(&gsq),
        mean(&f32)
    );
    assert!(
        f_last < 0.05 * chance,
        "the f32 reference itself did not learn: {f_last}"
    );
    assert!(
        g_last < 0.05 * chance,
        "Gsq did not learn the task: {g_last} (chance {chance})"
    );
    assert!(
        mean(&gsq) <= 1.5 * mean(&f32),
        "Gsq learns slower than 1.5x the f32 run: {gsq:?} vs {f32:?}"
    );
}

#[test]
fn training_is_bit_reproducible() {
    let a = shift_task::train::<Autodiff<Gsq>>(&GsqDevice::default(), 5, 3);
    let b = shift_task::train::<Autodiff<Gsq>>(&GsqDevice::default(), 5, 3);
    let bits = |l: &[f32]| l.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
}
