//! Winograd F(2x2, 3x3) for 3x3, stride-1, pad-1 convolutions: an input transform, 16 GEMMs (one
//! 16-problem 1x1 [`ConvGroup`], so both conv kernel families and the tuner serve it) and an
//! output transform with the bias and ReLU. 16 multiplies per 2x2 output tile and channel pair
//! instead of 36. See `shaders/winograd_common.wgsl` for the layout of the transformed planes.

use super::{accumulation_tolerance, Conv2d, ConvGroup, Kernel, OutputSlot};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, ChannelSlice, Pads};
use crate::gpu::{KernelId, Launch};

/// The WGSL files of the two Winograd transforms.
pub(crate) const INPUT_SHADERS: &[&str] = &["winograd_common.wgsl", "winograd_input.wgsl"];
pub(crate) const OUTPUT_SHADERS: &[&str] = &["winograd_common.wgsl", "winograd_output.wgsl"];

/// The tiles of a 3x3/1/1 conv: its images and (input = output) size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WinogradTiles {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
}

impl WinogradTiles {
    fn rows(&self) -> usize {
        self.height.div_ceil(2)
    }

    fn columns(&self) -> usize {
        self.width.div_ceil(2)
    }

    /// Tiles of all images: the length of each transformed plane.
    pub fn count(&self) -> usize {
        self.batch * self.rows() * self.columns()
    }

    /// Floats of the transformed values of `channels` channels (16 planes per channel).
    pub fn transformed_len(&self, channels: usize) -> usize {
        16 * channels * self.count()
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
            _pad: [0; 3],
        }
    }

    fn grid(&self, channels: usize) -> [u32; 3] {
        [self.count().div_ceil(64) as u32, channels as u32, 1]
    }

    /// (image, top row, left column) of tile `t`.
    fn tile(&self, t: usize) -> (usize, usize, usize) {
        let per_image = self.rows() * self.columns();
        (t / per_image, t % per_image / self.columns() * 2, t % self.columns() * 2)
    }

    fn check(&self, op: &str) -> Result<()> {
        if [self.batch, self.height, self.width].contains(&0) {
            return Err(Error::shape(op, format!("zero-sized tiles {self:?}")));
        }
        Ok(())
    }
}

/// Whether a conv is one that Winograd F(2x2, 3x3) computes: 3x3, stride 1, pad 1 on every side.
pub fn winograd_applies(conv: &Conv2d) -> bool {
    [conv.kernel_h, conv.kernel_w, conv.stride_h, conv.stride_w] == [3, 3, 1, 1] && conv.pads == Pads::uniform(1) && !conv.pool_input
}

/// U = G g G^T for every (output, input) channel pair of a `[out][in][3][3]` weight, as the 16
/// GEMMs' weights back to back: `[16][out][in]`. Computed in f64, rounded once.
pub fn winograd_weights(weight: &[f32], out_channels: usize, in_channels: usize) -> Vec<f32> {
    const G: [[f64; 3]; 4] = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]];
    let mut u = vec![0.0; 16 * out_channels * in_channels];
    for m in 0..out_channels {
        for c in 0..in_channels {
            let g = &weight[(m * in_channels + c) * 9..][..9];
            for (i, gi) in G.iter().enumerate() {
                for (j, gj) in G.iter().enumerate() {
                    let mut sum = 0.0;
                    for (k, gik) in gi.iter().enumerate() {
                        for (l, gjl) in gj.iter().enumerate() {
                            sum += gik * g[k * 3 + l] as f64 * gjl;
                        }
                    }
                    u[((4 * i + j) * out_channels + m) * in_channels + c] = sum as f32;
                }
            }
        }
    }
    u
}

