#![allow(clippy::float_arithmetic)]
mod common;
use common::*;
#[test]
fn dbg() {
    let x = 1.0 + 2f64.powi(-52);
    println!("{:?}", gse_math::acosh(d(x)));
    println!("{:e}", f(gse_math::acosh(d(x)).finite().unwrap()));
    let dd = d(2f64.powi(-52));
    let p = dd.mul(dd.add(gse::Dyadic::from_int(2)));
    println!("{:e} {:e}", f(p), f(gse_math::sqrt(p).finite().unwrap()));
    println!("rust atanh {}", (-(1.0 - 2f64.powi(-53))).atanh());
}
