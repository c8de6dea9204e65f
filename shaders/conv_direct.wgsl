// Conv core for CPU-like adapters (e.g. lavapipe, which runs 8 invocations as one SIMD vector
// and turns every load whose address differs per lane into a scalar loop): no workgroup memory,
// no barriers. Composed after `conv_common.wgsl` (params, bindings) and before a loader.
//
// One invocation computes 32 output channels at one output pixel. Along k it loads one input
// element (the only per-lane address) and the 32 channels' weights, whose addresses are the same
// for every invocation of the workgroup (a broadcast), and does 32 multiply-adds. A row of
// workgroups is 32 output channels; a workgroup covers 64 consecutive pixels.

const BLOCK_M: u32 = 32u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>) {
    let p = problem_of(wid.y);
    let q = params.problems[p];
    let m0 = (wid.y - q.first_tile) * BLOCK_M;
    let pixels = q.out_h * q.out_w;
    let n = gid.x;
    if (n >= params.batch * pixels) {
        return;
    }
    let k_len = q.in_channels * q.kernel_h * q.kernel_w;
    // Rows past the last channel repeat it, so every load stays in bounds; they are not stored.
    var rows: array<u32, 32>;
    for (var i = 0u; i < BLOCK_M; i++) {
        rows[i] = q.weight_offset + min(m0 + i, q.out_channels - 1u) * k_len;
    }
    var acc: array<f32, 32>;
    for (var k = 0u; k < k_len; k++) {
        let x = load_input(p, k, n);
        for (var i = 0u; i < BLOCK_M; i++) {
            acc[i] = fma(weight[rows[i] + k], x, acc[i]);
        }
    }
    let image = n / pixels;
    for (var i = 0u; i < BLOCK_M; i++) {
        let m = m0 + i;
        if (m >= q.out_channels) {
            break;
        }
        var v = acc[i] + bias[q.bias_offset + m];
        if (q.relu != 0u) {
            v = max(v, 0.0);
        }
        let plane = image * q.out_c_total + q.out_c_offset + m;
        store(p, plane * pixels + n % pixels, v);
    }
}
