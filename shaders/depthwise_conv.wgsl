// Depthwise convolution (NCHW, batch >= 1): output channel o convolves input channel
// o / multiplier with its own kernel_h x kernel_w window, any size and stride, zero padding per
// side (ONNX Conv); then the bias and an optional ReLU.
//
// Bindings: 0 params (uniform DepthwiseParams), 1 input (in_c_total channels, the op's from
// in_c_offset), 2 weight ([out_channels][kernel_h][kernel_w]), 3 bias ([out_channels]),
// 4 output (out_c_total channels; only out_c_offset .. out_c_offset + out_channels written).
// The launcher sizes out_h/out_w (floor mode) and keeps every coordinate within i32.
//
// One invocation computes COLUMNS neighbouring outputs of one row of one output channel
// (invocations numbered columns fastest, then rows, channels, images), reading each input
// column its windows share once: lane j's tap kx reads column x0 + j * stride_w + kx, so over
// the taps kx = r, r + stride_w, r + 2 stride_w, ... (one residue r modulo the stride) the four
// lanes slide along the columns x0 + r + m * stride_w, m = 0, 1, ...: one new column per tap.
// Rows of the window outside the image are skipped; columns outside it read as zero.

struct DepthwiseParams {
    batch: u32,
    out_channels: u32,
    multiplier: u32,
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
    relu: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: DepthwiseParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

const COLUMNS: u32 = 4u;

// Column x of the input row that starts at `row`; zero where x lies in the padding.
fn input_at(row: u32, x: i32) -> f32 {
    let value = input[row + u32(clamp(x, 0, i32(params.in_w) - 1))];
    return select(0.0, value, x >= 0 && x < i32(params.in_w));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = gid.x + gid.y * groups.x * 64u;
    let blocks_w = (params.out_w + COLUMNS - 1u) / COLUMNS;
    if (index >= params.batch * params.out_channels * params.out_h * blocks_w) {
        return;
    }
    let ox = index % blocks_w * COLUMNS;
    let oy = index / blocks_w % params.out_h;
    let plane = index / blocks_w / params.out_h;
    let image = plane / params.out_channels;
    let o = plane % params.out_channels;
    let in_plane = image * params.in_c_total + params.in_c_offset + o / params.multiplier;

    // The window's corner in the image (negative inside the top/left padding), and the rows of
    // the window that lie inside the image.
    let y0 = i32(oy * params.stride_h) - i32(params.pad_top);
    let x0 = i32(ox * params.stride_w) - i32(params.pad_left);
    let ky_begin = u32(max(-y0, 0));
    let ky_end = u32(clamp(i32(params.in_h) - y0, 0, i32(params.kernel_h)));
    let stride = i32(params.stride_w);
    var sum = vec4(bias[o]);
    for (var ky = ky_begin; ky < ky_end; ky++) {
        let row = (in_plane * params.in_h + u32(y0 + i32(ky))) * params.in_w;
        let taps = (o * params.kernel_h + ky) * params.kernel_w;
        for (var r = 0u; r < min(params.stride_w, params.kernel_w); r++) {
            // Lanes 1 to 3's first columns; each tap shifts in lane 3's next one.
            let first = x0 + i32(r);
            var window = vec4(0.0, input_at(row, first), input_at(row, first + stride), input_at(row, first + 2 * stride));
            var next = first + 3 * stride;
            for (var kx = r; kx < params.kernel_w; kx += params.stride_w) {
                window = vec4(window.yzw, input_at(row, next));
                next += stride;
                sum += weight[taps + kx] * window;
            }
        }
    }
    if (params.relu != 0u) {
        sum = max(sum, vec4(0.0));
    }
    let out_row = ((image * params.out_c_total + params.out_c_offset + o) * params.out_h + oy) * params.out_w;
    for (var j = 0u; j < COLUMNS; j++) {
        if (ox + j < params.out_w) {
            output[out_row + ox + j] = sum[j];
        }
    }
}
