//! Bad input: NaN/±Inf, values beyond the exponent range, shape mismatches, out-of-range
//! indices and empty tensors.
//!
//! GSE has no NaN and no infinities: under the default special-value policy NaN becomes 0 and
//! ±Inf (or a finite value beyond 2^128) becomes ± the largest finite magnitude, each counted in
//! `burn_gsq::special_value_counts()`; under `SpecialPolicy::Error` they panic. The counters are
//! process-wide and other tests in this binary run in parallel, so the checks are "increased by
//! at least", never "unchanged".

#[macro_use]
mod common;

use burn::tensor::{DType, Tensor, TensorData, activation, f16};
use burn_gsq::{Gsq, GsqDevice, PrecisionPolicy, SpecialPolicy, special_value_counts};
use common::*;

/// Largest magnitude any GSE format holds: below 2^128 (every format saturates under f32::MAX).
const MAX: f64 = f32::MAX as f64;

fn error_device() -> GsqDevice {
    GsqDevice::new(PrecisionPolicy::PAPER.with_special(SpecialPolicy::Error))
}

fn assert_saturated(v: f64, negative: bool, what: &str) {
    assert!(v.is_finite(), "{what}: {v} is not finite");
    assert!(v.abs() <= MAX, "{what}: {v} beyond f32::MAX");
    assert!(v.abs() > 1e38, "{what}: {v} is not the largest magnitude");
    assert_eq!(v < 0.0, negative, "{what}: sign of {v}");
}

#[test]
fn nan_and_inf_in_from_data_are_mapped_and_counted() {
    for (level, dev) in levels() {
        let before = special_value_counts();
        let data = vec![
            1.0f32,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -2.5,
            f32::NAN,
        ];
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(data, [6]), &dev);
        let after = special_value_counts();
        assert!(
            after.nan >= before.nan + 2,
            "{level}: NaN not counted: {before:?} -> {after:?}"
        );
        assert!(
            after.infinite >= before.infinite + 2,
            "{level}: Inf not counted: {before:?} -> {after:?}"
        );

        let v: Vec<f64> = values(&t.clone().into_data());
        assert_eq!(v[0], 1.0);
        assert_eq!(v[1], 0.0, "{level}: NaN -> 0");
        assert_saturated(v[2], false, "+Inf");
        assert_saturated(v[3], true, "-Inf");
        assert_eq!(v[4], -2.5);
        assert_eq!(v[5], 0.0, "{level}: NaN -> 0");
        // Nothing is NaN or infinite any more; everything is finite.
        assert!(
            values(&t.clone().is_nan().into_data())
                .iter()
                .all(|&b| b == 0.0),
            "{level}: is_nan"
        );
        assert!(
            values(&t.clone().is_inf().into_data())
                .iter()
                .all(|&b| b == 0.0),
            "{level}: is_inf"
        );
        assert!(
            values(&t.clone().is_finite().into_data())
                .iter()
                .all(|&b| b == 1.0),
            "{level}: is_finite"
        );
        // +big and -big cancel exactly in a sum.
        let s = values(&t.sum().into_data())[0];
        assert_eq!(s, -1.5, "{level}: sum of 1 + 0 + big - big - 2.5 + 0");

        // f64 and f16 data carry their own NaN/Inf encodings.
        let before = special_value_counts();
        let d64 = vec![f64::NAN, f64::INFINITY, -3.0];
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(d64, [3]), (&dev, DType::F64));
        let v = values(&t.into_data());
        assert_eq!(v[0], 0.0);
        assert_saturated(v[1], false, "f64 +Inf");
        assert_eq!(v[2], -3.0);
        let h = vec![f16::NAN, f16::NEG_INFINITY, f16::from_f32(0.5)];
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(h, [3]), &dev);
        let v = values(&t.into_data());
        assert_eq!(v[0], 0.0);
        assert_saturated(v[1], true, "f16 -Inf");
        assert_eq!(v[2], 0.5);
        let after = special_value_counts();
        assert!(
            after.nan >= before.nan + 2 && after.infinite >= before.infinite + 2,
            "{level}: f64/f16 specials not counted: {before:?} -> {after:?}"
        );

        // NaN/Inf scalars are mapped the same way.
        let x = Tensor::<Gsq, 1>::from_floats([1.0, -2.0], &dev);
        let before = special_value_counts();
        let v = values(&x.clone().mul_scalar(f32::INFINITY).into_data());
        assert_saturated(v[0], false, "x * +Inf");
        assert_saturated(v[1], true, "-2 * +Inf");
        let v = values(&x.add_scalar(f32::NAN).into_data());
        assert_eq!(v, vec![1.0, -2.0], "{level}: x + NaN scalar (NaN -> 0)");
        let after = special_value_counts();
        assert!(
            after.nan > before.nan && after.infinite > before.infinite,
            "{level}: scalar specials not counted"
        );
    }
}

