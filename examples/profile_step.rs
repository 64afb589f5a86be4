//! A few training steps of the `train_transformer` model on `Autodiff<Gsq>` only, to profile
//! a step: `valgrind --tool=callgrind target/release/examples/profile_step 3`.

#[path = "common/shift_task.rs"]
mod shift_task;

use burn::backend::Autodiff;
use burn_gsq::{Gsq, GsqDevice};

fn main() {
    let steps = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let losses = shift_task::train::<Autodiff<Gsq>>(&GsqDevice::default(), steps, 42);
    println!("{losses:?}");
}
