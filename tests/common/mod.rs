//! Shared helpers for the differential tests: a seeded PRNG, inputs, tensor builders, and a
//! harness that runs one generic op body on `Gsq` (at the default and the exact policy) and on
//! burn-ndarray (f32, or f64 where stated), then compares every output with a stated tolerance.
//!
//! The harness prints one `DIFF` line per compared output (family, level, relative L2 error,
//! worst per-element error in f32 ulps and relative), so `--nocapture` gives the error table.
#![allow(dead_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use burn::backend::NdArray;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, DType, Int, Tensor, TensorData};
use burn_gsq::{Gsq, GsqDevice};

/// The f32 reference backend.
pub type Ref = NdArray<f32>;
/// An f64 reference, used where the f32 reference's own rounding would exceed the tolerance
/// (long reductions with cancellation, composite activations, compared at f32 precision).
pub type Ref64 = NdArray<f64>;

/// One rounding of a STREAM16 result (16-bit signed mantissa, one scale per value):
/// relative error at most 2^-15 of the value.
pub const STREAM: f64 = 1.0 / 32768.0;

// ---------------------------------------------------------------------------------------------
// Seeded data
// ---------------------------------------------------------------------------------------------

/// SplitMix64: tiny, seeded, deterministic.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// `n` samples of N(0, std^2).
pub fn normal(n: usize, std: f64, seed: u64) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| (r.normal() * std) as f32).collect()
}

/// `n` samples of U(lo, hi).
pub fn uniform(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.uniform(lo, hi) as f32).collect()
}

/// Random sign, magnitude log-uniform in [10^lo, 10^hi].
pub fn log_uniform(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| {
            let m = 10f64.powf(r.uniform(lo, hi));
            (if r.below(2) == 0 { m } else { -m }) as f32
        })
        .collect()
}

/// Wide dynamic range: magnitudes 1e-20 .. 1e20 mixed in one tensor.
pub fn wide(n: usize, seed: u64) -> Vec<f32> {
    log_uniform(n, -20.0, 20.0, seed)
}

/// `n` distinct values `k / 8` (|k| < 2^13, exactly representable with a 16-bit mantissa),
/// shuffled: no ties, so sorts and arg-reductions have a unique answer at every policy.
pub fn distinct(n: usize, seed: u64) -> Vec<f32> {
    assert!(n < 8000);
    let mut r = Rng::new(seed);
    let mut ks: Vec<i64> = (0..n as i64).map(|i| 2 * i - n as i64 + 1).collect();
    for i in (1..ks.len()).rev() {
        ks.swap(i, r.below(i as u64 + 1) as usize);
    }
    ks.into_iter().map(|k| k as f32 / 8.0).collect()
}

/// `n` values drawn from a small set of multiples of 1/4 in [-lim, lim] (many ties, all exact).
pub fn grid(n: usize, lim: i64, seed: u64) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| (r.below((8 * lim + 1) as u64) as i64 - 4 * lim) as f32 / 4.0)
        .collect()
}

/// `n` integers in [lo, hi).
pub fn ints(n: usize, lo: i64, hi: i64, seed: u64) -> Vec<i64> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| lo + r.below((hi - lo) as u64) as i64)
        .collect()
}

/// `n` booleans, true with probability `p`.
pub fn bools(n: usize, p: f64, seed: u64) -> Vec<bool> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.unit() < p).collect()
}

// ---------------------------------------------------------------------------------------------
// Inputs and tensor builders
// ---------------------------------------------------------------------------------------------

/// A float input: row-major values and a shape.
#[derive(Clone, Debug)]
pub struct Input {
    pub data: Vec<f32>,
    pub shape: Vec<usize>,
}

impl Input {
    pub fn new(data: Vec<f32>, shape: &[usize]) -> Self {
        assert_eq!(
            data.len(),
            shape.iter().product::<usize>(),
            "input size vs shape {shape:?}"
        );
        Self {
            data,
            shape: shape.to_vec(),
        }
    }

    pub fn normal(shape: &[usize], std: f64, seed: u64) -> Self {
        Self::new(normal(shape.iter().product(), std, seed), shape)
    }

    pub fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Self {
        Self::new(uniform(shape.iter().product(), lo, hi, seed), shape)
    }

