// Loader for 1x1 pointwise convolution: a plain GEMM of weights [out_channels][in_channels] by
// the input's [in_channels][pixels] planes; composed after `conv_common.wgsl` and a core
// (`conv_tiled.wgsl` or `conv_direct.wgsl`). Kernel 1x1, stride 1, no padding, output size =
// input size.
//
// load_input(p, k, n): k = input channel, n = (image, pixel). With pool_input set, the element
// is the maximum of its 3x3 neighbourhood clipped to the image (a stride-1, pad-1 max pool whose
// pads never win), so the inception pool branch needs neither its own dispatch nor its buffer.

fn load_input(p: u32, k: u32, n: u32) -> f32 {
    let q = params.problems[p];
    let pixels = q.in_h * q.in_w;
    let image = n / pixels;
    let y = (n % pixels) / q.in_w;
    let x = n % q.in_w;
    if (q.pool_input == 0u) {
        return input_at(p, image, k, y, x);
    }
    var best = -3.40282347e38;
    for (var yy = max(y, 1u) - 1u; yy <= min(y + 1u, q.in_h - 1u); yy++) {
        for (var xx = max(x, 1u) - 1u; xx <= min(x + 1u, q.in_w - 1u); xx++) {
            best = max(best, input_at(p, image, k, yy, xx));
        }
    }
    return best;
}