#[test]
fn ops_whose_exact_result_is_nan_or_infinite() {
    for (level, dev) in levels() {
        let before = special_value_counts();
        let z = Tensor::<Gsq, 1>::from_floats([0.0, 0.0], &dev);
        let one = Tensor::<Gsq, 1>::from_floats([1.0, -1.0], &dev);
        let v = values(&(one.clone() / z.clone()).into_data());
        assert_saturated(v[0], false, "1/0");
        assert_saturated(v[1], true, "-1/0");
        assert_eq!(
            values(&(z.clone() / z.clone()).into_data()),
            vec![0.0, 0.0],
            "{level}: 0/0 -> 0"
        );
        assert_eq!(
            values(&one.clone().neg().sqrt().into_data())[0],
            0.0,
            "{level}: sqrt(-1) -> 0"
        );
        let v = values(&z.clone().log().into_data());
        assert_saturated(v[0], true, "log(0)");
        let big = Tensor::<Gsq, 1>::from_floats([100.0, 1000.0], &dev);
        let v = values(&big.exp().into_data());
        assert_saturated(v[0], false, "exp(100)");
        assert_saturated(v[1], false, "exp(1000)");
        let after = special_value_counts();
        assert!(
            after.nan >= before.nan + 3,
            "{level}: NaN results not counted: {before:?} -> {after:?}"
        );
        assert!(
            after.total() >= before.total() + 8,
            "{level}: special results not counted: {before:?} -> {after:?}"
        );
        // Downstream ops see finite values: softmax over a row with a saturated entry.
        let row = Tensor::<Gsq, 2>::from_data(
            TensorData::new(vec![0.0f32, f32::INFINITY, 1.0], [1, 3]),
            &dev,
        );
        let p = values(&activation::softmax(row, 1).into_data());
        assert!(
            p.iter().all(|v| v.is_finite()),
            "{level}: softmax with a saturated entry: {p:?}"
        );
        assert!(
            (p[1] - 1.0).abs() < 1e-6 && p[0].abs() < 1e-6,
            "{level}: softmax([0, +big, 1]) = {p:?}"
        );
    }
}

#[test]
fn error_policy_refuses_nan_and_inf() {
    let dev = error_device();
    let msg = expect_panic("NaN in from_data", &["nan"], || {
        Tensor::<Gsq, 1>::from_data(TensorData::new(vec![1.0f32, f32::NAN], [2]), &dev)
    });
    println!("Error policy, NaN: {msg}");
    let msg = expect_panic("Inf in from_data", &["inf"], || {
        Tensor::<Gsq, 1>::from_data(TensorData::new(vec![f32::NEG_INFINITY, 1.0f32], [2]), &dev)
    });
    println!("Error policy, Inf: {msg}");
    expect_panic("NaN in f64 data", &["nan"], || {
        Tensor::<Gsq, 1>::from_data(TensorData::new(vec![f64::NAN], [1]), (&dev, DType::F64))
    });
    expect_panic("NaN scalar", &["nan"], || {
        Tensor::<Gsq, 1>::from_floats([1.0, 2.0], &dev)
            .mul_scalar(f32::NAN)
            .into_data()
    });
    // Finite data is fine on that device, and computes like the default policy.
    let ok = Tensor::<Gsq, 1>::from_floats([1.5, -2.0], &dev);
    assert_eq!(values(&(ok.clone() * ok).into_data()), vec![2.25, 4.0]);
}

