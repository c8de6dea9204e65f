// Numerically stable softmax along one axis of a tensor viewed as [outer][len][inner]:
//   y = exp(x - max) / sum(exp(x - max))
//
// Bindings: 0 params (uniform SoftmaxParams), 1 input, 2 output (same shape).
// One workgroup of 64 threads handles one row (outer, inner): a strided pass and a tree
// reduction find the row maximum, a second pair the sum of exponentials, a third pass writes.

struct SoftmaxParams {
    outer: u32,
    len: u32,
    inner: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: SoftmaxParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

const THREADS: u32 = 64u;
var<workgroup> partial: array<f32, 64>;

fn reduce_max(lane: u32) -> f32 {
    workgroupBarrier();
    for (var half = THREADS / 2u; half > 0u; half /= 2u) {
        if (lane < half) {
            partial[lane] = max(partial[lane], partial[lane + half]);
        }
        workgroupBarrier();
    }
    let result = partial[0];
    workgroupBarrier();
    return result;
}

fn reduce_sum(lane: u32) -> f32 {
    workgroupBarrier();
    for (var half = THREADS / 2u; half > 0u; half /= 2u) {
        if (lane < half) {
            partial[lane] += partial[lane + half];
        }
        workgroupBarrier();
    }
    let result = partial[0];
    workgroupBarrier();
    return result;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lane: u32) {
    let row = wid.x + wid.y * groups.x;
    if (row >= params.outer * params.inner) {
        return;
    }
    let base = (row / params.inner) * params.len * params.inner + row % params.inner;
    let step = params.inner;

    var m = -3.4028234663852886e38;
    for (var i = lane; i < params.len; i += THREADS) {
        m = max(m, input[base + i * step]);
    }
    partial[lane] = m;
    m = reduce_max(lane);

    var s = 0.0;
    for (var i = lane; i < params.len; i += THREADS) {
        s += exp(input[base + i * step] - m);
    }
    partial[lane] = s;
    s = reduce_sum(lane);

    for (var i = lane; i < params.len; i += THREADS) {
        output[base + i * step] = exp(input[base + i * step] - m) / s;
    }
}