    pub fn wide(shape: &[usize], seed: u64) -> Self {
        Self::new(wide(shape.iter().product(), seed), shape)
    }

    pub fn distinct(shape: &[usize], seed: u64) -> Self {
        Self::new(distinct(shape.iter().product(), seed), shape)
    }

    pub fn grid(shape: &[usize], lim: i64, seed: u64) -> Self {
        Self::new(grid(shape.iter().product(), lim, seed), shape)
    }

    pub fn log_uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Self {
        Self::new(log_uniform(shape.iter().product(), lo, hi, seed), shape)
    }

    pub fn map(mut self, f: impl Fn(f32) -> f32) -> Self {
        self.data.iter_mut().for_each(|v| *v = f(*v));
        self
    }
}

/// The backend's own float dtype (F64 for `Ref64`). burn keeps default dtypes per device
/// *type*, and `NdArray<f32>` and `NdArray<f64>` share `NdArrayDevice`, so the f64 reference
/// must ask for F64 explicitly or it silently computes in f32.
pub fn float_dtype<B: Backend>() -> DType {
    <B::FloatElem as burn::tensor::Element>::dtype()
}

/// A float tensor of rank `D` from an input, in the backend's own float dtype.
pub fn ft<B: Backend, const D: usize>(x: &Input, dev: &B::Device) -> Tensor<B, D> {
    assert_eq!(x.shape.len(), D, "input rank");
    Tensor::from_data(
        TensorData::new(x.data.clone(), x.shape.clone()),
        (dev, float_dtype::<B>()),
    )
}

/// An int tensor.
pub fn it<B: Backend, const D: usize>(
    v: Vec<i64>,
    shape: [usize; D],
    dev: &B::Device,
) -> Tensor<B, D, Int> {
    Tensor::from_data(TensorData::new(v, shape), dev)
}

/// A bool tensor.
pub fn bt<B: Backend, const D: usize>(
    v: Vec<bool>,
    shape: [usize; D],
    dev: &B::Device,
) -> Tensor<B, D, Bool> {
    Tensor::from_data(TensorData::new(v, shape), dev)
}

/// Values of any tensor data, as f64.
pub fn values(data: &TensorData) -> Vec<f64> {
    data.iter::<f64>().collect()
}

/// Values of a float tensor, as f32.
pub fn floats<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Compared with the float tolerance.
    Float,
    /// Ints, bools, indices, and floats that must match bit for bit.
    Exact,
}

/// One output of an op body.
#[derive(Clone, Debug)]
pub struct Out {
    pub label: String,
    pub dims: Vec<usize>,
    pub vals: Vec<f64>,
    pub kind: Kind,
    pub dtype: DType,
}

/// A float output, compared with the tolerance.
pub fn fo<B: Backend, const D: usize>(label: &str, t: Tensor<B, D>) -> Out {
    let dims = t.dims().to_vec();
    let dtype = t.dtype();
    let data = t.into_data();
    Out {
        label: label.to_string(),
        dims,
        vals: values(&data),
        kind: Kind::Float,
        dtype,
    }
}

/// A float output that must match exactly (data movement, rounding to integers...).
pub fn fx<B: Backend, const D: usize>(label: &str, t: Tensor<B, D>) -> Out {
    Out {
        kind: Kind::Exact,
        ..fo(label, t)
    }
}

/// An int output (must match exactly).
pub fn io<B: Backend, const D: usize>(label: &str, t: Tensor<B, D, Int>) -> Out {
    let dims = t.dims().to_vec();
    let dtype = t.dtype();
    let data = t.into_data();
    Out {
        label: label.to_string(),
        dims,
        vals: values(&data),
        kind: Kind::Exact,
        dtype,
    }
}

/// A bool output (must match exactly).
pub fn bo<B: Backend, const D: usize>(label: &str, t: Tensor<B, D, Bool>) -> Out {
    let dims = t.dims().to_vec();
    let dtype = t.dtype();
    let data = t.into_data();
    Out {
        label: label.to_string(),
        dims,
        vals: values(&data),
        kind: Kind::Exact,
        dtype,
    }
}

// ---------------------------------------------------------------------------------------------
// Tolerances
// ---------------------------------------------------------------------------------------------

