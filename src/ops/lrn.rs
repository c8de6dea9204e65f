//! Local response normalisation across channels (ONNX `LRN`: `alpha` is divided by `size`).

use super::Kernel;
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, ChannelSlice};
use crate::gpu::{flat_workgroups, KernelId, Launch};

/// The WGSL files of the LRN kernel.
pub(crate) const SHADERS: &[&str] = &["lrn.wgsl"];

/// Input, in binding order: input.
#[derive(Clone, Debug)]
pub struct Lrn {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub size: usize,
    pub alpha: f32,
    pub beta: f32,
    pub bias: f32,
    pub input: ChannelSlice,
    pub output: ChannelSlice,
}

/// Mirrors `LrnParams` in `shaders/lrn.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct LrnParams {
    batch: u32,
    channels: u32,
    pixels: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_c_offset: u32,
    out_c_total: u32,
    size: u32,
    alpha: f32,
    beta: f32,
    bias: f32,
    _pad: u32,
}

impl Lrn {
    /// GoogLeNet's LRN (size 5, alpha 1e-4, beta 0.75, bias 1) over whole buffers.
    pub fn googlenet(batch: usize, channels: usize, height: usize, width: usize) -> Self {
        Lrn {
            batch,
            channels,
            height,
            width,
            size: 5,
            alpha: 1e-4,
            beta: 0.75,
            bias: 1.0,
            input: ChannelSlice::whole(channels),
            output: ChannelSlice::whole(channels),
        }
    }

    /// The channels summed for channel `c`: `c - floor((size-1)/2) ..= c + ceil((size-1)/2)`.
    fn window(&self, c: usize) -> std::ops::RangeInclusive<usize> {
        c.saturating_sub((self.size - 1) / 2)..=(c + self.size / 2).min(self.channels - 1)
    }
}

impl Kernel for Lrn {
    fn kernel_name(&self) -> &'static str {
        "lrn"
    }

    fn describe(&self) -> String {
        format!(
            "n{} c{} {}x{} size {} alpha {} beta {} bias {} in[{}/{}] out[{}/{}]",
            self.batch, self.channels, self.height, self.width, self.size, self.alpha, self.beta, self.bias,
            self.input.offset, self.input.total, self.output.offset, self.output.total,
        )
    }

    fn check(&self) -> Result<()> {
        if [self.batch, self.channels, self.height, self.width, self.size].contains(&0) {
            return Err(Error::shape("LRN", format!("zero-sized dimension or size in {}", self.describe())));
        }
        self.input.check("LRN", "input", self.channels)?;
        self.output.check("LRN", "output", self.channels)
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.batch * self.input.total * self.height * self.width]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.batch * self.output.total * self.height * self.width]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [input] = inputs else { panic!("LRN takes one input") };
        let pixels = self.height * self.width;
        for image in 0..self.batch {
            for c in 0..self.channels {
                for p in 0..pixels {
                    let square_sum: f32 = self
                        .window(c)
                        .map(|k| input[nchw_index(self.input, pixels, image, k, p)].powi(2))
                        .sum();
                    let scale = self.bias + self.alpha / self.size as f32 * square_sum;
                    let x = input[nchw_index(self.input, pixels, image, c, p)];
                    output[nchw_index(self.output, pixels, image, c, p)] = x / scale.powf(self.beta);
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        let params = LrnParams {
            batch: self.batch as u32,
            channels: self.channels as u32,
            pixels: (self.height * self.width) as u32,
            in_c_offset: self.input.offset as u32,
            in_c_total: self.input.total as u32,
            out_c_offset: self.output.offset as u32,
            out_c_total: self.output.total as u32,
            size: self.size as u32,
            alpha: self.alpha,
            beta: self.beta,
            bias: self.bias,
            _pad: 0,
        };
        // One thread per 4 channels of a pixel.
        let items = self.batch * self.channels.div_ceil(4) * self.height * self.width;
        Launch::new(KernelId::Lrn, &params, flat_workgroups(items, 256))
    }

    fn work(&self) -> usize {
        self.batch * self.channels * self.height * self.width * self.size
    }

    /// The square sum is rounded like any sum, but `pow` on GPUs is only accurate to a few ulp
    /// of its result (WGSL leaves its precision to the platform), so allow 8 ulp of the output on
    /// top of the summation bound.
    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        super::accumulation_tolerance(self.size + 8, reference)
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): GoogLeNet's LRN, an even window, other constants, channel slices.

pub(super) fn sweep_cases() -> Vec<Lrn> {
    let mut cases = vec![Lrn::googlenet(1, 64, 56, 56), Lrn::googlenet(3, 3, 7, 7)];
    let mut even = Lrn::googlenet(3, 13, 7, 7);
    (even.size, even.alpha, even.beta, even.bias) = (4, 0.5, 0.6, 2.0);
    cases.push(even);
    let mut sliced = Lrn::googlenet(3, 7, 13, 13);
    (sliced.size, sliced.alpha, sliced.input, sliced.output) = (3, 0.9, ChannelSlice::at(1, 8), ChannelSlice::at(5, 12));
    cases.push(sliced);
    cases
}
