// Winograd F(4x4, 3x3) input transform (after `winograd_common.wgsl`): V = B^T d B for each
// input channel and tile, d its 6x6 patch. Binding 2: V. One invocation per (tile, channel):
// gid.x, gid.y.
//
// Rows and columns of 6 are `let` arrays indexed by constants only: an array indexed at run time
// becomes a function variable, which naga decorates with an explicit layout that Vulkan forbids
// there (VUID-StandaloneSpirv-None-10684).

@group(0) @binding(2) var<storage, read_write> transformed: array<f32>;

alias Six = array<f32, 6>;

// B^T times one column (or row) of the patch.
fn b_step(d: Six) -> Six {
    return Six(
        4.0 * d[0] - 5.0 * d[2] + d[4],
        -4.0 * d[1] - 4.0 * d[2] + d[3] + d[4],
        4.0 * d[1] - 4.0 * d[2] - d[3] + d[4],
        -2.0 * d[1] - d[2] + 2.0 * d[3] + d[4],
        2.0 * d[1] - d[2] - 2.0 * d[3] + d[4],
        4.0 * d[1] - 5.0 * d[3] + d[5],
    );
}

// Column x of the patch whose top row is y0.
fn patch_column(plane: u32, y0: i32, x: i32) -> Six {
    return Six(padded(plane, y0, x), padded(plane, y0 + 1, x), padded(plane, y0 + 2, x), padded(plane, y0 + 3, x), padded(plane, y0 + 4, x), padded(plane, y0 + 5, x));
}

// Row i of V (elements 6i .. 6i + 5) of channel c, tile t.
fn store_row(i: u32, c: u32, t: u32, v: Six) {
    let first = (6u * i * params.channels + c) * params.plane + t;
    let next = params.channels * params.plane;
    transformed[first] = v[0];
    transformed[first + next] = v[1];
    transformed[first + 2u * next] = v[2];
    transformed[first + 3u * next] = v[3];
    transformed[first + 4u * next] = v[4];
    transformed[first + 5u * next] = v[5];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x;
    let c = gid.y;
    if (t >= tile_count()) {
        return;
    }
    let origin = tile_origin(t, 4u);
    let y0 = i32(origin.y) - 1;
    let x0 = i32(origin.z) - 1;
    let plane = channel_plane(origin.x, c);
    // B^T d: each column of the patch ...
    let d0 = b_step(patch_column(plane, y0, x0));
    let d1 = b_step(patch_column(plane, y0, x0 + 1));
    let d2 = b_step(patch_column(plane, y0, x0 + 2));
    let d3 = b_step(patch_column(plane, y0, x0 + 3));
    let d4 = b_step(patch_column(plane, y0, x0 + 4));
    let d5 = b_step(patch_column(plane, y0, x0 + 5));
    // ... then times B: each row of that.
    store_row(0u, c, t, b_step(Six(d0[0], d1[0], d2[0], d3[0], d4[0], d5[0])));
    store_row(1u, c, t, b_step(Six(d0[1], d1[1], d2[1], d3[1], d4[1], d5[1])));
    store_row(2u, c, t, b_step(Six(d0[2], d1[2], d2[2], d3[2], d4[2], d5[2])));
    store_row(3u, c, t, b_step(Six(d0[3], d1[3], d2[3], d3[3], d4[3], d5[3])));
    store_row(4u, c, t, b_step(Six(d0[4], d1[4], d2[4], d3[4], d4[4], d5[4])));
    store_row(5u, c, t, b_step(Six(d0[5], d1[5], d2[5], d3[5], d4[5], d5[5])));
}
