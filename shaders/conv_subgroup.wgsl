// How the lanes of `conv_blocked.wgsl` get their weights where they are one subgroup of the
// adapter's fixed width (4 on SwiftShader, 8 on lavapipe at 256 bits, 16 at 512), which the
// pipeline sets as LANES: each lane loads the weights at k0 + lane, and step j takes lane j's
// with subgroupShuffle, so a weight costs one load per LANES lanes instead of LANES.

fn lane_weights(p: u32, m0: u32, k0: u32, lane: u32) -> mat4x4<f32> {
    return weights(p, m0, k0 + lane);
}

fn step_weights(p: u32, m0: u32, k0: u32, j: u32, w: mat4x4<f32>) -> mat4x4<f32> {
    return mat4x4(subgroupShuffle(w[0], j), subgroupShuffle(w[1], j), subgroupShuffle(w[2], j), subgroupShuffle(w[3], j));
}

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    run(wid, lane);
}
