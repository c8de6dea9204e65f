// Fully connected layer (GEMM over the batch): y[b][o] = relu?(bias[b * bias_stride + o] +
// sum_i x[b][i] * weight[o][i]).
//
// Bindings: 0 params (uniform FcParams), 1 x (element (b, i) at b * x_stride_batch +
// i * x_stride_feature, so a transposed operand needs no copy), 2 weight ([out_features]
// [in_features]), 3 bias (bias_stride_batch = 0: one vector for every row; = out_features: a full
// matrix), 4 output ([batch][out_features]).
// This file: the parameters and the bias and output bindings; x and the weight are declared by
// the kernel, `fully_connected_reduce.wgsl` (any strides; for GPUs) or
// `fully_connected_rows.wgsl` (vec4 loads; for CPU-like adapters).

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
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

fn finish(b: u32, o: u32, dot: f32) {
    var v = dot + bias[b * params.bias_stride_batch + o];
    if (params.relu != 0u) {
        v = max(v, 0.0);
    }
    output[b * params.out_features + o] = v;
}
