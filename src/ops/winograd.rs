//! Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3, stride-1, pad-1 convolutions: an input
//! transform, one GEMM per element of the transformed patch (16 or 36, as one many-problem 1x1
//! [`ConvGroup`], so every conv kernel family and the tuner serve them) and an output transform
//! with the bias and ReLU. Per output pixel and channel pair, 16 / 4 = 4 multiplies (F(2x2)) or
//! 36 / 16 = 2.25 (F(4x4)) instead of 9. See `shaders/winograd_common.wgsl` for the layout of the
//! transformed planes.

use super::{accumulation_tolerance, Conv2d, ConvGroup, Kernel, OutputSlot};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, ChannelSlice, Pads};
use crate::gpu::{KernelId, Launch};
use serde::{Deserialize, Serialize};

/// The WGSL files of the Winograd transforms, F(2x2) and F(4x4).
pub(crate) const INPUT_SHADERS: &[&str] = &["winograd_common.wgsl", "winograd_input.wgsl"];
pub(crate) const OUTPUT_SHADERS: &[&str] = &["winograd_common.wgsl", "winograd_output_common.wgsl", "winograd_output.wgsl"];
pub(crate) const F4_INPUT_SHADERS: &[&str] = &["winograd_common.wgsl", "winograd4_input.wgsl"];
pub(crate) const F4_OUTPUT_SHADERS: &[&str] = &["winograd_common.wgsl", "winograd_output_common.wgsl", "winograd4_output.wgsl"];

/// Which Winograd algorithm: the side of the output tile one transformed patch yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WinogradTile {
    /// F(2x2, 3x3): 4x4 patches, 16 GEMMs.
    F2,
    /// F(4x4, 3x3): 6x6 patches, 36 GEMMs; fewer multiplies, larger rounding error (its
    /// transforms scale by up to 5 and 8, and G by 1/24).
    F4,
}

/// Tiles per image below which a conv does not take a Winograd route (see `for_size`).
pub const MIN_TILES: usize = 32;

impl WinogradTile {
    pub const ALL: [WinogradTile; 2] = [WinogradTile::F2, WinogradTile::F4];

    /// Output rows (and columns) per tile.
    pub fn output(self) -> usize {
        match self {
            WinogradTile::F2 => 2,
            WinogradTile::F4 => 4,
        }
    }

    /// Rows (and columns) of the transformed patch: output + 2.
    pub fn patch(self) -> usize {
        self.output() + 2
    }

    /// Transformed planes per channel, one GEMM each.
    pub fn planes(self) -> usize {
        self.patch() * self.patch()
    }

