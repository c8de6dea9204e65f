// Winograd transforms for a 3x3, stride-1, pad-1 convolution (Lavin & Gray): F(2x2, 3x3) with
// 4x4 patches (`winograd_input.wgsl`, `winograd_output.wgsl`) or F(4x4, 3x3) with 6x6 patches
// (`winograd4_*.wgsl`). The conv becomes P = 16 or 36 independent GEMMs (run by the conv kernels
// as one P-problem 1x1 group) between the two transforms, with P multiplies per output tile of
// 2x2 (or 4x4) and channel pair instead of 36 (or 144).
//
// Tiles: with output side S (2 or 4) and patch side S + 2, output tile t = (image, ty, tx) covers
// output rows S ty .. S ty + S - 1 and the same columns; it reads the patch from row S ty - 1 and
// column S tx - 1 (the pad: outside the image reads 0). T = batch * tiles_h * tiles_w,
// tiles_h = ceil(h / S), tiles_w = ceil(w / S). Transformed values are planes of T: element xi
// (= (S + 2) * row + column of the patch) of channel c is at (xi * channels + c) * plane + t,
// plane = T rounded up to a multiple of 4 (the columns past T are neither written nor read).
//
// input transform:   V = B^T d B for each channel and tile; one invocation per (tile, channel).
// output transform:  Y = A^T M A + bias, optional ReLU, for each output channel and tile,
//                    clipped at the image's edge. (B^T and A^T: `src/ops/winograd.rs`.)
//
// This file: the parameters and input binding the transforms share; each transform is this file
// plus its own (the output transforms also `winograd_output_common.wgsl`). Bindings: 0 params (uniform WinogradParams), 1 input (input transform: the NCHW
// input, its `channels` read from c_offset of c_total; output transform: M), then the
// transform's own.

struct WinogradParams {
    batch: u32,
    channels: u32,
    h: u32,
    w: u32,
    tiles_h: u32,
    tiles_w: u32,
    c_offset: u32,
    c_total: u32,
    relu: u32,
    // The length of a transformed plane: the tile count rounded up to a multiple of 4.
    plane: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: WinogradParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;

fn tile_count() -> u32 {
    return params.batch * params.tiles_h * params.tiles_w;
}


// Tile t's image, and the row and column of its first output (tiles of `side` x `side` outputs).
fn tile_origin(t: u32, side: u32) -> vec3<u32> {
    let per_image = params.tiles_h * params.tiles_w;
    return vec3(t / per_image, (t % per_image) / params.tiles_w * side, t % params.tiles_w * side);
}

// Where channel c of `image` starts in an NCHW buffer of the transform's slice (c_offset of
// c_total channels).
fn channel_plane(image: u32, c: u32) -> u32 {
    return (image * params.c_total + params.c_offset + c) * params.h * params.w;
}

// Input element (y, x) of a channel plane starting at `plane`, 0 outside the image.
fn padded(plane: u32, y: i32, x: i32) -> f32 {
    if (y < 0 || x < 0 || y >= i32(params.h) || x >= i32(params.w)) {
        return 0.0;
    }
    return input[plane + u32(y) * params.w + u32(x)];
}
