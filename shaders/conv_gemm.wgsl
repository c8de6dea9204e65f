// Convolution as a tiled GEMM, the shared core of `conv_kxk.wgsl` and `conv_1x1.wgsl`.
//
// Composed with exactly one of those files, which supplies `load_input(k, n)`: the element of the
// implicit im2col matrix B at reduction index k and output column n (0 outside the image: that is
// the padding).
//
// GEMM view:  out[m][n] = relu?(bias[m] + sum_k weight[m][k] * B[k][n])
//   m = output channel              (M = out_channels)
//   n = (image, output row, column) (N = batch * out_h * out_w)
//   k = (input channel, ky, kx)     (K = in_channels * kernel_h * kernel_w)
//
// Bindings: 0 params (uniform ConvParams), 1 input (NCHW, in_c_total channels, of which the
// in_channels from in_c_offset are read), 2 weight ([out_channels][K]), 3 bias ([out_channels]),
// 4 output (NCHW, out_c_total channels; only channels out_c_offset .. out_c_offset + out_channels
// are written, so concat branches write their own slice of one buffer).
//
// Tiling: a workgroup computes a 64x64 tile of out (64 channels x 64 pixels), stepping through K
// 16 at a time with both operand tiles in workgroup memory. Each of its 16x16 threads holds a 4x4
// register block: rows ty + 16*i and columns tx + 16*j, so neighbouring threads touch neighbouring
// addresses in workgroup memory and in the output.

struct ConvParams {
    batch: u32,
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
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: ConvParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 256u;
const BLOCK: u32 = 4u;

var<workgroup> tile_w: array<f32, 1024>; // [TILE_K][TILE_M]
var<workgroup> tile_x: array<f32, 1024>; // [TILE_K][TILE_N]

fn reduction_len() -> u32 {
    return params.in_channels * params.kernel_h * params.kernel_w;
}

fn column_count() -> u32 {
    return params.batch * params.out_h * params.out_w;
}

// Input element (image, channel, y, x) inside the channel slice that this conv reads.
fn input_at(image: u32, channel: u32, y: u32, x: u32) -> f32 {
    let plane = image * params.in_c_total + params.in_c_offset + channel;
    return input[(plane * params.in_h + y) * params.in_w + x];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let m0 = wid.y * TILE_M;
    let n0 = wid.x * TILE_N;
    let tid = lid.y * 16u + lid.x;
    let k_len = reduction_len();
    let n_len = column_count();

    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < k_len; k0 += TILE_K) {
        for (var i = 0u; i < TILE_K * TILE_M / THREADS; i++) {
            let e = tid + i * THREADS;
            // Weights: consecutive threads read consecutive k of one row.
            let m = m0 + e / TILE_K;
            let k = k0 + e % TILE_K;
            var w = 0.0;
            if (m < params.out_channels && k < k_len) {
                w = weight[m * k_len + k];
            }
            tile_w[(e % TILE_K) * TILE_M + e / TILE_K] = w;
            // Input: consecutive threads read consecutive output pixels.
            let kx = k0 + e / TILE_N;
            let n = n0 + e % TILE_N;
            var x = 0.0;
            if (kx < k_len && n < n_len) {
                x = load_input(kx, n);
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

    let pixels = params.out_h * params.out_w;
    for (var i = 0u; i < BLOCK; i++) {
        let m = m0 + lid.y + 16u * i;
        if (m >= params.out_channels) {
            continue;
        }
        for (var j = 0u; j < BLOCK; j++) {
            let n = n0 + lid.x + 16u * j;
            if (n >= n_len) {
                continue;
            }
            var v = acc[i * BLOCK + j] + bias[m];
            if (params.relu != 0u) {
                v = max(v, 0.0);
            }
            let image = n / pixels;
            let plane = image * params.out_c_total + params.out_c_offset + m;
            output[plane * pixels + n % pixels] = v;
        }
    }
}