/// Allowed error of a float output `g` against the reference `w`:
/// relative L2 `||g - w|| / ||w||` at most `l2`, and every element within
/// `rel * |w_i| + ulps * ulp_f32(w_i) + scale_rel * max |w| + abs`.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub l2: f64,
    pub rel: f64,
    pub ulps: f64,
    pub scale_rel: f64,
    pub abs: f64,
    /// Element bounds checked (`false`: only the relative L2 error).
    pub elementwise: bool,
    /// Compare with `NdArray<f64>` instead of `NdArray<f32>`.
    pub f64_ref: bool,
    /// Give the reference the raw inputs instead of the values the Gsq tensors hold.
    pub raw_ref: bool,
}

impl Tol {
    /// Bit-exact.
    pub const fn exact() -> Self {
        Self {
            l2: 0.0,
            rel: 0.0,
            ulps: 0.0,
            scale_rel: 0.0,
            abs: 0.0,
            elementwise: true,
            f64_ref: false,
            raw_ref: false,
        }
    }

    /// Every element within `k` f32 ulps of the reference; relative L2 at most 1e-6.
    pub const fn ulps(k: f64) -> Self {
        Self {
            l2: 1e-6,
            ulps: k,
            ..Self::exact()
        }
    }

    /// Every element within relative error `r` (and relative L2 at most `r`).
    pub const fn rel(r: f64) -> Self {
        Self {
            l2: r,
            rel: r,
            ..Self::exact()
        }
    }

    /// Only the relative L2 error is bounded.
    pub const fn l2_only(l2: f64) -> Self {
        Self {
            l2,
            elementwise: false,
            ..Self::exact()
        }
    }

    pub const fn with_l2(self, l2: f64) -> Self {
        Self { l2, ..self }
    }

    pub const fn with_abs(self, abs: f64) -> Self {
        Self { abs, ..self }
    }

    pub const fn with_ulps(self, ulps: f64) -> Self {
        Self { ulps, ..self }
    }

    /// Adds `r` times the output's largest magnitude to every element's allowance (for results
    /// of cancellation, whose error scales with the terms, not with the result).
    pub const fn with_scale_rel(self, r: f64) -> Self {
        Self {
            scale_rel: r,
            ..self
        }
    }

    pub const fn f64(self) -> Self {
        Self {
            f64_ref: true,
            ..self
        }
    }

    pub const fn raw(self) -> Self {
        Self {
            raw_ref: true,
            ..self
        }
    }
}

/// The spacing of f32 values around `x` (subnormal spacing below the normal range).
pub fn ulp_f32(x: f64) -> f64 {
    let a = x.abs();
    if !a.is_finite() {
        return f64::INFINITY;
    }
    if a < f32::MIN_POSITIVE as f64 {
        return 2f64.powi(-149);
    }
    let e = a.log2().floor() as i32;
    // log2 may round up just below a power of two; that only makes the allowance larger.
    2f64.powi(e.min(127) - 23)
}

/// Errors of one compared output.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub rel_l2: f64,
    pub max_ulps: f64,
    pub max_rel: f64,
    pub mismatches: usize,
}

pub fn stats(got: &[f64], want: &[f64]) -> Stats {
    let mut num = 0.0;
    let mut den = 0.0;
    let mut max_ulps: f64 = 0.0;
    let mut max_rel: f64 = 0.0;
    let mut mismatches = 0;
    for (&g, &w) in got.iter().zip(want) {
        let d = g - w;
        num += d * d;
        den += w * w;
        if g.to_bits() != w.to_bits() && !(g == 0.0 && w == 0.0) {
            mismatches += 1;
        }
        max_ulps = max_ulps.max(d.abs() / ulp_f32(w));
        if w != 0.0 {
            max_rel = max_rel.max(d.abs() / w.abs());
        } else if d != 0.0 {
            max_rel = f64::INFINITY;
        }
    }
    let rel_l2 = if den > 0.0 {
        (num / den).sqrt()
    } else {
        num.sqrt()
    };
    Stats {
        rel_l2,
        max_ulps,
        max_rel,
        mismatches,
    }
}

