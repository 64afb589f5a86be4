//! sin and cos on the reduced range `|r| <= pi/4`.
//!
//! Method: `sin r = r S(r^2)` and `cos r = C(r^2)` with Chebyshev fits of degree 7 and 8 in
//! `w = r^2` (errors `2^-62.0` and `2^-63.4`), evaluated in Q62. sin keeps `r`'s relative
//! precision; cos is at least `0.707`. Both have relative error below `2^-60`.

use crate::support::fixed::mul_q62;
use crate::support::norm::Norm;
use crate::tables::trig::{COS_C, SIN_S};

/// `r^2` in Q62.
#[inline]
pub(crate) fn square_q62(r: Norm) -> i64 {
    let r_q62 = r.to_q62();
    mul_q62(r_q62, r_q62)
}

#[inline]
pub(crate) fn sin_kernel(r: Norm, w_q62: i64) -> Norm {
    r.mul_q62(SIN_S.eval(w_q62))
}

#[inline]
pub(crate) fn cos_kernel(w_q62: i64) -> Norm {
    Norm::from_q62(COS_C.eval(w_q62))
}
