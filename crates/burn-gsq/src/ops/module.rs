//! `ModuleOps` for `Gsq`. Convolutions, pooling, interpolation, deformable convolution and the
//! FFT live in their own files; attention, layer norm and linear are fused here on the GEMM
//! and the kernels.

use burn_backend::ops::UnfoldOptions;
use burn_backend::ops::{
    AttentionModuleOptions, ConvOptions, ConvTransposeOptions, DeformConv2dBackward,
    DeformConvOptions, InterpolateOptions, MaxPool2dBackward, MaxPool2dWithIndices, ModuleOps,
};
use burn_backend::tensor::{BoolTensor, FloatTensor, IntTensor};

use super::{attention, conv, deform_conv, fft, interpolate, linear, pool, unfold};
use crate::Gsq;

impl ModuleOps<Gsq> for Gsq {
    fn linear(
        x: FloatTensor<Gsq>,
        weight: FloatTensor<Gsq>,
        bias: Option<FloatTensor<Gsq>>,
    ) -> FloatTensor<Gsq> {
        linear::forward(x, weight, bias)
    }

    fn linear_x_backward(
        weight: FloatTensor<Gsq>,
        output_grad: FloatTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        linear::x_backward(weight, output_grad)
    }

    fn linear_weight_backward(
        x: FloatTensor<Gsq>,
        output_grad: FloatTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        linear::weight_backward(x, output_grad)
    }

    fn conv2d(
        x: FloatTensor<Gsq>,
        weight: FloatTensor<Gsq>,
        bias: Option<FloatTensor<Gsq>>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Gsq> {
        conv::conv2d(x, weight, bias, options)
    }

    fn deform_conv2d(
        x: FloatTensor<Gsq>,
        offset: FloatTensor<Gsq>,
        weight: FloatTensor<Gsq>,
        mask: Option<FloatTensor<Gsq>>,
        bias: Option<FloatTensor<Gsq>>,
        options: DeformConvOptions<2>,
    ) -> FloatTensor<Gsq> {
        deform_conv::deform_conv2d(x, offset, weight, mask, bias, options)
    }

    fn deform_conv2d_backward(
        x: FloatTensor<Gsq>,
        offset: FloatTensor<Gsq>,
        weight: FloatTensor<Gsq>,
        mask: Option<FloatTensor<Gsq>>,
        bias: Option<FloatTensor<Gsq>>,
        output_grad: FloatTensor<Gsq>,
        options: DeformConvOptions<2>,
    ) -> DeformConv2dBackward<Gsq> {
        let (x_grad, offset_grad, weight_grad, mask_grad, bias_grad) =
            deform_conv::deform_conv2d_backward(
                x,
                offset,
                weight,
                mask,
                bias,
                output_grad,
                options,
            );
        DeformConv2dBackward::new(x_grad, offset_grad, weight_grad, mask_grad, bias_grad)
    }

    fn conv3d(
        x: FloatTensor<Gsq>,
        weight: FloatTensor<Gsq>,
        bias: Option<FloatTensor<Gsq>>,
        options: ConvOptions<3>,
    ) -> FloatTensor<Gsq> {
        conv::conv3d(x, weight, bias, options)
    }

    fn conv_transpose2d(
        x: FloatTensor<Gsq>,
        weight: FloatTensor<Gsq>,
        bias: Option<FloatTensor<Gsq>>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Gsq> {
        conv::conv_transpose2d(x, weight, bias, options)
    }

    fn conv_transpose3d(
        x: FloatTensor<Gsq>,
        weight: FloatTensor<Gsq>,
        bias: Option<FloatTensor<Gsq>>,
        options: ConvTransposeOptions<3>,
    ) -> FloatTensor<Gsq> {
        conv::conv_transpose3d(x, weight, bias, options)
    }

    fn unfold4d(
        x: FloatTensor<Gsq>,
        kernel_size: [usize; 2],
        options: UnfoldOptions,
    ) -> FloatTensor<Gsq> {
        unfold::unfold4d(x, kernel_size, options)
    }

    fn avg_pool2d(
        x: FloatTensor<Gsq>,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        count_include_pad: bool,
        ceil_mode: bool,
    ) -> FloatTensor<Gsq> {
        pool::avg_pool2d(
            x,
            kernel_size,
            stride,
            padding,
            count_include_pad,
            ceil_mode,
        )
    }

    fn avg_pool2d_backward(
        x: FloatTensor<Gsq>,
        grad: FloatTensor<Gsq>,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        count_include_pad: bool,
        ceil_mode: bool,
    ) -> FloatTensor<Gsq> {
        pool::avg_pool2d_backward(
            x,
            grad,
            kernel_size,
            stride,
            padding,
            count_include_pad,
            ceil_mode,
        )
    }

    fn adaptive_avg_pool2d(x: FloatTensor<Gsq>, output_size: [usize; 2]) -> FloatTensor<Gsq> {
        pool::adaptive_avg_pool2d(x, output_size)
    }

    fn adaptive_avg_pool2d_backward(
        x: FloatTensor<Gsq>,
        grad: FloatTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        pool::adaptive_avg_pool2d_backward(x, grad)
    }

    fn max_pool2d(
        x: FloatTensor<Gsq>,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
    ) -> FloatTensor<Gsq> {
        pool::max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)
    }

    fn max_pool2d_with_indices(
        x: FloatTensor<Gsq>,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
    ) -> MaxPool2dWithIndices<Gsq> {
        let (output, indices) =
            pool::max_pool2d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode);
        MaxPool2dWithIndices::new(output, indices)
    }