#[test]
fn values_beyond_the_exponent_range_saturate() {
    for (level, dev) in levels() {
        let before = special_value_counts();
        // f64 data kept as f64: 1e38 * 10 and beyond are finite in f64 but beyond 2^128.
        let data = vec![1e38f64 * 10.0, -1e40, 1e300, 3e38, -1.0];
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(data, [5]), (&dev, DType::F64));
        let after = special_value_counts();
        assert!(
            after.saturated >= before.saturated + 3,
            "{level}: saturation not counted: {before:?} -> {after:?}"
        );
        let v = values(&t.into_data());
        assert_saturated(v[0], false, "1e39");
        assert_saturated(v[1], true, "-1e40");
        assert_saturated(v[2], false, "1e300");
        assert!(
            (v[3] / 3e38 - 1.0).abs() < 1e-4,
            "{level}: 3e38 is in range: {}",
            v[3]
        );
        assert_eq!(v[4], -1.0);

        // The same through burn's default dtype: burn converts 1e39 to f32 +Inf first.
        let t = Tensor::<Gsq, 1>::from_data(TensorData::new(vec![1e39f64, -1e39], [2]), &dev);
        let v = values(&t.into_data());
        assert_saturated(v[0], false, "1e39 via f32");
        assert_saturated(v[1], true, "-1e39 via f32");

        // An op whose result leaves the range: 1e38 * 10 saturates (ndarray would give inf).
        let before = special_value_counts();
        let t = Tensor::<Gsq, 1>::from_floats([1e38, -3e38, 2.0], &dev);
        let v = values(&(t.clone() * 10.0).into_data());
        assert_saturated(v[0], false, "1e38 * 10");
        assert_saturated(v[1], true, "-3e38 * 10");
        assert_eq!(v[2], 20.0);
        let v = values(&(t.clone() + t.clone()).into_data());
        assert_saturated(v[1], true, "-3e38 + -3e38");
        let s = values(&t.clone().sum().into_data())[0];
        assert!(s.is_finite(), "{level}: sum {s}");
        let after = special_value_counts();
        assert!(
            after.total() >= before.total() + 3,
            "{level}: out-of-range results not counted: {before:?} -> {after:?}"
        );
        // Tiny values below the range flush to zero rather than failing.
        let tiny = Tensor::<Gsq, 1>::from_floats([1e-30, -1e-30], &dev);
        let v = values(&(tiny.clone() * tiny).into_data());
        assert!(
            v.iter().all(|x| x.is_finite() && x.abs() < 1e-38),
            "{level}: 1e-60: {v:?}"
        );
    }
}

#[test]
fn shape_mismatches_panic() {
    let dev = GsqDevice::default();
    let a = || Tensor::<Gsq, 2>::from_data(TensorData::new(normal(6, 1.0, 1), [2, 3]), &dev);
    let b = || Tensor::<Gsq, 2>::from_data(TensorData::new(normal(20, 1.0, 2), [4, 5]), &dev);
    let msg = expect_panic("add [2,3] + [4,5]", &[], || (a() + b()).into_data());
    println!("add mismatch: {msg}");
    assert!(
        msg.to_lowercase().contains("shape") || msg.to_lowercase().contains("broadcast"),
        "add mismatch message names the problem: {msg}"
    );
    let msg = expect_panic("mul [2,3] * [3,2]", &[], || {
        (a() * a().transpose()).into_data()
    });
    println!("mul mismatch: {msg}");
    let msg = expect_panic("matmul [2,3] x [4,5]", &[], || a().matmul(b()).into_data());
    println!("matmul mismatch: {msg}");
    assert!(
        msg.to_lowercase().contains("matmul") || msg.to_lowercase().contains("dim"),
        "matmul mismatch message: {msg}"
    );
    let msg = expect_panic("batched matmul batch dims [2,..] x [3,..]", &[], || {
        let x = Tensor::<Gsq, 3>::zeros([2, 4, 5], &dev);
        let y = Tensor::<Gsq, 3>::zeros([3, 5, 6], &dev);
        x.matmul(y).into_data()
    });
    println!("batched matmul mismatch: {msg}");
    expect_panic("cat with different widths", &[], || {
        Tensor::cat(vec![a(), b()], 0).into_data()
    });
    expect_panic("reshape to a different size", &[], || {
        a().reshape([4, 2]).into_data()
    });
}

