// Convolution as a tiled GEMM, the shared core of `conv_kxk.wgsl` and `conv_1x1.wgsl`.
//
// One dispatch computes up to four independent convolutions ("problems") that read the same
// input buffer: the branches of an inception module run as one dispatch, with no barrier between
// them. Each workgroup finds its problem from its row of tiles (problems[p].first_tile), so the
// branch choice is uniform across the workgroup.
//
// Composed with exactly one of `conv_kxk.wgsl` / `conv_1x1.wgsl`, which supplies
// `load_input(p, k, n)`: element (k, n) of problem p's implicit im2col matrix B (0 outside the
// image: that is the padding).
//
// GEMM view of problem p:  out[m][n] = relu?(bias[m] + sum_k weight[m][k] * B[k][n])
//   m = output channel              (M = out_channels)
//   n = (image, output row, column) (N = batch * out_h * out_w)
//   k = (input channel, ky, kx)     (K = in_channels * kernel_h * kernel_w)
//
// Bindings: 0 params (uniform ConvGroupParams), 1 input (NCHW; problem p reads in_channels from
// in_c_offset of in_c_total), 2 weight (problem p's [M][K] at weight_offset), 3 bias (problem p's
// [M] at bias_offset), 4 and 5 the two output buffers (problem p writes output `output_slot`,
// channels out_c_offset .. out_c_offset + M of out_c_total: a slice of a concat buffer).
//
// Tiling: a workgroup computes a 64x64 tile of out (64 channels x 64 pixels), stepping through K
// 16 at a time with both operand tiles in workgroup memory. Each of its 16x16 threads holds a 4x4
// register block: rows ty + 16*i and columns tx + 16*j, so neighbouring threads touch neighbouring
// addresses in workgroup memory and in the output.

struct ConvProblem {
    in_channels: u32,
    in_h: u32,
    in_w: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_channels: u32,
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
    // 1: the input is first max-pooled 3x3, stride 1, pad 1 (the inception pool branch).
    pool_input: u32,
    weight_offset: u32,
    bias_offset: u32,
    output_slot: u32,
    first_tile: u32,
    _pad0: u32,
    _pad1: u32,
}

struct ConvGroupParams {
    batch: u32,
    problem_count: u32,
    _pad0: u32,
    _pad1: u32,
    problems: array<ConvProblem, 4>,
}

@group(0) @binding(0) var<uniform> params: ConvGroupParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output0: array<f32>;
@group(0) @binding(5) var<storage, read_write> output1: array<f32>;

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 256u;
const BLOCK: u32 = 4u;

var<workgroup> tile_w: array<f32, 1024>; // [TILE_K][TILE_M]
var<workgroup> tile_x: array<f32, 1024>; // [TILE_K][TILE_N]

// Input element (image, channel, y, x) inside the channel slice that problem p reads.
fn input_at(p: u32, image: u32, channel: u32, y: u32, x: u32) -> f32 {
    let q = params.problems[p];
    let plane = image * q.in_c_total + q.in_c_offset + channel;
    return input[(plane * q.in_h + y) * q.in_w + x];
}

fn store(p: u32, index: u32, value: f32) {
    if (params.problems[p].output_slot == 0u) {
        output0[index] = value;
    } else {
        output1[index] = value;
    }
}

// The problem whose rows of tiles include tile row `tile`.
fn problem_of(tile: u32) -> u32 {
    var p = 0u;
    for (var i = 1u; i < params.problem_count; i++) {
        if (tile >= params.problems[i].first_tile) {
            p = i;
        }
    }
    return p;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = problem_of(wid.y);
    let q = params.problems[p];
    let m0 = (wid.y - q.first_tile) * TILE_M;
    let n0 = wid.x * TILE_N;
    let pixels = q.out_h * q.out_w;
    let n_len = params.batch * pixels;
    // Problems of different sizes share the grid: a tile past this problem's columns is idle.
    // (Uniform across the workgroup, so the barriers below stay in uniform control flow.)
    if (n0 >= n_len) {
        return;
    }
    let tid = lid.y * 16u + lid.x;
    let k_len = q.in_channels * q.kernel_h * q.kernel_w;

    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < k_len; k0 += TILE_K) {
        for (var i = 0u; i < TILE_K * TILE_M / THREADS; i++) {
            let e = tid + i * THREADS;
            // Weights: consecutive threads read consecutive k of one row.
            let m = m0 + e / TILE_K;
            let k = k0 + e % TILE_K;
            var w = 0.0;
            if (m < q.out_channels && k < k_len) {
                w = weight[q.weight_offset + m * k_len + k];
            }
            tile_w[(e % TILE_K) * TILE_M + e / TILE_K] = w;
            // Input: consecutive threads read consecutive output pixels.
            let kx = k0 + e / TILE_N;
            let n = n0 + e % TILE_N;
            var x = 0.0;
            if (kx < k_len && n < n_len) {
                x = load_input(p, kx, n);
            }
            tile_x[e] = x;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            var a: array<f32, 4>;
            var b: array<f32, 4>;
            for (var i = 0u; i < BLOCK; i++) {
                a[i] = tile_w[kk * TILE_M + lid.y + 16u * i];
                b[i] = tile_x[kk * TILE_N + lid.x + 16u * i];
            }
            for (var i = 0u; i < BLOCK; i++) {
                for (var j = 0u; j < BLOCK; j++) {
                    acc[i * BLOCK + j] = fma(a[i], b[j], acc[i * BLOCK + j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < BLOCK; i++) {
        let m = m0 + lid.y + 16u * i;
        if (m >= q.out_channels) {
            continue;
        }
        for (var j = 0u; j < BLOCK; j++) {
            let n = n0 + lid.x + 16u * j;
            if (n >= n_len) {
                continue;
            }
            var v = acc[i * BLOCK + j] + bias[q.bias_offset + m];
            if (q.relu != 0u) {
                v = max(v, 0.0);
            }
            let image = n / pixels;
            let plane = image * q.out_c_total + q.out_c_offset + m;
            store(p, plane * pixels + n % pixels, v);
        }
    }
}