    fn max_pool2d_with_indices_backward(
        x: FloatTensor<Gsq>,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
        output_grad: FloatTensor<Gsq>,
        indices: IntTensor<Gsq>,
    ) -> MaxPool2dBackward<Gsq> {
        MaxPool2dBackward::new(pool::max_pool2d_with_indices_backward(
            x,
            kernel_size,
            stride,
            padding,
            dilation,
            ceil_mode,
            output_grad,
            indices,
        ))
    }

    fn interpolate(
        x: FloatTensor<Gsq>,
        output_size: [usize; 2],
        options: InterpolateOptions,
    ) -> FloatTensor<Gsq> {
        interpolate::interpolate(x, output_size, options)
    }

    fn interpolate_backward(
        x: FloatTensor<Gsq>,
        grad: FloatTensor<Gsq>,
        output_size: [usize; 2],
        options: InterpolateOptions,
    ) -> FloatTensor<Gsq> {
        interpolate::interpolate_backward(x, grad, output_size, options)
    }

    fn attention(
        query: FloatTensor<Gsq>,
        key: FloatTensor<Gsq>,
        value: FloatTensor<Gsq>,
        mask: Option<BoolTensor<Gsq>>,
        attn_bias: Option<FloatTensor<Gsq>>,
        options: AttentionModuleOptions,
    ) -> FloatTensor<Gsq> {
        attention::attention(query, key, value, mask.map(|m| m.flex), attn_bias, options)
    }

    fn layer_norm(
        tensor: FloatTensor<Gsq>,
        gamma: FloatTensor<Gsq>,
        beta: Option<FloatTensor<Gsq>>,
        epsilon: f64,
    ) -> FloatTensor<Gsq> {
        let eps = crate::convert::scalar_to_dyadic(
            burn_backend::Scalar::Float(epsilon),
            tensor.policy().special,
        );
        let (format, rounding) = tensor.out();
        let out = gse_kernels::layer_norm(
            &tensor.tensor,
            &gamma.tensor,
            beta.as_ref().map(|b| &b.tensor),
            eps,
            format,
            rounding,
        );
        tensor.derive(out)
    }

    fn rfft(
        signal: FloatTensor<Gsq>,
        dim: usize,
        n: Option<usize>,
    ) -> (FloatTensor<Gsq>, FloatTensor<Gsq>) {
        fft::rfft(signal, dim, n)
    }

    fn irfft(
        spectrum_re: FloatTensor<Gsq>,
        spectrum_im: FloatTensor<Gsq>,
        dim: usize,
        n: Option<usize>,
    ) -> FloatTensor<Gsq> {
        fft::irfft(spectrum_re, spectrum_im, dim, n)
    }
}
