// Local response normalisation across channels, ONNX semantics:
//   y = x / (bias + alpha / size * sum_{c' in window(c)} x[c']^2) ^ beta
//   window(c) = [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)], clipped to the channels.
//
// Bindings: 0 params (uniform LrnParams), 1 input (in_c_total channels, `channels` of them read
// from in_c_offset), 2 output (out_c_total channels, `channels` written from out_c_offset).
// One thread computes one output element (image, channel, pixel).

struct LrnParams {
    batch: u32,
    channels: u32,
    pixels: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_c_offset: u32,
    out_c_total: u32,
    size: u32,
    alpha: f32,
    beta: f32,
    bias: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: LrnParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

fn input_at(image: u32, channel: u32, p: u32) -> f32 {
    return input[(image * params.in_c_total + params.in_c_offset + channel) * params.pixels + p];
}

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
    let first = max(i32(channel) - i32((params.size - 1u) / 2u), 0);
    let last = min(channel + params.size / 2u, params.channels - 1u);
    var square_sum = 0.0;
    for (var c = u32(first); c <= last; c++) {
        let v = input_at(image, c, p);
        square_sum += v * v;
    }
    let scale = params.bias + params.alpha / f32(params.size) * square_sum;
    let out_plane = image * params.out_c_total + params.out_c_offset + channel;
    output[out_plane * params.pixels + p] = input_at(image, channel, p) / pow(scale, params.beta);
}
