// Implicit im2col for a kxk convolution with stride and per-side padding; composed after
// `conv_gemm.wgsl` (bindings, params and tiling are described there).
//
// load_input(k, n): k = (channel, ky, kx), n = (image, oy, ox). The input coordinate is
// oy * stride_h + ky - pad_top (likewise for x); outside the image it is padding and reads 0.
// Bottom and right pads need no parameter: they only make out_h / out_w larger.

fn load_input(k: u32, n: u32) -> f32 {
    let window = params.kernel_h * params.kernel_w;
    let channel = k / window;
    let ky = (k % window) / params.kernel_w;
    let kx = k % params.kernel_w;
    let pixels = params.out_h * params.out_w;
    let image = n / pixels;
    let oy = (n % pixels) / params.out_w;
    let ox = n % params.out_w;
    let y = i32(oy * params.stride_h + ky) - i32(params.pad_top);
    let x = i32(ox * params.stride_w + kx) - i32(params.pad_left);
    if (y < 0 || x < 0 || y >= i32(params.in_h) || x >= i32(params.in_w)) {
        return 0.0;
    }
    return input_at(image, channel, u32(y), u32(x));
}
