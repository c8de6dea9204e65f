// The conv input binding as f32s, for any loader: quads are loaded element by element.

@group(0) @binding(1) var<storage, read> input: array<f32>;

fn input_at(i: i32) -> f32 {
    return input[i];
}

fn load_quad(p: u32, quad: Quad, tap: Tap, pooled: bool) -> vec4<f32> {
    return load_each(p, quad, tap, pooled);
}
