// 1x1 pointwise convolution: a plain GEMM of weights [out_channels][in_channels] by the input's
// [in_channels][pixels] planes; composed after `conv_gemm.wgsl` (bindings, params and tiling are
// described there). The launcher sets kernel 1x1, stride 1, no padding, out = in size.
//
// load_input(k, n): k = input channel, n = (image, pixel); no index arithmetic beyond the split.

fn load_input(k: u32, n: u32) -> f32 {
    let pixels = params.in_h * params.in_w;
    let image = n / pixels;
    let p = n % pixels;
    return input[(image * params.in_c_total + params.in_c_offset + k) * pixels + p];
}
