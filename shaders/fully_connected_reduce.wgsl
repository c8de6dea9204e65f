// Fully connected kernel for GPUs (after `fully_connected.wgsl`): one workgroup of 64 threads
// computes one output (o, b): each thread sums a strided part of the row, then a tree reduction
// in workgroup memory adds the 64 partial sums.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;

const THREADS: u32 = 64u;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let o = wid.x;
    let b = wid.y;
    var sum = 0.0;
    for (var i = lane; i < params.in_features; i += THREADS) {
        sum = fma(x[b * params.in_features + i],
                  weight[o * params.in_features + i], sum);
    }
    partial[lane] = sum;
    workgroupBarrier();
    for (var half = THREADS / 2u; half > 0u; half /= 2u) {
        if (lane < half) {
            partial[lane] += partial[lane + half];
        }
        workgroupBarrier();
    }
    if (lane == 0u) {
        finish(b, o, partial[0]);
    }
}
