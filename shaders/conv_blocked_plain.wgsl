// How the lanes of `conv_blocked.wgsl` get their weights without subgroup operations: each
// loads every weight itself (the same address in every lane). For adapters that offer no fixed
// subgroup width, a browser's WebGPU among them, where the `tiled` kernels' workgroup memory and
// barriers are slow on a CPU.

fn lane_weights(p: u32, m0: u32, k0: u32, lane: u32) -> mat4x4<f32> {
    return mat4x4<f32>();
}

fn step_weights(p: u32, m0: u32, k0: u32, j: u32, w: mat4x4<f32>) -> mat4x4<f32> {
    return weights(p, m0, k0 + j);
}

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    run(wid, lane);
}
