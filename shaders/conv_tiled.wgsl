// Conv core for GPUs: a tiled GEMM with both operand tiles in workgroup memory. Composed after
// `conv_common.wgsl` (params, bindings) and before a loader (`load_input`).
//
// A workgroup computes a TILE_M x TILE_N tile of out (channels x pixels: 64x64 by default; the
// pipeline may set 32x32 or 16x64, for dispatches too small to fill a GPU with 64x64 tiles),
// stepping through K 16 at a time with both operand tiles in workgroup memory. Each of its 16x16
// threads holds a (TILE_M / 16) x (TILE_N / 16) register block: rows ty + 16*i and columns
// tx + 16*j, so neighbouring threads touch neighbouring addresses in workgroup memory and in the
// output. A row of workgroups is TILE_M output channels.

// Weights as [M][k_end - k_begin] per problem: f32 words, or with F16_WEIGHTS f16 pairs
// (weight i in the low half of word i / 2 when i is even, else the high half).
@group(0) @binding(2) var<storage, read> weight: array<u32>;
override F16_WEIGHTS: bool = false;

// The f16 in the low 16 bits of `h` (higher bits ignored), exactly, as f32. Not
// `unpack2x16float`: naga grants that only where the adapter offers f16-in-f32 packing, which
// downlevel (GL) adapters may not. Weights are never infinite or NaN (the plan refuses those),
// so there are normal numbers, subnormals and zeros only.
fn f16_to_f32(h: u32) -> f32 {
    let exponent = (h >> 10u) & 0x1fu;
    let mantissa = h & 0x3ffu;
    let normal = bitcast<f32>(((exponent + 112u) << 23u) | (mantissa << 13u));
    let magnitude = select(ldexp(f32(mantissa), -24), normal, exponent != 0u);
    return bitcast<f32>(bitcast<u32>(magnitude) | ((h & 0x8000u) << 16u));
}

fn weight_at(i: u32) -> f32 {
    if (F16_WEIGHTS) {
        return f16_to_f32(weight[i / 2u] >> (16u * (i % 2u)));
    }
    return bitcast<f32>(weight[i]);
}

override TILE_M: u32 = 64u;
override TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 256u;

// Sized for the largest tiles (64 x TILE_K); smaller tiles use the front of each.
var<workgroup> tile_w: array<f32, 1024>; // [TILE_K][TILE_M]
var<workgroup> tile_x: array<f32, 1024>; // [TILE_K][TILE_N]

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
    // This problem's part of the reduction (all of it unless the conv is split along K).
    let k_len = q.k_end - q.k_begin;

    // A matrix and vectors rather than arrays: naga decorates array types with ArrayStride,
    // which Vulkan forbids on function variables (VUID-StandaloneSpirv-None-10684,
    // https://github.com/gfx-rs/wgpu/issues/7696), and NVIDIA's compiler has been seen to crash on.
    var acc: mat4x4<f32>;
    let block_m = TILE_M / 16u;
    let block_n = TILE_N / 16u;
    for (var k0 = q.k_begin; k0 < q.k_end; k0 += TILE_K) {
        for (var i = 0u; i < TILE_K * TILE_M / THREADS; i++) {
            let e = tid + i * THREADS;
            // Weights: consecutive threads read consecutive k of one row.
            let m = m0 + e / TILE_K;
            let k = k0 + e % TILE_K;
            var w = 0.0;
            if (m < q.out_channels && k < q.k_end) {
                w = weight_at(q.weight_offset + m * k_len + k - q.k_begin);
            }
            tile_w[(e % TILE_K) * TILE_M + e / TILE_K] = w;
        }
        for (var i = 0u; i < TILE_K * TILE_N / THREADS; i++) {
            let e = tid + i * THREADS;
            // Input: consecutive threads read consecutive output pixels.
            let kx = k0 + e / TILE_N;
            let n = n0 + e % TILE_N;
            var x = 0.0;
            if (kx < q.k_end && n < n_len) {
                x = load_input(p, kx, n);
            }
            tile_x[e] = x;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            var a: vec4<f32>;
            var b: vec4<f32>;
            for (var i = 0u; i < block_m; i++) {
                a[i] = tile_w[kk * TILE_M + lid.y + 16u * i];
            }
            for (var j = 0u; j < block_n; j++) {
                b[j] = tile_x[kk * TILE_N + lid.x + 16u * j];
            }
            for (var i = 0u; i < block_m; i++) {
                for (var j = 0u; j < block_n; j++) {
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
                }
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < block_m; i++) {
        let m = m0 + lid.y + 16u * i;
        if (m >= q.out_channels) {
            continue;
        }
        for (var j = 0u; j < block_n; j++) {
            let n = n0 + lid.x + 16u * j;
            if (n >= n_len) {
                continue;
            }
            let image = n / pixels;
            let v = finish(p, m, image, n % pixels, acc[i][j] + bias[q.bias_offset + m]);
            let plane = image * q.out_c_total + q.out_c_offset + m;
            store(p, plane * pixels + n % pixels, v);
        }
    }
}