#[test]
fn out_of_range_indices_panic() {
    let dev = GsqDevice::default();
    let x = || Tensor::<Gsq, 2>::from_data(TensorData::new(normal(4 * 7, 1.0, 3), [4, 7]), &dev);
    let msg = expect_panic("gather index 7 of 7", &["gather", "7"], || {
        x().gather(1, it::<Gsq, 2>(vec![0, 7, 1, 2, 3, 4, 5, 6], [4, 2], &dev))
            .into_data()
    });
    println!("gather: {msg}");
    let msg = expect_panic("gather index 100", &["gather", "100"], || {
        x().gather(0, it::<Gsq, 2>(vec![100, 0, 0, 0, 0, 0, 0], [1, 7], &dev))
            .into_data()
    });
    println!("gather: {msg}");
    let msg = expect_panic("select index 4 of 4", &["select", "4"], || {
        x().select(0, it::<Gsq, 1>(vec![1, 4], [2], &dev))
            .into_data()
    });
    println!("select: {msg}");
    let msg = expect_panic("select index 9 on dim 1", &["select", "9"], || {
        x().select(1, it::<Gsq, 1>(vec![9], [1], &dev)).into_data()
    });
    println!("select: {msg}");
    let msg = expect_panic("scatter add index 7", &["scatter", "7"], || {
        let v = Tensor::<Gsq, 2>::ones([4, 1], &dev);
        x().scatter(
            1,
            it::<Gsq, 2>(vec![0, 1, 7, 2], [4, 1], &dev),
            v,
            burn::tensor::IndexingUpdateOp::Add,
        )
        .into_data()
    });
    println!("scatter: {msg}");
    let msg = expect_panic("select_assign index 5", &["select", "5"], || {
        let v = Tensor::<Gsq, 2>::ones([1, 7], &dev);
        x().select_assign(
            0,
            it::<Gsq, 1>(vec![5], [1], &dev),
            v,
            burn::tensor::IndexingUpdateOp::Add,
        )
        .into_data()
    });
    println!("select_assign: {msg}");
    let msg = expect_panic("embedding id 11 of 4", &[], || {
        burn::tensor::module::embedding(x(), it::<Gsq, 2>(vec![1, 11], [1, 2], &dev)).into_data()
    });
    println!("embedding: {msg}");
}

#[test]
fn empty_tensors() {
    for (level, dev) in levels() {
        let e = Tensor::<Gsq, 2>::zeros([0, 5], &dev);
        let f = Tensor::<Gsq, 2>::from_data(TensorData::new(Vec::<f32>::new(), [0, 5]), &dev);
        assert_eq!((e.clone() + f.clone()).dims(), [0, 5], "{level}: add");
        assert_eq!((e.clone() * 2.0).exp().dims(), [0, 5], "{level}: exp");
        assert_eq!(e.clone().into_data().num_elements(), 0);
        let s = values(&e.clone().sum().into_data());
        assert_eq!(s, vec![0.0], "{level}: sum of nothing is 0");
        assert_eq!(e.clone().sum_dim(0).dims(), [1, 5]);
        assert_eq!(
            values(&e.clone().sum_dim(0).into_data()),
            vec![0.0; 5],
            "{level}: sum_dim over an empty axis"
        );
        assert_eq!(e.clone().sum_dim(1).dims(), [0, 1]);
        assert_eq!(
            values(&e.clone().prod().into_data()),
            vec![1.0],
            "{level}: prod of nothing is 1"
        );
        // matmul with an empty inner dimension gives zeros; with an empty outer one, nothing.
        let a = Tensor::<Gsq, 2>::zeros([3, 0], &dev);
        let b = Tensor::<Gsq, 2>::zeros([0, 4], &dev);
        let ab = a.clone().matmul(b.clone());
        assert_eq!(ab.dims(), [3, 4]);
        assert_eq!(
            values(&ab.into_data()),
            vec![0.0; 12],
            "{level}: [3,0] x [0,4]"
        );
        let w = Tensor::<Gsq, 2>::ones([5, 2], &dev);
        assert_eq!(e.clone().matmul(w).dims(), [0, 2], "{level}: [0,5] x [5,2]");
        let bm = Tensor::<Gsq, 3>::zeros([0, 3, 4], &dev)
            .matmul(Tensor::<Gsq, 3>::zeros([0, 4, 2], &dev));
        assert_eq!(bm.dims(), [0, 3, 2]);
        // Views, cat and activations on empty tensors.
        let x = Tensor::<Gsq, 2>::from_data(TensorData::new(normal(10, 1.0, 4), [2, 5]), &dev);
        let c = Tensor::cat(vec![e.clone(), x.clone(), e.clone()], 0);
        assert_eq!(
            floats(c),
            floats(x.clone()),
            "{level}: cat with empty parts"
        );
        assert_eq!(x.clone().slice([0..0, 0..5]).dims(), [0, 5]);
        assert_eq!(activation::softmax(e.clone(), 1).dims(), [0, 5]);
        assert_eq!(e.clone().transpose().dims(), [5, 0]);
        assert_eq!(e.swap_dims(0, 1).flip([0]).dims(), [5, 0]);
    }
}
