// Elementwise ReLU or identity from one channel slice to another: the standalone Relu op, and the
// write of a concat input that has no producing kernel (a graph input) into its slice.
//
// Bindings: 0 params (uniform CopyParams), 1 input (in_c_total channels, `channels` read from
// in_c_offset), 2 output (out_c_total channels, `channels` written from out_c_offset).
// One thread copies one element (image, channel, pixel), applying max(x, 0) when relu != 0.

struct CopyParams {
    batch: u32,
    channels: u32,
    pixels: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_c_offset: u32,
    out_c_total: u32,
    relu: u32,
}

@group(0) @binding(0) var<uniform> params: CopyParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = gid.x + gid.y * groups.x * 256u;
    if (index >= params.batch * params.channels * params.pixels) {
        return;
    }
    let p = index % params.pixels;
    let plane = index / params.pixels;
    let image = plane / params.channels;
    let channel = plane % params.channels;
    var v = input[(image * params.in_c_total + params.in_c_offset + channel) * params.pixels + p];
    if (params.relu != 0u) {
        v = max(v, 0.0);
    }
    output[(image * params.out_c_total + params.out_c_offset + channel) * params.pixels + p] = v;
}