/// Compares one output; returns a failure description.
pub fn compare(family: &str, level: &str, got: &Out, want: &Out, tol: &Tol) -> Option<String> {
    let tag = format!("[{family}] {level} `{}`", got.label);
    if got.label != want.label {
        return Some(format!(
            "{tag}: output order differs from the reference (`{}`)",
            want.label
        ));
    }
    if got.dims != want.dims {
        return Some(format!(
            "{tag}: shape {:?}, reference {:?}",
            got.dims, want.dims
        ));
    }
    if got.vals.len() != want.vals.len() {
        return Some(format!(
            "{tag}: {} values, reference {}",
            got.vals.len(),
            want.vals.len()
        ));
    }
    if let Some(i) = want.vals.iter().position(|v| !v.is_finite()) {
        return Some(format!(
            "{tag}: the reference is not finite at {i} ({}): bad test input",
            want.vals[i]
        ));
    }
    if let Some(i) = got.vals.iter().position(|v| !v.is_finite()) {
        return Some(format!(
            "{tag}: Gsq output is not finite at {i}: {}",
            got.vals[i]
        ));
    }
    let s = stats(&got.vals, &want.vals);
    println!(
        "DIFF family={family} level={level} out={} n={} rel_l2={:.3e} max_ulps={:.2} max_rel={:.3e} mismatches={}",
        got.label,
        got.vals.len(),
        s.rel_l2,
        s.max_ulps,
        s.max_rel,
        s.mismatches
    );
    let show = |idx: &[usize]| -> String {
        idx.iter()
            .take(6)
            .map(|&i| format!("  [{i}] got {:e} want {:e}", got.vals[i], want.vals[i]))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match got.kind {
        Kind::Exact => {
            let bad: Vec<usize> = (0..got.vals.len())
                .filter(|&i| got.vals[i] != want.vals[i])
                .collect();
            if !bad.is_empty() {
                return Some(format!(
                    "{tag}: must match exactly; {} of {} differ (first: {:?}):\n{}",
                    bad.len(),
                    got.vals.len(),
                    &bad[..bad.len().min(6)],
                    show(&bad)
                ));
            }
        }
        Kind::Float => {
            let scale = want.vals.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if s.rel_l2 > tol.l2 {
                return Some(format!(
                    "{tag}: relative L2 error {:.3e} > {:.3e} (max ulps {:.1}, max rel {:.3e})\n{}",
                    s.rel_l2,
                    tol.l2,
                    s.max_ulps,
                    s.max_rel,
                    show(&worst(&got.vals, &want.vals))
                ));
            }
            if tol.elementwise {
                let bad: Vec<usize> = (0..got.vals.len())
                    .filter(|&i| {
                        let (g, w) = (got.vals[i], want.vals[i]);
                        let allowed = tol.rel * w.abs()
                            + tol.ulps * ulp_f32(w)
                            + tol.scale_rel * scale
                            + tol.abs;
                        (g - w).abs() > allowed
                    })
                    .collect();
                if !bad.is_empty() {
                    return Some(format!(
                        "{tag}: {} of {} elements beyond rel {:.2e} + {} ulps + {:.1e} * max|w| + abs {:.1e} (max ulps {:.1}, max rel {:.3e}):\n{}",
                        bad.len(),
                        got.vals.len(),
                        tol.rel,
                        tol.ulps,
                        tol.scale_rel,
                        tol.abs,
                        s.max_ulps,
                        s.max_rel,
                        show(&bad)
                    ));
                }
            }
        }
    }
    None
}

/// Indices of the largest absolute differences.
fn worst(got: &[f64], want: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..got.len()).collect();
    idx.sort_by(|&a, &b| {
        let (da, db) = ((got[a] - want[a]).abs(), (got[b] - want[b]).abs());
        db.partial_cmp(&da).unwrap()
    });
    idx.truncate(6);
    idx
}

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// The two policies every differential test runs at.
pub fn levels() -> [(&'static str, GsqDevice); 2] {
    [
        ("default", GsqDevice::default()),
        ("exact", GsqDevice::exact()),
    ]
}

/// What a Gsq tensor on `dev` holds for each input (its values rounded to the stream format).
pub fn held(inputs: &[Input], dev: &GsqDevice) -> Vec<Input> {
    inputs
        .iter()
        .map(|x| {
            let t =
                Tensor::<Gsq, 1>::from_data(TensorData::new(x.data.clone(), [x.data.len()]), dev);
            Input::new(floats(t), &x.shape)
        })
        .collect()
}

/// Makes F64 the default float dtype of burn-ndarray's device for this process (idempotent;
/// call it before any ndarray tensor exists). burn keys default dtypes by device type, which
/// `NdArray<f32>` and `NdArray<f64>` share; with this, tensors burn creates internally (one-hot
/// targets, autodiff's gradient seeds...) are f64 too, so whole graphs run in f64.
pub fn ndarray_defaults_to_f64() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        burn::tensor::set_default_dtypes::<Ref64>(
            &Default::default(),
            burn::tensor::FloatDType::F64,
            burn::tensor::IntDType::I64,
        )
        .expect("set burn-ndarray's default float dtype to F64 before any ndarray tensor exists");
    });
}

