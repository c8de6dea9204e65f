// Loader for 1x1 pointwise convolution: a plain GEMM of weights [out_channels][in_channels] by
// the input's [in_channels][pixels] planes; composed after `conv_common.wgsl` and a core.
// Kernel 1x1, stride 1, no padding, output size = input size.
//
// k = input channel, n = (image, pixel). A column is its pixel in the slice's first channel; a
// tap is one plane further per channel. With pool_input set, the element is a 3x3, stride-1,
// pad-1 pool of its neighbourhood: the maximum of the taps inside the image (pads never win), or
// their sum divided by their count or by 9 (count_include_pad), summed in the order of
// `Pool2d`'s reference. So an inception pool branch needs neither its own dispatch nor its
// buffer. Pipelines for groups without a pooled input set POOLED_INPUT to false: the pooling
// loop, inlined into every load, is then dead code, and a driver that compiles on the CPU
// compiles the kernel 3x faster.

override POOLED_INPUT: bool = true;

fn column_of(p: u32, n: u32) -> Column {
    let q = params.problems[p];
    let pixels = q.in_h * q.in_w;
    let image = n / pixels;
    let pixel = n % pixels;
    let first_plane = image * q.in_c_total + q.in_c_offset;
    return Column(i32(first_plane * pixels + pixel), i32(pixel / q.in_w), i32(pixel % q.in_w));
}

fn first_tap(p: u32, k: u32) -> Tap {
    let q = params.problems[p];
    return Tap(k * q.in_h * q.in_w, 0u, 0u);
}

fn next_tap(p: u32, tap: Tap) -> Tap {
    let q = params.problems[p];
    return Tap(tap.x + q.in_h * q.in_w, 0u, 0u);
}

fn load_tap(p: u32, column: Column, tap: Tap, pooled: bool) -> f32 {
    let at = column.base + i32(tap.x);
    if (!POOLED_INPUT || !pooled) {
        return input_at(at);
    }
    let q = params.problems[p];
    let h = i32(q.in_h);
    let w = i32(q.in_w);
    // One loop for every kind (the choice is uniform per problem): it is inlined into every load.
    var best = -3.4028234663852886e38;
    var sum = 0.0;
    var taps = 0.0;
    for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
            let y = column.y + dy;
            let x = column.x + dx;
            if (y >= 0 && y < h && x >= 0 && x < w) {
                let v = input_at(at + dy * w + dx);
                best = max(best, v);
                sum += v;
                taps += 1.0;
            }
        }
    }
    if (q.pool_input == 1u) {
        return best;
    }
    return sum / select(taps, 9.0, q.pool_input == 3u);
}
