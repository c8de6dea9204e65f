// Local response normalisation across channels, ONNX semantics:
//   y = x / (bias + alpha / size * sum_{c' in window(c)} x[c']^2) ^ beta
//   window(c) = [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)], clipped to the channels.
//
// Bindings: 0 params (uniform LrnParams), 1 input (in_c_total channels, `channels` of them read
// from in_c_offset), 2 output (out_c_total channels, `channels` written from out_c_offset).
// One thread computes 4 consecutive channels (from 4 * group) of one pixel of one image: it reads
// the union of their windows once (size + 3 channels instead of 4 * size) and adds each square
// to the sums of the windows that hold it, in channel order as for a single output.

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
    let channel_groups = (params.channels + 3u) / 4u;
    if (index >= params.batch * channel_groups * params.pixels) {
        return;
    }
    let p = index % params.pixels;
    let image = index / params.pixels / channel_groups;
    let c0 = index / params.pixels % channel_groups * 4u;
    let channels = vec4(c0) + vec4(0u, 1u, 2u, 3u);
    // Each output's window, [channel - floor((size - 1) / 2), channel + ceil((size - 1) / 2)].
    let before = (params.size - 1u) / 2u;
    let first = vec4<i32>(channels) - i32(before);
    let last = channels + params.size / 2u;
    var square_sums = vec4(0.0);
    var centre = vec4(0.0);
    let end = min(c0 + 3u + params.size / 2u, params.channels - 1u);
    for (var c = u32(max(i32(c0) - i32(before), 0)); c <= end; c++) {
        let v = input_at(image, c, p);
        let inside = (vec4(i32(c)) >= first) & (vec4(c) <= last);
        square_sums += select(vec4(0.0), vec4(v * v), inside);
        centre = select(centre, vec4(v), vec4(c) == channels);
    }
    let scale = params.bias + params.alpha / f32(params.size) * square_sums;
    let y = centre / pow(scale, vec4(params.beta));
    for (var i = 0u; i < 4u && c0 + i < params.channels; i++) {
        let out_plane = image * params.out_c_total + params.out_c_offset + c0 + i;
        output[out_plane * params.pixels + p] = y[i];
    }
}
