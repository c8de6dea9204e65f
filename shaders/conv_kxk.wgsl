// Loader for a kxk convolution (implicit im2col) with stride and per-side padding; composed
// after `conv_common.wgsl` and a core (`conv_tiled.wgsl` or `conv_direct.wgsl`).
//
// load_input(p, k, n): k = (channel, ky, kx), n = (image, oy, ox) of problem p. The input
// coordinate is oy * stride_h + ky - pad_top (likewise for x); outside the image it is padding
// and reads 0. Bottom and right pads need no parameter: they only make out_h / out_w larger.

fn load_input(p: u32, k: u32, n: u32) -> f32 {
    let q = params.problems[p];
    let window = q.kernel_h * q.kernel_w;
    let channel = k / window;
    let ky = (k % window) / q.kernel_w;
    let kx = k % q.kernel_w;
    let pixels = q.out_h * q.out_w;
    let image = n / pixels;
    let oy = (n % pixels) / q.out_w;
    let ox = n % q.out_w;
    let y = i32(oy * q.stride_h + ky) - i32(q.pad_top);
    let x = i32(ox * q.stride_w + kx) - i32(q.pad_left);
    if (y < 0 || x < 0 || y >= i32(q.in_h) || x >= i32(q.in_w)) {
        return 0.0;
    }
    return input_at(p, image, channel, u32(y), u32(x));
}
