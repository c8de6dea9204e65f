// Winograd F(2x2, 3x3) input transform (after `winograd_common.wgsl`): V = B^T d B for each
// input channel and tile. Binding 2: V. One invocation per (tile, channel): gid.x, gid.y.

@group(0) @binding(2) var<storage, read_write> transformed: array<f32>;

// B^T x B's row step, applied to the rows of a 4x4 and then to its columns.
fn b_rows(r: mat4x4<f32>) -> mat4x4<f32> {
    return mat4x4(r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]);
}

fn b_columns(r: vec4<f32>) -> vec4<f32> {
    return vec4(r.x - r.z, r.y + r.z, r.z - r.y, r.y - r.w);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x;
    let c = gid.y;
    if (t >= tile_count()) {
        return;
    }
    let origin = tile_origin(t, 2u);
    let y0 = i32(origin.y) - 1;
    let x0 = i32(origin.z) - 1;
    let plane = channel_plane(origin.x, c);
    var d: mat4x4<f32>;
    for (var i = 0; i < 4; i++) {
        d[i] = vec4(padded(plane, y0 + i, x0), padded(plane, y0 + i, x0 + 1), padded(plane, y0 + i, x0 + 2), padded(plane, y0 + i, x0 + 3));
    }
    let rows = b_rows(d);
    for (var i = 0u; i < 4u; i++) {
        let v = b_columns(rows[i]);
        for (var j = 0u; j < 4u; j++) {
            transformed[((4u * i + j) * params.channels + c) * params.plane + t] = v[j];
        }
    }
}