    /// The input transform B^T, the weight transform G and the output transform A^T, row-major
    /// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", points 0, 1, -1 for
    /// F(2x2) and 0, 1, -1, 2, -2 for F(4x4)).
    fn matrices(self) -> (Matrix, &'static [[f64; 3]], Matrix) {
        match self {
            WinogradTile::F2 => (
                &[&[1.0, 0.0, -1.0, 0.0], &[0.0, 1.0, 1.0, 0.0], &[0.0, -1.0, 1.0, 0.0], &[0.0, 1.0, 0.0, -1.0]],
                &[[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]],
                &[&[1.0, 1.0, 1.0, 0.0], &[0.0, 1.0, -1.0, -1.0]],
            ),
            WinogradTile::F4 => (
                &[
                    &[4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
                    &[0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
                    &[0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
                    &[0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
                    &[0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
                    &[0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
                ],
                &[
                    [1.0 / 4.0, 0.0, 0.0],
                    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
                    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
                    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
                    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
                    [0.0, 0.0, 1.0],
                ],
                &[&[1.0, 1.0, 1.0, 1.0, 1.0, 0.0], &[0.0, 1.0, -1.0, 2.0, -2.0, 0.0], &[0.0, 1.0, 1.0, 4.0, 4.0, 0.0], &[0.0, 1.0, -1.0, 8.0, -8.0, 1.0]],
            ),
        }
    }

    /// The tile a conv on `height` x `width` images gets where the plan allows tiles up to this
    /// one: the largest whose GEMMs are at least `MIN_TILES` columns wide per image, else none
    /// (the conv runs directly). On 14x14 F(4x4) leaves 16 columns, on 7x7 F(2x2) 16: too few
    /// for a conv kernel's workgroup (16 channels x 32 columns on lavapipe), and slower than the
    /// direct conv there.
    pub fn for_size(self, height: usize, width: usize) -> Option<WinogradTile> {
        let tiles = |tile: WinogradTile| height.div_ceil(tile.output()) * width.div_ceil(tile.output());
        WinogradTile::ALL.into_iter().rev().filter(|&tile| tile <= self).find(|&tile| tiles(tile) >= MIN_TILES)
    }

    /// The most nonzero terms one transformed value sums: the square of the densest row of
    /// `matrix` (its two 1-D passes).
    fn terms(matrix: &[&[f64]]) -> usize {
        matrix.iter().map(|row| row.iter().filter(|v| **v != 0.0).count()).max().unwrap_or(0).pow(2)
    }
}

/// A transform matrix, row-major, rows of any length.
type Matrix = &'static [&'static [f64]];

/// `matrix x d x matrix^T` in f32 for a square patch `d` (row-major, `d.len()` = columns of
/// `matrix` squared): rows first, then columns, as the shaders do.
fn transform(matrix: &[&[f64]], d: &[f32]) -> Vec<f32> {
    let (rows, n) = (matrix.len(), matrix[0].len());
    let combine = |row: &[f64], value: &dyn Fn(usize) -> f32| row.iter().enumerate().filter(|(_, c)| **c != 0.0).map(|(k, c)| *c as f32 * value(k)).sum::<f32>();
    let left: Vec<f32> = (0..rows * n).map(|at| combine(matrix[at / n], &|k| d[k * n + at % n])).collect();
    (0..rows * rows).map(|at| combine(matrix[at % rows], &|l| left[at / rows * n + l])).collect()
}

/// The tiles of a 3x3/1/1 conv: its images, (input = output) size and Winograd algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WinogradTiles {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    pub tile: WinogradTile,
}

impl WinogradTiles {
    fn rows(&self) -> usize {
        self.height.div_ceil(self.tile.output())
    }

    fn columns(&self) -> usize {
        self.width.div_ceil(self.tile.output())
    }

    /// Tiles of all images.
    pub fn count(&self) -> usize {
        self.batch * self.rows() * self.columns()
    }

    /// The length of each transformed plane: the tiles, rounded up to a multiple of 4 so that the
    /// GEMMs can load 4 columns at once (`subgroup-vec4`). The columns past the tiles are never
    /// written by the input transform nor read by the output transform.
    pub fn plane(&self) -> usize {
        self.count().next_multiple_of(4)
    }

    /// Floats of the transformed values of `channels` channels (`planes` per channel).
    pub fn transformed_len(&self, channels: usize) -> usize {
        self.tile.planes() * channels * self.plane()
    }

    fn params(&self, channels: usize, slice: ChannelSlice, relu: bool) -> WinogradParams {
        WinogradParams {
            batch: self.batch as u32,
            channels: channels as u32,
            h: self.height as u32,
            w: self.width as u32,
            tiles_h: self.rows() as u32,
            tiles_w: self.columns() as u32,
            c_offset: slice.offset as u32,
            c_total: slice.total as u32,
            relu: relu as u32,
            plane: self.plane() as u32,
            _pad: [0; 2],
        }
    }

    fn grid(&self, channels: usize) -> [u32; 3] {
        [self.count().div_ceil(64) as u32, channels as u32, 1]
    }

    /// (image, top row, left column) of tile `t`.
    fn tile(&self, t: usize) -> (usize, usize, usize) {
        let per_image = self.rows() * self.columns();
        let side = self.tile.output();
        (t / per_image, t % per_image / self.columns() * side, t % self.columns() * side)
    }

    fn check(&self, op: &str) -> Result<()> {
        if [self.batch, self.height, self.width].contains(&0) {
            return Err(Error::shape(op, format!("zero-sized tiles {self:?}")));
        }
        Ok(())
    }
}

/// Whether a conv is one that Winograd computes: 3x3, stride 1, pad 1 on every side.
pub fn winograd_applies(conv: &Conv2d) -> bool {
    [conv.kernel_h, conv.kernel_w, conv.stride_h, conv.stride_w] == [3, 3, 1, 1] && conv.pads == Pads::uniform(1) && conv.pool_input.is_none()
}

/// U = G g G^T for every (output, input) channel pair of a `[out][in][3][3]` weight, as the
/// GEMMs' weights back to back: `[planes][out][in]`. Computed in f64, rounded once.
pub fn winograd_weights(tile: WinogradTile, weight: &[f32], out_channels: usize, in_channels: usize) -> Vec<f32> {
    let (_, g_matrix, _) = tile.matrices();
    let (side, planes) = (tile.patch(), tile.planes());
    let mut u = vec![0.0; planes * out_channels * in_channels];
    for m in 0..out_channels {
        for c in 0..in_channels {
            let g = &weight[(m * in_channels + c) * 9..][..9];
            for (i, gi) in g_matrix.iter().enumerate() {
                for (j, gj) in g_matrix.iter().enumerate() {
                    let mut sum = 0.0;
                    for (k, gik) in gi.iter().enumerate() {
                        for (l, gjl) in gj.iter().enumerate() {
                            sum += gik * g[k * 3 + l] as f64 * gjl;
                        }
                    }
                    u[((side * i + j) * out_channels + m) * in_channels + c] = sum as f32;
                }
            }
        }
    }
    u
}

/// The GEMMs `M[xi] = U[xi] V[xi]`, one per transformed plane, as one dispatch of 1x1 convs over
/// the transformed planes: inputs V, the `winograd_weights` and `planes` * out_channels zero
/// biases (the bias is added after the output transform); output M.
pub fn winograd_gemms(tiles: WinogradTiles, in_channels: usize, out_channels: usize) -> ConvGroup {
    let planes = tiles.tile.planes();
    let convs = (0..planes)
        .map(|xi| {
            let gemm = Conv2d {
                input: ChannelSlice { offset: xi * in_channels, total: planes * in_channels },
                output: ChannelSlice { offset: xi * out_channels, total: planes * out_channels },
                ..Conv2d::simple(1, in_channels, 1, tiles.plane(), out_channels, 1, 1, 0)
            };
            (gemm, OutputSlot::First)
        })
        .collect();
    ConvGroup::new(convs)
}

/// Mirrors `WinogradParams` in `shaders/winograd_common.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
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
    plane: u32,
    _pad: [u32; 2],
}

/// V = B^T d B of every input channel's patches. Input: the conv's input (through `input`).
/// Output: V, `[planes][channels][tiles]`.
#[derive(Clone, Debug)]
pub struct WinogradInput {
    pub tiles: WinogradTiles,
    pub channels: usize,
    pub input: ChannelSlice,
}

/// Y = A^T M A + bias (ReLU optional) into the conv's output slice. Inputs: M
/// (`[planes][channels][tiles]`), bias `[channels]`. Output: the conv's output buffer.
#[derive(Clone, Debug)]
pub struct WinogradOutput {
    pub tiles: WinogradTiles,
    pub channels: usize,
    pub relu: bool,
    pub output: ChannelSlice,
}

impl Kernel for WinogradInput {
    fn kernel_name(&self) -> &'static str {
        "winograd input"
    }

    fn describe(&self) -> String {
        let t = self.tiles;
        format!("{:?} n{} c{} {}x{} in[{}/{}]", t.tile, t.batch, self.channels, t.height, t.width, self.input.offset, self.input.total)
    }

    fn check(&self) -> Result<()> {
        self.tiles.check("Winograd input transform")?;
        self.input.check("Winograd input transform", "input", self.channels)
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.tiles.batch * self.input.total * self.tiles.height * self.tiles.width]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.tiles.transformed_len(self.channels)]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let ([input], [v]) = (inputs, outputs) else { panic!("one input, one output") };
        let (h, w, count, plane) = (self.tiles.height, self.tiles.width, self.tiles.count(), self.tiles.plane());
        let (b_t, _, _) = self.tiles.tile.matrices();
        let side = self.tiles.tile.patch();
        for c in 0..self.channels {
            for t in 0..count {
                let (image, y0, x0) = self.tiles.tile(t);
                // The patch from one row and column above and left of the tile (the pad).
                let at = |i: usize, j: usize| {
                    let (y, x) = ((y0 + i).checked_sub(1), (x0 + j).checked_sub(1));
                    match (y.filter(|&y| y < h), x.filter(|&x| x < w)) {
                        (Some(y), Some(x)) => input[nchw_index(self.input, h * w, image, c, y * w + x)],
                        _ => 0.0,
                    }
                };
                let d: Vec<f32> = (0..side * side).map(|ij| at(ij / side, ij % side)).collect();
                for (xi, value) in transform(b_t, &d).into_iter().enumerate() {
                    v[(xi * self.channels + c) * plane + t] = value;
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        Launch::new(KernelId::WinogradInput(self.tiles.tile), &self.tiles.params(self.channels, self.input, false), self.tiles.grid(self.channels))
    }

    fn work(&self) -> usize {
        self.tiles.transformed_len(self.channels)
    }

    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        // Each value sums up to 4 (F(2x2)) or 16 (F(4x4)) inputs times small integers.
        accumulation_tolerance(WinogradTile::terms(self.tiles.tile.matrices().0), reference)
    }
}

impl Kernel for WinogradOutput {
    fn kernel_name(&self) -> &'static str {
        "winograd output"
    }

    fn describe(&self) -> String {
        let t = self.tiles;
        format!(
            "{:?} n{} c{} {}x{}{} out[{}/{}]",
            t.tile,
            t.batch, self.channels, t.height, t.width, if self.relu { " relu" } else { "" }, self.output.offset, self.output.total
        )
    }

    fn check(&self) -> Result<()> {
        self.tiles.check("Winograd output transform")?;
        self.output.check("Winograd output transform", "output", self.channels)
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.tiles.transformed_len(self.channels), self.channels]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.tiles.batch * self.output.total * self.tiles.height * self.tiles.width]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let ([m, bias], [output]) = (inputs, outputs) else { panic!("M and bias in, one output") };
        let (h, w, count, plane) = (self.tiles.height, self.tiles.width, self.tiles.count(), self.tiles.plane());
        let (_, _, a_t) = self.tiles.tile.matrices();
        let (side, patch) = (self.tiles.tile.output(), self.tiles.tile.patch());
        for c in 0..self.channels {
            for t in 0..count {
                let (image, y0, x0) = self.tiles.tile(t);
                let values: Vec<f32> = (0..patch * patch).map(|xi| m[(xi * self.channels + c) * plane + t]).collect();
                for (ij, value) in transform(a_t, &values).into_iter().enumerate() {
                    let (oy, ox) = (y0 + ij / side, x0 + ij % side);
                    if oy < h && ox < w {
                        let v = value + bias[c];
                        output[nchw_index(self.output, h * w, image, c, oy * w + ox)] = if self.relu { v.max(0.0) } else { v };
                    }
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        Launch::new(KernelId::WinogradOutput(self.tiles.tile), &self.tiles.params(self.channels, self.output, self.relu), self.tiles.grid(self.channels))
    }

    fn work(&self) -> usize {
        self.tiles.transformed_len(self.channels)
    }

    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        // Each output sums 9 (F(2x2)) or 25 (F(4x4)) of M's values times small integers, and the bias.
        accumulation_tolerance(WinogradTile::terms(self.tiles.tile.matrices().2) + 1, reference)
    }
}

// The kernel sweep's cases (`verify::kernel_cases`), for both tiles: tile grids with partial
// tiles, batch 3, channel slices.

fn sweep_tiles() -> Vec<WinogradTiles> {
    let sizes = [(1, 7, 7), (3, 13, 10), (2, 1, 1), (1, 56, 55)];
    WinogradTile::ALL.into_iter().flat_map(|tile| sizes.map(|(batch, height, width)| WinogradTiles { batch, height, width, tile })).collect()
}

pub(super) fn input_sweep_cases() -> Vec<WinogradInput> {
    let slices = [(5, ChannelSlice::at(0, 5)), (6, ChannelSlice::at(2, 10)), (3, ChannelSlice::at(0, 3)), (4, ChannelSlice::at(0, 4))];
    sweep_tiles().into_iter().zip(slices.iter().cycle()).map(|(tiles, &(channels, input))| WinogradInput { tiles, channels, input }).collect()
}

pub(super) fn output_sweep_cases() -> Vec<WinogradOutput> {
    let cases = [(5, false, ChannelSlice::at(0, 5)), (6, true, ChannelSlice::at(3, 11)), (3, true, ChannelSlice::at(0, 3)), (4, false, ChannelSlice::at(1, 5))];
    sweep_tiles().into_iter().zip(cases.iter().cycle()).map(|(tiles, &(channels, relu, output))| WinogradOutput { tiles, channels, relu, output }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Input transform, the GEMMs (in f64) and output transform, against the direct conv: the
    /// matrices are right if the three compose to a 3x3 convolution.
    #[test]
    fn each_size_takes_the_largest_tile_whose_gemms_are_wide_enough() {
        use WinogradTile::{F2, F4};
        // GoogLeNet's 3x3 convs: 56x56, 28x28, 14x14, 7x7.
        assert_eq!([56, 28, 14, 7].map(|size| F4.for_size(size, size)), [Some(F4), Some(F4), Some(F2), None]);
        assert_eq!([56, 28, 14, 7].map(|size| F2.for_size(size, size)), [Some(F2), Some(F2), Some(F2), None]);
        // Partial tiles count: 21x21 is 6x6 tiles of F(4x4), 36 >= 32.
        assert_eq!(F4.for_size(21, 21), Some(F4));
    }

    #[test]
    fn transforms_compose_to_the_direct_conv() {
        for tile in WinogradTile::ALL {
            let (batch, channels, out_channels, height, width) = (2, 3, 2, 9, 7);
            let tiles = WinogradTiles { batch, height, width, tile };
            let mut rng = Rng::new(7);
            let input = rng.symmetric_vec(batch * channels * height * width);
            let weight = rng.symmetric_vec(out_channels * channels * 9);
            let bias = vec![0.25, -0.5];
            let mut v = vec![vec![0.0; tiles.transformed_len(channels)]];
            WinogradInput { tiles, channels, input: ChannelSlice::whole(channels) }.reference(&[&input], &mut v);
            let u = winograd_weights(tile, &weight, out_channels, channels);
            let plane = tiles.plane();
            let m: Vec<f32> = (0..tiles.transformed_len(out_channels))
                .map(|at| {
                    let (xi, o, t) = (at / (out_channels * plane), at / plane % out_channels, at % plane);
                    (0..channels).map(|c| u[(xi * out_channels + o) * channels + c] as f64 * v[0][(xi * channels + c) * plane + t] as f64).sum::<f64>() as f32
                })
                .collect();
            let mut winograd = vec![vec![0.0; batch * out_channels * height * width]];
            let output = WinogradOutput { tiles, channels: out_channels, relu: false, output: ChannelSlice::whole(out_channels) };
            output.reference(&[&m, &bias], &mut winograd);
            let mut direct = vec![0.0; winograd[0].len()];
            Conv2d::simple(batch, channels, height, width, out_channels, 3, 1, 1).reference(&input, &weight, &bias, None, &mut direct);
            let worst = direct.iter().zip(&winograd[0]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            // 27 products of values within 1; the transforms' rounding (F(4x4) scales by up to 100).
            assert!(worst < 1e-4, "{tile:?}: off by {worst}");
        }
    }
}
