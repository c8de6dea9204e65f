// Fully connected layer (GEMM over the batch): y[b][o] = relu?(bias[o] +
// sum_i x[b][i] * weight[o][i]).
//
// Bindings: 0 params (uniform FcParams), 1 x ([batch][in_features]), 2 weight ([out_features]
// [in_features]), 3 bias ([out_features]), 4 output ([batch][out_total], outputs written from
// out_offset: one part of a layer whose weight is split along its outputs).
// This file: the parameters and the bias and output bindings; x and the weight are declared by
// the kernel, `fully_connected_reduce.wgsl` (any sizes; for GPUs) or
// `fully_connected_rows.wgsl` (vec4 loads; for CPU-like adapters).

struct FcParams {
    batch: u32,
    in_features: u32,
    out_features: u32,
    relu: u32,
    out_offset: u32,
    out_total: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: FcParams;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

fn finish(b: u32, o: u32, dot: f32) {
    var v = dot + bias[o];
    if (params.relu != 0u) {
        v = max(v, 0.0);
    }
    output[b * params.out_total + params.out_offset + o] = v;
}
