// Winograd F(4x4, 3x3) output transform (after `winograd_common.wgsl` and
// `winograd_output_common.wgsl`): Y = A^T M A + bias, optional ReLU, for each output channel and
// tile; M (6x6 per tile) comes from the 36 GEMMs. One invocation per (tile, output channel):
// gid.x, gid.y. Columns of 6 are `let` arrays indexed by constants only (see
// `winograd4_input.wgsl`).

alias Six = array<f32, 6>;

// A^T times one column (or row) of 6.
fn a_step(m: Six) -> vec4<f32> {
    return vec4(
        m[0] + m[1] + m[2] + m[3] + m[4],
        m[1] - m[2] + 2.0 * m[3] - 2.0 * m[4],
        m[1] + m[2] + 4.0 * m[3] + 4.0 * m[4],
        m[1] - m[2] + 8.0 * m[3] - 8.0 * m[4] + m[5],
    );
}

// Column j of channel c's M at tile t (elements j, 6 + j, .., 30 + j).
fn m_column(j: u32, c: u32, t: u32) -> Six {
    let first = (j * params.channels + c) * params.plane + t;
    let row = 6u * params.channels * params.plane;
    return Six(input[first], input[first + row], input[first + 2u * row], input[first + 3u * row], input[first + 4u * row], input[first + 5u * row]);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x;
    let c = gid.y;
    if (t >= tile_count()) {
        return;
    }
    // A^T M: each column of M ...
    let m0 = a_step(m_column(0u, c, t));
    let m1 = a_step(m_column(1u, c, t));
    let m2 = a_step(m_column(2u, c, t));
    let m3 = a_step(m_column(3u, c, t));
    let m4 = a_step(m_column(4u, c, t));
    let m5 = a_step(m_column(5u, c, t));
    let origin = tile_origin(t, 4u);
    let plane = channel_plane(origin.x, c);
    // ... then times A: each row of that is four outputs.
    for (var i = 0u; i < 4u; i++) {
        let y = a_step(Six(m0[i], m1[i], m2[i], m3[i], m4[i], m5[i]));
        for (var j = 0u; j < 4u; j++) {
            store_output(plane, c, origin.y + i, origin.z + j, y[j]);
        }
    }
}
