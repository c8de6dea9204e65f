// Winograd F(2x2, 3x3) output transform (after `winograd_common.wgsl` and
// `winograd_output_common.wgsl`): Y = A^T M A + bias, optional ReLU, for each output channel and
// tile; M comes from the 16 GEMMs. One invocation per (tile, output channel): gid.x, gid.y.

// A^T x A's step, applied to the rows of a 4x4 and then to its columns.
fn a_rows(m: mat4x4<f32>) -> mat2x4<f32> {
    return mat2x4(m[0] + m[1] + m[2], m[1] - m[2] - m[3]);
}

fn a_columns(r: vec4<f32>) -> vec2<f32> {
    return vec2(r.x + r.y + r.z, r.y - r.z - r.w);
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
    let origin = tile_origin(t, 2u);
    let plane = channel_plane(origin.x, c);
    for (var i = 0u; i < 2u; i++) {
        let y = a_columns(rows[i]);
        store_output(plane, c, origin.y + i, origin.z, y.x);
        store_output(plane, c, origin.y + i, origin.z + 1u, y.y);
    }
}
