// Loader for a kxk convolution (implicit im2col) with stride and per-side padding; composed
// after `conv_common.wgsl` and a core.
//
// k = (channel, ky, kx), n = (image, oy, ox) of problem p. A column is its window's top-left
// input pixel (oy * stride_h - pad_top, ox * stride_w - pad_left), which may lie in the padding;
// a tap adds (channel, ky, kx). Outside the image an element is padding and reads 0. Bottom and
// right pads need no parameter: they only make out_h / out_w larger.

fn column_of(p: u32, n: u32) -> Column {
    let q = params.problems[p];
    let pixels = q.out_h * q.out_w;
    let image = n / pixels;
    let y = i32((n % pixels) / q.out_w * q.stride_h) - i32(q.pad_top);
    let x = i32(n % q.out_w * q.stride_w) - i32(q.pad_left);
    let first_plane = image * q.in_c_total + q.in_c_offset;
    return Column(i32(first_plane * q.in_h * q.in_w) + y * i32(q.in_w) + x, y, x);
}

fn first_tap(p: u32, k: u32) -> Tap {
    let q = params.problems[p];
    let window = q.kernel_h * q.kernel_w;
    let channel = k / window;
    let ky = k % window / q.kernel_w;
    let kx = k % q.kernel_w;
    return Tap((channel * q.in_h + ky) * q.in_w + kx, ky, kx);
}

// The tap of k + 1: the next column of the window, else the next row, else the next channel.
fn next_tap(p: u32, tap: Tap) -> Tap {
    let q = params.problems[p];
    let row_end = tap.z + 1u == q.kernel_w;
    let window_end = row_end && tap.y + 1u == q.kernel_h;
    // Both steps are positive: a row's end moves on to the next row's start, a window's end to
    // the next channel's (the unsigned wrap-around of the subtractions cancels).
    let row_step = q.in_w - q.kernel_w + 1u;
    let channel_step = q.in_h * q.in_w - (q.kernel_h - 1u) * q.in_w - q.kernel_w + 1u;
    let offset = tap.x + select(select(1u, row_step, row_end), channel_step, window_end);
    let ky = select(select(tap.y, tap.y + 1u, row_end), 0u, window_end);
    return Tap(offset, ky, select(tap.z + 1u, 0u, row_end));
}

fn load_tap(p: u32, column: Column, tap: Tap, pooled: bool) -> f32 {
    let q = params.problems[p];
    let y = column.y + i32(tap.y);
    let x = column.x + i32(tap.z);
    if (y < 0 || x < 0 || y >= i32(q.in_h) || x >= i32(q.in_w)) {
        return 0.0;
    }
    return input_at(column.base + i32(tap.x));
}
