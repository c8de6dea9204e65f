// Max and average pooling, kxk window, stride, per-side padding (NCHW, batch >= 1).
//
// Bindings: 0 params (uniform PoolParams), 1 input (in_c_total channels, of which `channels` from
// in_c_offset are read), 2 output (out_c_total channels; only channels out_c_offset ..
// out_c_offset + channels are written).
// One thread computes a 2x2 block of outputs of one channel (see Block). The launcher picks
// out_h/out_w (floor or ceil mode) so that every window starts inside the image or its top/left
// padding.
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
    y0: i32,
    x0: i32,
    y_begin: u32,
    y_end: u32,
    x_begin: u32,
    x_end: u32,
}

// Windows and blocks are values, never `var`s: naga decorates struct members and arrays with
// explicit layouts, which Vulkan forbids on function variables
// (VUID-StandaloneSpirv-None-10684; https://github.com/gfx-rs/wgpu/issues/7696).
fn window_at(oy: u32, ox: u32) -> Window {
    if (params.adaptive != 0u) {
        let y0 = oy * params.in_h / params.out_h;
        let x0 = ox * params.in_w / params.out_w;
        let y_end = ((oy + 1u) * params.in_h + params.out_h - 1u) / params.out_h;
        let x_end = ((ox + 1u) * params.in_w + params.out_w - 1u) / params.out_w;
        return Window(i32(y0), i32(x0), y0, y_end, x0, x_end);
    }
    let y0 = i32(oy * params.stride_h) - i32(params.pad_top);
    let x0 = i32(ox * params.stride_w) - i32(params.pad_left);
    let y_end = u32(clamp(y0 + i32(params.kernel_h), 0, i32(params.in_h)));
    let x_end = u32(clamp(x0 + i32(params.kernel_w), 0, i32(params.in_w)));
    return Window(y0, x0, u32(max(y0, 0)), y_end, u32(max(x0, 0)), x_end);
}

// A thread's 2x2 block of outputs (rows oy, oy + 1, columns ox, ox + 1 of one channel of one
// image): their windows, and the union of those it reads, each input once. Neighbouring windows
// overlap (stride < kernel), so a block reads far fewer inputs than its four windows do.
struct Block {
    plane: u32,
    out_plane: u32,
    oy: u32,
    ox: u32,
    // Windows of (oy, ox), (oy, ox + 1), (oy + 1, ox), (oy + 1, ox + 1).
    w0: Window,
    w1: Window,
    w2: Window,
    w3: Window,
}

// How many blocks the output has, and the block of a flat thread index (below that count).
fn block_count() -> u32 {
    return params.batch * params.channels * ((params.out_h + 1u) / 2u) * ((params.out_w + 1u) / 2u);
}

fn block_of(index: u32) -> Block {
    let blocks_w = (params.out_w + 1u) / 2u;
    let blocks = (params.out_h + 1u) / 2u * blocks_w;
    let plane = index / blocks;
    let image = plane / params.channels;
    let channel = plane % params.channels;
    let oy = index % blocks / blocks_w * 2u;
    let ox = index % blocks_w * 2u;
    return Block(
        image * params.in_c_total + params.in_c_offset + channel,
        image * params.out_c_total + params.out_c_offset + channel,
        oy,
        ox,
        window_at(oy, ox),
        window_at(oy, ox + 1u),
        window_at(oy + 1u, ox),
        window_at(oy + 1u, ox + 1u),
    );
}

// Window i of the block (0 to 3, in the order above).
fn window(b: Block, i: u32) -> Window {
    if (i == 0u) {
        return b.w0;
    }
    if (i == 1u) {
        return b.w1;
    }
    if (i == 2u) {
        return b.w2;
    }
    return b.w3;
}

fn holds(w: Window, y: u32, x: u32) -> bool {
    return y >= w.y_begin && y < w.y_end && x >= w.x_begin && x < w.x_end;
}

// Which of the block's four windows hold input (y, x).
fn holders(b: Block, y: u32, x: u32) -> vec4<bool> {
    return vec4(holds(b.w0, y, x), holds(b.w1, y, x), holds(b.w2, y, x), holds(b.w3, y, x));
}

// The end of the rows and of the columns the block reads (a window of an output past the
// last one may reach past the image; nothing there is read).
fn rows_end(b: Block) -> u32 {
    return min(max(b.w0.y_end, b.w2.y_end), params.in_h);
}

fn columns_end(b: Block) -> u32 {
    return min(max(b.w0.x_end, b.w1.x_end), params.in_w);
}

fn input_row(b: Block, y: u32) -> u32 {
    return (b.plane * params.in_h + y) * params.in_w;
}

// Writes the block's outputs that lie inside the output.
fn store_block(b: Block, values: vec4<f32>) {
    for (var i = 0u; i < 4u; i++) {
        let oy = b.oy + i / 2u;
        let ox = b.ox + i % 2u;
        if (oy < params.out_h && ox < params.out_w) {
            output[(b.out_plane * params.out_h + oy) * params.out_w + ox] = values[i];
        }
    }
}

@compute @workgroup_size(256)
fn max_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = gid.x + gid.y * groups.x * 256u;
    if (index >= block_count()) {
        return;
    }
    let b = block_of(index);
    var best = vec4(-3.4028234663852886e38);
    for (var y = b.w0.y_begin; y < rows_end(b); y++) {
        let row = input_row(b, y);
        for (var x = b.w0.x_begin; x < columns_end(b); x++) {
            best = select(best, max(best, vec4(input[row + x])), holders(b, y, x));
        }
    }
    store_block(b, best);
}

@compute @workgroup_size(256)
fn avg_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = gid.x + gid.y * groups.x * 256u;
    if (index >= block_count()) {
        return;
    }
    let b = block_of(index);
    var sum = vec4(0.0);
    for (var y = b.w0.y_begin; y < rows_end(b); y++) {
        let row = input_row(b, y);
        for (var x = b.w0.x_begin; x < columns_end(b); x++) {
            sum += select(vec4(0.0), vec4(input[row + x]), holders(b, y, x));
        }
    }
    var count: vec4<f32>;
    for (var i = 0u; i < 4u; i++) {
        let w = window(b, i);
        count[i] = f32((w.y_end - w.y_begin) * (w.x_end - w.x_begin));
        if (params.count_include_pad != 0u) {
            let padded_h = i32(params.in_h + params.pad_bottom);
            let padded_w = i32(params.in_w + params.pad_right);
            let rows = min(w.y0 + i32(params.kernel_h), padded_h) - w.y0;
            let cols = min(w.x0 + i32(params.kernel_w), padded_w) - w.x0;
            count[i] = f32(rows * cols);
        }
    }
    store_block(b, sum / count);
}
