// Winograd F(2x2, 3x3) transforms for a 3x3, stride-1, pad-1 convolution (Lavin & Gray): the
// conv becomes 16 independent GEMMs (run by the conv kernels as one 16-problem 1x1 group)
// between these two transforms, with 16 multiplies per 2x2 output tile and channel pair
// instead of 36.
//
// Tiles: output tile t = (image, ty, tx) covers output rows 2ty, 2ty + 1 and columns 2tx, 2tx + 1;
// it reads the 4x4 input patch from row 2ty - 1 and column 2tx - 1 (the pad: outside the image
// reads 0). T = batch * tiles_h * tiles_w, tiles_h = ceil(h / 2), tiles_w = ceil(w / 2).
// Transformed values are planes of T: element xi (= 4 * row + column of the 4x4) of channel c is
// at (xi * channels + c) * T + t.
//
// winograd_input:   V = B^T d B for each channel and tile   (B^T rows: 1 0 -1 0 / 0 1 1 0 /
//                   0 -1 1 0 / 0 1 0 -1); one invocation per (tile, channel).
// winograd_output:  Y = A^T M A + bias, optional ReLU, for each output channel and tile
//                   (A^T rows: 1 1 1 0 / 0 1 -1 -1); the 2x2 is clipped at odd sizes.
//
// This file: the parameters and input binding both transforms share; each transform is this
// file plus `winograd_input.wgsl` or `winograd_output.wgsl`. Bindings: 0 params (uniform
// WinogradParams), 1 input (input transform: the NCHW input, its `channels` read from c_offset
// of c_total; output transform: M), then the transform's own.

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
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: WinogradParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;

fn tile_count() -> u32 {
    return params.batch * params.tiles_h * params.tiles_w;
}

