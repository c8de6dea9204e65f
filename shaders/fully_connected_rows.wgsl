// Fully connected kernel for CPU-like adapters (after `fully_connected.wgsl`): one thread per
// output (gid.x = o, gid.y = b) walks its weight row and x 4 features at a time as vec4 loads,
// with no workgroup memory and no barriers (a barrier costs a CPU-like adapter a switch of
// every thread of the workgroup). For in_features a multiple of 4 and x rows contiguous and
// starting at multiples of 4.

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let o = gid.x;
    let b = gid.y;
    if (o >= params.out_features) {
        return;
    }
    let quads = params.in_features / 4u;
    let x_row = b * quads;
    let w_row = o * quads;
    var sum = 0.0;
    for (var i = 0u; i < quads; i++) {
        sum += dot(weight[w_row + i], x[x_row + i]);
    }
    finish(b, o, sum);
}