/// The 16 GEMMs `M[xi] = U[xi] V[xi]` as one dispatch of 1x1 convs over the transformed planes:
/// inputs V, the `winograd_weights` and 16 * out_channels zero biases (the bias is added after
/// the output transform); output M.
pub fn winograd_gemms(tiles: WinogradTiles, in_channels: usize, out_channels: usize) -> ConvGroup {
    let convs = (0..16)
        .map(|xi| {
            let gemm = Conv2d {
                input: ChannelSlice { offset: xi * in_channels, total: 16 * in_channels },
                output: ChannelSlice { offset: xi * out_channels, total: 16 * out_channels },
                ..Conv2d::simple(1, in_channels, 1, tiles.count(), out_channels, 1, 1, 0)
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
    _pad: [u32; 3],
}

/// V = B^T d B of every input channel's 4x4 patches. Input: the conv's input (through `input`).
/// Output: V, `[16][channels][tiles]`.
#[derive(Clone, Debug)]
pub struct WinogradInput {
    pub tiles: WinogradTiles,
    pub channels: usize,
    pub input: ChannelSlice,
}

/// Y = A^T M A + bias (ReLU optional) into the conv's output slice. Inputs: M
/// (`[16][channels][tiles]`), bias `[channels]`. Output: the conv's output buffer.
#[derive(Clone, Debug)]
pub struct WinogradOutput {
    pub tiles: WinogradTiles,
    pub channels: usize,
    pub relu: bool,
    pub output: ChannelSlice,
}

/// B^T x B along one axis of 4.
fn b_step(r: [f32; 4]) -> [f32; 4] {
    [r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]]
}

/// A^T x A along one axis of 4.
fn a_step(r: [f32; 4]) -> [f32; 2] {
    [r[0] + r[1] + r[2], r[1] - r[2] - r[3]]
}

impl Kernel for WinogradInput {
    fn kernel_name(&self) -> &'static str {
        "winograd input"
    }

    fn describe(&self) -> String {
        let t = self.tiles;
        format!("n{} c{} {}x{} in[{}/{}]", t.batch, self.channels, t.height, t.width, self.input.offset, self.input.total)
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
        let (h, w, count) = (self.tiles.height, self.tiles.width, self.tiles.count());
        for c in 0..self.channels {
            for t in 0..count {
                let (image, y0, x0) = self.tiles.tile(t);
                let at = |i: usize, j: usize| {
                    let (y, x) = ((y0 + i).checked_sub(1), (x0 + j).checked_sub(1));
                    match (y.filter(|&y| y < h), x.filter(|&x| x < w)) {
                        (Some(y), Some(x)) => input[nchw_index(self.input, h * w, image, c, y * w + x)],
                        _ => 0.0,
                    }
                };
                let d: [[f32; 4]; 4] = std::array::from_fn(|i| std::array::from_fn(|j| at(i, j)));
                // B^T d: combine rows; then each row times B: combine columns.
                let bt_d: [[f32; 4]; 4] = {
                    let col = |j: usize| b_step([d[0][j], d[1][j], d[2][j], d[3][j]]);
                    let cols: [[f32; 4]; 4] = std::array::from_fn(col);
                    std::array::from_fn(|i| std::array::from_fn(|j| cols[j][i]))
                };
                for (i, row) in bt_d.iter().enumerate() {
                    for (j, value) in b_step(*row).into_iter().enumerate() {
                        v[((4 * i + j) * self.channels + c) * count + t] = value;
                    }
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        Launch::new(KernelId::WinogradInput, &self.tiles.params(self.channels, self.input, false), self.tiles.grid(self.channels))
    }

    fn work(&self) -> usize {
        self.tiles.transformed_len(self.channels)
    }

    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        // Each value sums 4 inputs with signs.
        accumulation_tolerance(4, reference)
    }
}

impl Kernel for WinogradOutput {
    fn kernel_name(&self) -> &'static str {
        "winograd output"
    }

    fn describe(&self) -> String {
        let t = self.tiles;
        format!(
            "n{} c{} {}x{}{} out[{}/{}]",
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
        let (h, w, count) = (self.tiles.height, self.tiles.width, self.tiles.count());
        for c in 0..self.channels {
            for t in 0..count {
                let (image, y0, x0) = self.tiles.tile(t);
                let at = |i: usize, j: usize| m[((4 * i + j) * self.channels + c) * count + t];
                // A^T M: combine rows; then each row times A: combine columns.
                let cols: [[f32; 2]; 4] = std::array::from_fn(|j| a_step([at(0, j), at(1, j), at(2, j), at(3, j)]));
                let at_m: [[f32; 4]; 2] = std::array::from_fn(|i| std::array::from_fn(|j| cols[j][i]));
                for (i, row) in at_m.into_iter().enumerate() {
                    for (j, value) in a_step(row).into_iter().enumerate() {
                        let (oy, ox) = (y0 + i, x0 + j);
                        if oy < h && ox < w {
                            let v = value + bias[c];
                            output[nchw_index(self.output, h * w, image, c, oy * w + ox)] = if self.relu { v.max(0.0) } else { v };
                        }
                    }
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        Launch::new(KernelId::WinogradOutput, &self.tiles.params(self.channels, self.output, self.relu), self.tiles.grid(self.channels))
    }

    fn work(&self) -> usize {
        self.tiles.transformed_len(self.channels)
    }

    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        // Each output sums 9 of M's values and the bias.
        accumulation_tolerance(10, reference)
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): tile grids with partial tiles, batch 3, channel slices.

fn winograd_tiles(batch: usize, height: usize, width: usize) -> WinogradTiles {
    WinogradTiles { batch, height, width }
}

pub(super) fn input_sweep_cases() -> Vec<WinogradInput> {
    vec![
        WinogradInput { tiles: winograd_tiles(1, 7, 7), channels: 5, input: ChannelSlice::at(0, 5) },
        WinogradInput { tiles: winograd_tiles(3, 13, 10), channels: 6, input: ChannelSlice::at(2, 10) },
        WinogradInput { tiles: winograd_tiles(2, 1, 1), channels: 3, input: ChannelSlice::at(0, 3) },
        WinogradInput { tiles: winograd_tiles(1, 56, 55), channels: 4, input: ChannelSlice::at(0, 4) },
    ]
}

pub(super) fn output_sweep_cases() -> Vec<WinogradOutput> {
    vec![
        WinogradOutput { tiles: winograd_tiles(1, 7, 7), channels: 5, relu: false, output: ChannelSlice::at(0, 5) },
        WinogradOutput { tiles: winograd_tiles(3, 13, 10), channels: 6, relu: true, output: ChannelSlice::at(3, 11) },
        WinogradOutput { tiles: winograd_tiles(2, 1, 1), channels: 3, relu: true, output: ChannelSlice::at(0, 3) },
        WinogradOutput { tiles: winograd_tiles(1, 56, 55), channels: 4, relu: false, output: ChannelSlice::at(1, 5) },
    ]
}
