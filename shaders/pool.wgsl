// Max and average pooling, kxk window, stride, per-side padding (NCHW, batch >= 1).
//
// Bindings: 0 params (uniform PoolParams), 1 input (in_c_total channels, of which `channels` from
// in_c_offset are read), 2 output (out_c_total channels; only channels out_c_offset ..
// out_c_offset + channels are written).
// One thread computes one output element (image, channel, oy, ox). The launcher picks out_h/out_w
// (floor or ceil mode) so that every window starts inside the image or its top/left padding.
//
// max_pool: padding never wins: only in-image elements are compared.
// avg_pool: ONNX semantics. count_include_pad = 1 divides by the part of the window that lies in
// the padded image (image plus all four pads; the extra ceil-mode overhang is not counted);
// count_include_pad = 0 divides by the in-image elements only.
// adaptive = 1 (average only): window i covers [floor(i * in / out), ceil((i + 1) * in / out))
// along each axis, as PyTorch's adaptive pooling; kernel, stride and pads are then unused.

struct PoolParams {
    batch: u32,
    channels: u32,
    in_h: u32,
    in_w: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_h: u32,
    out_w: u32,
    out_c_offset: u32,
    out_c_total: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    pad_bottom: u32,
    pad_right: u32,
    count_include_pad: u32,
    adaptive: u32,
}

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

// One pooling window: its corner in padded coordinates and its clip to the image.
struct Window {
    image: u32,
    channel: u32,
    out_index: u32,
    y0: i32,
    x0: i32,
    y_begin: u32,
    y_end: u32,
    x_begin: u32,
    x_end: u32,
}

// Decodes a flat thread index into its window; false when the index is past the output.
fn window_of(gid: vec3<u32>, groups: vec3<u32>, w: ptr<function, Window>) -> bool {
    let index = gid.x + gid.y * groups.x * 256u;
    let pixels = params.out_h * params.out_w;
    if (index >= params.batch * params.channels * pixels) {
        return false;
    }
    let p = index % pixels;
    let plane = index / pixels;
    (*w).image = plane / params.channels;
    (*w).channel = plane % params.channels;
    let oy = p / params.out_w;
    let ox = p % params.out_w;
    (*w).out_index = ((*w).image * params.out_c_total + params.out_c_offset + (*w).channel) * pixels + p;
    (*w).y0 = i32(oy * params.stride_h) - i32(params.pad_top);
    (*w).x0 = i32(ox * params.stride_w) - i32(params.pad_left);
    if (params.adaptive != 0u) {
        (*w).y0 = i32(oy * params.in_h / params.out_h);
        (*w).x0 = i32(ox * params.in_w / params.out_w);
        (*w).y_begin = u32((*w).y0);
        (*w).x_begin = u32((*w).x0);
        (*w).y_end = ((oy + 1u) * params.in_h + params.out_h - 1u) / params.out_h;
        (*w).x_end = ((ox + 1u) * params.in_w + params.out_w - 1u) / params.out_w;
        return true;
    }
    (*w).y_begin = u32(max((*w).y0, 0));
    (*w).x_begin = u32(max((*w).x0, 0));
    (*w).y_end = u32(clamp((*w).y0 + i32(params.kernel_h), 0, i32(params.in_h)));
    (*w).x_end = u32(clamp((*w).x0 + i32(params.kernel_w), 0, i32(params.in_w)));
    return true;
}

fn input_row(w: Window, y: u32) -> u32 {
    let plane = w.image * params.in_c_total + params.in_c_offset + w.channel;
    return (plane * params.in_h + y) * params.in_w;
}

@compute @workgroup_size(256)
fn max_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    var w: Window;
    if (!window_of(gid, groups, &w)) {
        return;
    }
    var best = -3.40282347e38;
    for (var y = w.y_begin; y < w.y_end; y++) {
        let row = input_row(w, y);
        for (var x = w.x_begin; x < w.x_end; x++) {
            best = max(best, input[row + x]);
        }
    }
    output[w.out_index] = best;
}

@compute @workgroup_size(256)
fn avg_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    var w: Window;
    if (!window_of(gid, groups, &w)) {
        return;
    }
    var sum = 0.0;
    for (var y = w.y_begin; y < w.y_end; y++) {
        let row = input_row(w, y);
        for (var x = w.x_begin; x < w.x_end; x++) {
            sum += input[row + x];
        }
    }
    var count = f32((w.y_end - w.y_begin) * (w.x_end - w.x_begin));
    if (params.count_include_pad != 0u) {
        let padded_h = i32(params.in_h + params.pad_bottom);
        let padded_w = i32(params.in_w + params.pad_right);
        let rows = min(w.y0 + i32(params.kernel_h), padded_h) - w.y0;
        let cols = min(w.x0 + i32(params.kernel_w), padded_w) - w.x0;
        count = f32(rows * cols);
    }
    output[w.out_index] = sum / count;
}
