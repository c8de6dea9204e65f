// The conv input binding as vec4s, for the 1x1 loader where the input's pixel count is a
// multiple of 4: then a quad of columns starting at a multiple of 4 lies in one image and its
// offset in every channel plane is a multiple of 4, so one vec4 load fetches it (a quarter of
// the per-lane loads). A quad past the last column loads a neighbouring one; its results are not
// stored. A pooled input is loaded element by element.

@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;

fn input_at(i: i32) -> f32 {
    return input[i / 4][i % 4];
}

fn load_quad(p: u32, quad: Quad, tap: Tap, pooled: bool) -> vec4<f32> {
    if (pooled) {
        return load_each(p, quad, tap, pooled);
    }
    return input[(quad.c0.base + i32(tap.x)) / 4];
}
