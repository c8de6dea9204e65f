// The conv input binding as a read-only storage texture (`gpu::InputTexture`): the input
// buffer's floats in order, four to a texel, 1 << TEXTURE_ROW_SHIFT texels to a row, copied
// there before the dispatch. For the 1x1 loader where the input's pixel count is a multiple of 4, like
// `conv_input_vec4.wgsl`: a quad of columns is one texel. On lavapipe a texture load is one
// vector gather where a storage-buffer load at per-lane addresses is a loop over the lanes. A
// pooled input is loaded element by element.

@group(0) @binding(1) var input: texture_storage_2d<rgba32float, read>;

// log2 of `INPUT_TEXTURE_ROW` (src/gpu/input_texture.rs), set by the pipeline.
override TEXTURE_ROW_SHIFT: u32;

fn texel(t: u32) -> vec4<f32> {
    return textureLoad(input, vec2(t & ((1u << TEXTURE_ROW_SHIFT) - 1u), t >> TEXTURE_ROW_SHIFT));
}

fn input_at(i: i32) -> f32 {
    return texel(u32(i) / 4u)[i % 4];
}

fn load_quad(p: u32, quad: Quad, tap: Tap, pooled: bool) -> vec4<f32> {
    if (pooled) {
        return load_each(p, quad, tap, pooled);
    }
    return texel(u32(quad.c0.base + i32(tap.x)) / 4u);
}
