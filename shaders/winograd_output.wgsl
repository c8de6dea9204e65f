// Winograd F(2x2, 3x3) output transform (after `winograd_common.wgsl`): Y = A^T M A + bias,
// optional ReLU, for each output channel and tile; M comes from the 16 GEMMs. Bindings: 2 bias
// ([channels]), 3 the NCHW output. One invocation per (tile, output channel): gid.x, gid.y.

@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

// A^T x A's step, applied to the rows of a 4x4 and then to its columns.
fn a_rows(m: mat4x4<f32>) -> mat2x4<f32> {
    return mat2x4(m[0] + m[1] + m[2], m[1] - m[2] - m[3]);
}

fn a_columns(r: vec4<f32>) -> vec2<f32> {
    return vec2(r.x + r.y + r.z, r.y - r.z - r.w);
}

fn finish(v: f32, channel: u32) -> f32 {
    let biased = v + bias[channel];
    return select(biased, max(biased, 0.0), params.relu != 0u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x;
    let c = gid.y;
    let count = tile_count();
    if (t >= count) {
        return;
    }
    var m: mat4x4<f32>;
    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            m[i][j] = input[((4u * i + j) * params.channels + c) * params.plane + t];
        }
    }
    let rows = a_rows(m);
    let per_image = params.tiles_h * params.tiles_w;
    let image = t / per_image;
    let y0 = (t % per_image) / params.tiles_w * 2u;
    let x0 = t % params.tiles_w * 2u;
    let plane = (image * params.c_total + params.c_offset + c) * params.h * params.w;
    for (var i = 0u; i < 2u; i++) {
        let y = a_columns(rows[i]);
        if (y0 + i < params.h) {
            let row = plane + (y0 + i) * params.w + x0;
            output[row] = finish(y.x, c);
            if (x0 + 1u < params.w) {
                output[row + 1u] = finish(y.y, c);
            }
        }
    }
}
