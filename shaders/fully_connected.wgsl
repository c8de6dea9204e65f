// Fully connected layer (GEMM over the batch): y[b][o] = relu?(bias[b * bias_stride + o] +
// sum_i x[b][i] * weight[o][i]).
//
// Bindings: 0 params (uniform FcParams), 1 x (element (b, i) at b * x_stride_batch +
// i * x_stride_feature, so a transposed operand needs no copy), 2 weight ([out_features]
// [in_features]), 3 bias (bias_stride_batch = 0: one vector for every row; = out_features: a full
// matrix), 4 output ([batch][out_features]).
// One workgroup of 64 threads computes one output (o, b): each thread sums a strided part of the
// row, then a tree reduction in workgroup memory adds the 64 partial sums.

struct FcParams {
    batch: u32,
    in_features: u32,
    out_features: u32,
    x_stride_batch: u32,
    x_stride_feature: u32,
    bias_stride_batch: u32,
    relu: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: FcParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

const THREADS: u32 = 64u;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let o = wid.x;
    let b = wid.y;
    var sum = 0.0;
    for (var i = lane; i < params.in_features; i += THREADS) {
        sum = fma(x[b * params.x_stride_batch + i * params.x_stride_feature],
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
        var v = partial[0] + bias[b * params.bias_stride_batch + o];
        if (params.relu != 0u) {
            v = max(v, 0.0);
        }
        output[b * params.out_features + o] = v;
    }
}
