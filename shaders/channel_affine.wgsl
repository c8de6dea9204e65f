// Per-channel affine map, optionally adding a residual, optionally followed by ReLU, from one
// channel slice to another:
//   y = relu?(x[src(c)] * scale[c] + shift[c] + r[c])
// It computes a BatchNorm that no conv precedes (e.g. an input normalisation), a standalone
// ReLU (scale 1, shift 0), the write of a concat input that no kernel produces (a graph
// input) into its slice (scale 1, shift 0: exact), and the end of a conv split along K: with
// `parts` > 1 the input holds that many tensors of `channels` channels side by side, added in
// order first (scale 1, shift the conv's bias). With `residual` 1 it adds r (a residual
// connection no conv absorbs: scale 1, shift 0). src(c) is c, or with `shuffle_groups` g > 1
// the channel shuffle's source (c % g) * (channels / g) + c / g.
//
// Bindings: 0 params (uniform AffineParams), 1 input (in_c_total channels, parts * `channels`
// read from in_c_offset), 2 scale_shift (scale[c] at 2c, shift[c] at 2c + 1), 3 residual
// (res_c_total channels, `channels` read from res_c_offset), 4 output (out_c_total channels,
// `channels` written from out_c_offset).
// One thread maps one element (image, channel, pixel).

struct AffineParams {
    batch: u32,
    channels: u32,
    pixels: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_c_offset: u32,
    out_c_total: u32,
    relu: u32,
    parts: u32,
    residual: u32,
    res_c_offset: u32,
    res_c_total: u32,
    shuffle_groups: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: AffineParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> scale_shift: array<f32>;
@group(0) @binding(3) var<storage, read> residual_input: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

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
    let g = params.shuffle_groups;
    let source = (channel % g) * (params.channels / g) + channel / g;
    var x = 0.0;
    for (var s = 0u; s < params.parts; s++) {
        x += input[(image * params.in_c_total + params.in_c_offset + s * params.channels + source) * params.pixels + p];
    }
    var v = x * scale_shift[2u * channel] + scale_shift[2u * channel + 1u];
    if (params.residual != 0u) {
        v += residual_input[(image * params.res_c_total + params.res_c_offset + channel) * params.pixels + p];
    }
    if (params.relu != 0u) {
        v = max(v, 0.0);
    }
    output[(image * params.out_c_total + params.out_c_offset + channel) * params.pixels + p] = v;
}
