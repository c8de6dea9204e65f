// Conv core for CPU-like adapters such as lavapipe, which runs 8 invocations as one SIMD vector
// and turns every storage load into a loop over the lanes, even when all lanes read one
// address: so few loads per multiply-add, and no workgroup memory. Composed after
// `conv_common.wgsl` and before a loader. Needs subgroups exactly 8 wide: a workgroup is one
// subgroup (the engine offers this core only on such adapters).
//
// A workgroup computes 16 output channels x 32 columns; invocation `lane` keeps 16 channels x 4
// consecutive columns (a quad: 4 * lane .. 4 * lane + 3) in registers. K is walked 8 at a time:
// each lane loads the 16 channels' weights at k0 + lane (4 vec4s, packed on the host), and step
// j takes lane j's with subgroupBroadcast, so a weight costs one load per 8 lanes instead of 8.
// The inputs are the only per-column loads, each used for 16 multiply-adds. A row of workgroups
// is 16 channels.

const ROWS: u32 = 16u;
const LANES: u32 = 8u;
const COLUMNS_PER_LANE: u32 = 4u;

// 16 channels (matrix column i holds channels 4i .. 4i + 3) at each column of a lane's quad.
struct Block {
    c0: mat4x4<f32>,
    c1: mat4x4<f32>,
    c2: mat4x4<f32>,
    c3: mat4x4<f32>,
}

// Weights packed on the host: per problem, per block of 16 output channels, per k (K padded to
// a multiple of 8), the block's 16 weights as 4 vec4s; zero past the last channel and past K.
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;

// Weights of channels m0 .. m0 + 15 (a block) at reduction index k.
fn weights(p: u32, m0: u32, k: u32) -> mat4x4<f32> {
    let q = params.problems[p];
    let k_padded = (q.in_channels * q.kernel_h * q.kernel_w + 7u) / 8u * 8u;
    let at = q.weight_offset + (m0 / ROWS * k_padded + k) * 4u;
    return mat4x4(weight[at], weight[at + 1u], weight[at + 2u], weight[at + 3u]);
}

// One step along k: acc += w (the 16 channels' weights) x the quad's inputs at `tap`, which then
// moves to the next k. Past the end (`live` false) the inputs count as 0.
fn step(p: u32, acc: ptr<function, Block>, tap: ptr<function, Tap>, quad: Quad, pooled: bool, live: bool, w: mat4x4<f32>) {
    let t = *tap;
    let x = select(vec4(0.0), load_quad(p, quad, t, pooled), live);
    (*acc).c0 += w * x.x;
    (*acc).c1 += w * x.y;
    (*acc).c2 += w * x.z;
    (*acc).c3 += w * x.w;
    *tap = next_tap(p, t);
}

// The biases of channels m0 .. m0 + 15, laid out as a Block column (past the last channel: 0).
fn bias_block(p: u32, m0: u32) -> mat4x4<f32> {
    let q = params.problems[p];
    var b: mat4x4<f32>;
    for (var i = 0u; i < ROWS && m0 + i < q.out_channels; i++) {
        b[i / 4u][i % 4u] = bias[q.bias_offset + m0 + i];
    }
    return b;
}

// Stores column n of the block (already biased), with the problem's ReLU.
fn store_column(p: u32, m0: u32, n: u32, values: mat4x4<f32>) {
    let q = params.problems[p];
    let pixels = q.out_h * q.out_w;
    if (n >= params.batch * pixels) {
        return;
    }
    let first_plane = n / pixels * q.out_c_total + q.out_c_offset;
    let relu = q.relu != 0u;
    for (var i = 0u; i < ROWS && m0 + i < q.out_channels; i++) {
        let v = values[i / 4u][i % 4u];
        store(p, (first_plane + m0 + i) * pixels + n % pixels, select(v, max(v, 0.0), relu));
    }
}

// The 16 channels from m0 at the lane's quad, summed over all of k.
fn accumulate(p: u32, m0: u32, lane: u32, quad: Quad, pooled: bool) -> Block {
    let q = params.problems[p];
    let k_len = q.in_channels * q.kernel_h * q.kernel_w;
    var acc: Block;
    var tap = first_tap(p, 0u);
    for (var k0 = 0u; k0 < k_len; k0 += LANES) {
        let w = weights(p, m0, k0 + lane);
        // subgroupBroadcast takes a constant lane, so the eight steps are spelled out.
        step(p, &acc, &tap, quad, pooled, k0 < k_len, mat4x4(subgroupBroadcast(w[0], 0u), subgroupBroadcast(w[1], 0u), subgroupBroadcast(w[2], 0u), subgroupBroadcast(w[3], 0u)));
        step(p, &acc, &tap, quad, pooled, k0 + 1u < k_len, mat4x4(subgroupBroadcast(w[0], 1u), subgroupBroadcast(w[1], 1u), subgroupBroadcast(w[2], 1u), subgroupBroadcast(w[3], 1u)));
        step(p, &acc, &tap, quad, pooled, k0 + 2u < k_len, mat4x4(subgroupBroadcast(w[0], 2u), subgroupBroadcast(w[1], 2u), subgroupBroadcast(w[2], 2u), subgroupBroadcast(w[3], 2u)));
        step(p, &acc, &tap, quad, pooled, k0 + 3u < k_len, mat4x4(subgroupBroadcast(w[0], 3u), subgroupBroadcast(w[1], 3u), subgroupBroadcast(w[2], 3u), subgroupBroadcast(w[3], 3u)));
        step(p, &acc, &tap, quad, pooled, k0 + 4u < k_len, mat4x4(subgroupBroadcast(w[0], 4u), subgroupBroadcast(w[1], 4u), subgroupBroadcast(w[2], 4u), subgroupBroadcast(w[3], 4u)));
        step(p, &acc, &tap, quad, pooled, k0 + 5u < k_len, mat4x4(subgroupBroadcast(w[0], 5u), subgroupBroadcast(w[1], 5u), subgroupBroadcast(w[2], 5u), subgroupBroadcast(w[3], 5u)));
        step(p, &acc, &tap, quad, pooled, k0 + 6u < k_len, mat4x4(subgroupBroadcast(w[0], 6u), subgroupBroadcast(w[1], 6u), subgroupBroadcast(w[2], 6u), subgroupBroadcast(w[3], 6u)));
        step(p, &acc, &tap, quad, pooled, k0 + 7u < k_len, mat4x4(subgroupBroadcast(w[0], 7u), subgroupBroadcast(w[1], 7u), subgroupBroadcast(w[2], 7u), subgroupBroadcast(w[3], 7u)));
    }
    return acc;
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let p = problem_of(wid.y);
    let q = params.problems[p];
    let m0 = (wid.y - q.first_tile) * ROWS;
    let last = params.batch * q.out_h * q.out_w - 1u;
    let n = (wid.x * LANES + lane) * COLUMNS_PER_LANE;
    // Columns past the last one compute a copy of it (subgroup operations need every lane) and
    // store nothing.
    let quad = quad_of(p, n, last);
    // Two calls with a constant flag: each gets a loop without a branch per load.
    var acc: Block;
    if (q.pool_input != 0u) {
        acc = accumulate(p, m0, lane, quad, true);
    } else {
        acc = accumulate(p, m0, lane, quad, false);
    }
    let b = bias_block(p, m0);
    store_column(p, m0, n, acc.c0 + b);
    store_column(p, m0, n + 1u, acc.c1 + b);
    store_column(p, m0, n + 2u, acc.c2 + b);
    store_column(p, m0, n + 3u, acc.c3 + b);
}
