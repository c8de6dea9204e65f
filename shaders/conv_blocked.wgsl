// Conv core for CPU-like adapters such as lavapipe and SwiftShader, which run a workgroup's
// invocations as SIMD vectors and turn every storage load into a loop over the lanes, even when
// all lanes read one address: so few loads per multiply-add, and no workgroup memory or
// barriers. Composed after `conv_common.wgsl`, before how the lanes get their weights
// (`conv_subgroup.wgsl` or `conv_blocked_plain.wgsl`, which also hold the entry point) and a
// loader.
//
// A workgroup of LANES invocations computes 16 output channels x 4 * LANES columns; invocation
// `lane` keeps 16 channels x 4 consecutive columns (a quad: 4 * lane .. 4 * lane + 3) in
// registers. K is walked LANES at a time: `lane_weights` is what a lane loads once per step of
// LANES (the 16 channels' weights at k0 + lane, 4 vec4s packed on the host, where lanes share
// them through a subgroup), and `step_weights` gives step j's weights. The inputs are the only
// per-column loads, each used for 16 multiply-adds. A row of workgroups is 16 channels.
//
// The accumulators are four matrices, not a struct of them: naga decorates struct members with
// explicit layouts, which Vulkan forbids on function variables (VUID-StandaloneSpirv-None-10684;
// https://github.com/gfx-rs/wgpu/issues/7696).

override LANES: u32 = 8u;
const ROWS: u32 = 16u;
const COLUMNS_PER_LANE: u32 = 4u;
// The host pads K to a multiple of the widest subgroup, so every width reads whole steps.
const K_ALIGN: u32 = 64u;

// Weights packed on the host: per problem, per block of 16 output channels, per k of the
// problem's part of the reduction (k_begin .. k_end, its length padded to a multiple of K_ALIGN),
// the block's 16 weights as 4 vec4s; zero past the last channel and past k_end.
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;

// Weights of channels m0 .. m0 + 15 (a block) at reduction index k.
fn weights(p: u32, m0: u32, k: u32) -> mat4x4<f32> {
    let q = params.problems[p];
    let k_padded = (q.k_end - q.k_begin + K_ALIGN - 1u) / K_ALIGN * K_ALIGN;
    let at = q.weight_offset + (m0 / ROWS * k_padded + k - q.k_begin) * 4u;
    return mat4x4(weight[at], weight[at + 1u], weight[at + 2u], weight[at + 3u]);
}

// The biases of channels m0 .. m0 + 15 (matrix column i holds channels 4i .. 4i + 3; past the
// last channel: 0).
fn bias_block(p: u32, m0: u32) -> mat4x4<f32> {
    let q = params.problems[p];
    var b: mat4x4<f32>;
    for (var i = 0u; i < ROWS && m0 + i < q.out_channels; i++) {
        b[i / 4u][i % 4u] = bias[q.bias_offset + m0 + i];
    }
    return b;
}

// Stores column n of the block (already biased), with the problem's residual and ReLU.
fn store_column(p: u32, m0: u32, n: u32, values: mat4x4<f32>) {
    let q = params.problems[p];
    let pixels = q.out_h * q.out_w;
    if (n >= params.batch * pixels) {
        return;
    }
    let image = n / pixels;
    let first_plane = image * q.out_c_total + q.out_c_offset;
    for (var i = 0u; i < ROWS && m0 + i < q.out_channels; i++) {
        let v = finish(p, m0 + i, image, n % pixels, values[i / 4u][i % 4u]);
        store(p, (first_plane + m0 + i) * pixels + n % pixels, v);
    }
}

// The 16 channels from m0 at the lane's quad, summed over the problem's k, stored with their
// biases.
// `pooled` is a constant at each call, so each call gets a loop without a branch per load.
fn accumulate_and_store(p: u32, m0: u32, lane: u32, n: u32, quad: Quad, pooled: bool) {
    let q = params.problems[p];
    // Column c of the quad: 16 channels.
    var c0: mat4x4<f32>;
    var c1: mat4x4<f32>;
    var c2: mat4x4<f32>;
    var c3: mat4x4<f32>;
    var tap = first_tap(p, q.k_begin);
    for (var k0 = q.k_begin; k0 < q.k_end; k0 += LANES) {
        let w = lane_weights(p, m0, k0, lane);
        for (var j = 0u; j < LANES; j++) {
            let wj = step_weights(p, m0, k0, j, w);
            // Past the end of k the inputs count as 0 (the padded weights are 0 too).
            let x = select(vec4(0.0), load_quad(p, quad, tap, pooled), k0 + j < q.k_end);
            c0 += wj * x.x;
            c1 += wj * x.y;
            c2 += wj * x.z;
            c3 += wj * x.w;
            tap = next_tap(p, tap);
        }
    }
    let b = bias_block(p, m0);
    store_column(p, m0, n, c0 + b);
    store_column(p, m0, n + 1u, c1 + b);
    store_column(p, m0, n + 2u, c2 + b);
    store_column(p, m0, n + 3u, c3 + b);
}

// Workgroup `wid`'s invocation `lane`: its quad of every problem's block.
fn run(wid: vec3<u32>, lane: u32) {
    let p = problem_of(wid.y);
    let q = params.problems[p];
    let m0 = (wid.y - q.first_tile) * ROWS;
    let last = params.batch * q.out_h * q.out_w - 1u;
    let n = (wid.x * LANES + lane) * COLUMNS_PER_LANE;
    // Columns past the last one compute a copy of it (subgroup operations need every lane) and
    // store nothing.
    let quad = quad_of(p, n, last);
    if (q.pool_input != 0u) {
        accumulate_and_store(p, m0, lane, n, quad, true);
    } else {
        accumulate_and_store(p, m0, lane, n, quad, false);
    }
}
