// What both Winograd output transforms share (after `winograd_common.wgsl`): bindings 2 bias
// ([channels]) and 3 the NCHW output, and storing one output with its bias and ReLU.

@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

// Output (y, x) of the channel plane starting at `plane` (output channel c): `value` plus the
// bias, with the ReLU where asked; nothing past the image's edge (tiles are clipped there).
fn store_output(plane: u32, c: u32, y: u32, x: u32, value: f32) {
    if (y >= params.h || x >= params.w) {
        return;
    }
    let biased = value + bias[c];
    output[plane + y * params.w + x] = select(biased, max(biased, 0.0), params.relu != 0u);
}