pub type GsqBody = fn(&GsqDevice, &[Input]) -> Vec<Out>;
pub type RefBody = fn(&burn::tensor::ops::Device<Ref>, &[Input]) -> Vec<Out>;
pub type Ref64Body = fn(&burn::tensor::ops::Device<Ref64>, &[Input]) -> Vec<Out>;

fn panic_text(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<non-string panic>".into())
}

/// Runs `gsq` at both policies and the reference on the same data, compares every output and
/// panics with all failures. At the default policy the reference gets the values the Gsq input
/// tensors hold (unless `tol.raw_ref`), so the comparison measures the op, not the input
/// rounding (which `creation_and_round_trip` checks on its own).
pub fn differential(
    family: &str,
    inputs: &[Input],
    gsq: GsqBody,
    ref32: RefBody,
    ref64: Ref64Body,
    tol_default: Tol,
    tol_exact: Tol,
) {
    let mut failures = Vec::new();
    for ((level, dev), tol) in levels().into_iter().zip([tol_default, tol_exact]) {
        let got = match catch_unwind(AssertUnwindSafe(|| gsq(&dev, inputs))) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!(
                    "[{family}] {level}: Gsq panicked: {}",
                    panic_text(&*e)
                ));
                continue;
            }
        };
        let ref_inputs = if tol.raw_ref {
            inputs.to_vec()
        } else {
            held(inputs, &dev)
        };
        let want = if tol.f64_ref {
            ref64(&Default::default(), &ref_inputs)
        } else {
            ref32(&Default::default(), &ref_inputs)
        };
        if got.len() != want.len() {
            failures.push(format!(
                "[{family}] {level}: {} outputs vs {}",
                got.len(),
                want.len()
            ));
            continue;
        }
        for (g, w) in got.iter().zip(&want) {
            if let Some(f) = compare(family, level, g, w, &tol) {
                failures.push(f);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `diff!("family", inputs, [tol_default, tol_exact], |B, dev, x| { ...Vec<Out> })`: the body
/// is a generic function of the backend `B`, run on Gsq (both policies) and on the reference.
#[macro_export]
macro_rules! diff {
    ($family:expr, $inputs:expr, [$tdef:expr, $texact:expr], |$B:ident, $dev:ident, $x:ident| $body:block) => {{
        #[allow(unused_variables)]
        fn run<$B: burn::tensor::backend::Backend>(
            $dev: &$B::Device,
            $x: &[$crate::common::Input],
        ) -> Vec<$crate::common::Out> {
            $body
        }
        $crate::common::differential(
            $family,
            &$inputs,
            run::<burn_gsq::Gsq>,
            run::<$crate::common::Ref>,
            run::<$crate::common::Ref64>,
            $tdef,
            $texact,
        )
    }};
}

/// Asserts that `f` panics and that the panic message contains every one of `needles`
/// (case-insensitive); returns the message.
pub fn expect_panic<R>(what: &str, needles: &[&str], f: impl FnOnce() -> R) -> String {
    let r = catch_unwind(AssertUnwindSafe(f));
    match r {
        Ok(_) => panic!("{what}: expected a panic, got none"),
        Err(e) => {
            let msg = panic_text(&*e);
            let lower = msg.to_lowercase();
            for n in needles {
                assert!(
                    lower.contains(&n.to_lowercase()),
                    "{what}: panic message does not mention `{n}`: {msg}"
                );
            }
            msg
        }
    }
}
