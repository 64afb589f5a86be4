//! The 3-vector cross product along one axis.

use gse_kernels::{broadcast_shape, generate};

use crate::GsqTensor;

pub(crate) fn cross(lhs: GsqTensor, rhs: GsqTensor, dim: usize) -> GsqTensor {
    let dims = broadcast_shape(lhs.dims(), rhs.dims())
        .unwrap_or_else(|| panic!("burn-gsq: cross: shapes do not broadcast"));
    assert_eq!(
        dims[dim], 3,
        "burn-gsq: cross: dimension {dim} must have size 3"
    );
    let (a, b) = (lhs.tensor.expand(&dims), rhs.tensor.expand(&dims));
    let (mut ia, mut ib) = (vec![0; a.num_elements()], vec![0; b.num_elements()]);
    a.layout().fill_indices(0, &mut ia);
    b.layout().fill_indices(0, &mut ib);
    let inner: usize = dims[dim + 1..].iter().product();
    let (format, rounding) = lhs.out();
    let out = generate(&dims, format, rounding, |i| {
        let c = (i / inner) % 3;
        let base = i - c * inner;
        let at = |t: &gse_kernels::GseTensor, idx: &[usize], comp: usize| {
            t.storage_value(idx[base + comp * inner])
        };
        let (j, k) = ((c + 1) % 3, (c + 2) % 3);
        at(&a, &ia, j)
            .mul(at(&b, &ib, k))
            .sub(at(&a, &ia, k).mul(at(&b, &ib, j)))
    });
    lhs.derive(out)
}
