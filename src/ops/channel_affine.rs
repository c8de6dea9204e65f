//! Per-channel affine map with optional ReLU, between channel slices: a BatchNorm no conv
//! precedes, a standalone ReLU, or the copy of a concat input that no kernel of ours produces.

use super::{accumulation_tolerance, Kernel};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, ChannelSlice};
use crate::gpu::{flat_workgroups, KernelId, Launch};

/// The WGSL files of the channel affine (ReLU, slice copy) kernel.
pub(crate) const SHADERS: &[&str] = &["channel_affine.wgsl"];

/// Inputs, in binding order: input, scale and shift interleaved (`[channels][2]`).
#[derive(Clone, Debug)]
pub struct ChannelAffine {
    pub batch: usize,
    pub channels: usize,
    pub pixels: usize,
    pub relu: bool,
    pub input: ChannelSlice,
    pub output: ChannelSlice,
}

/// Mirrors `AffineParams` in `shaders/channel_affine.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct AffineParams {
    batch: u32,
    channels: u32,
    pixels: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_c_offset: u32,
    out_c_total: u32,
    relu: u32,
}

impl ChannelAffine {
    /// Scale 1 and shift 0 for every channel: a copy (or a plain ReLU), exact.
    pub fn identity_scale_shift(channels: usize) -> Vec<f32> {
        [1.0, 0.0].repeat(channels)
    }
}

impl Kernel for ChannelAffine {
    fn kernel_name(&self) -> &'static str {
        if self.relu { "channel affine + relu" } else { "channel affine" }
    }

    fn describe(&self) -> String {
        format!(
            "n{} c{} pixels {}{} in[{}/{}] out[{}/{}]",
            self.batch, self.channels, self.pixels, if self.relu { " relu" } else { "" },
            self.input.offset, self.input.total, self.output.offset, self.output.total,
        )
    }

    fn check(&self) -> Result<()> {
        if [self.batch, self.channels, self.pixels].contains(&0) {
            return Err(Error::shape("ChannelAffine", format!("zero-sized dimension in {}", self.describe())));
        }
        self.input.check("ChannelAffine", "input", self.channels)?;
        self.output.check("ChannelAffine", "output", self.channels)
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.batch * self.input.total * self.pixels, 2 * self.channels]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.batch * self.output.total * self.pixels]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [input, scale_shift] = inputs else { panic!("channel affine takes input and scale/shift") };
        for image in 0..self.batch {
            for c in 0..self.channels {
                let (scale, shift) = (scale_shift[2 * c], scale_shift[2 * c + 1]);
                for p in 0..self.pixels {
                    let v = input[nchw_index(self.input, self.pixels, image, c, p)] * scale + shift;
                    output[nchw_index(self.output, self.pixels, image, c, p)] = if self.relu { v.max(0.0) } else { v };
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        let params = AffineParams {
            batch: self.batch as u32,
            channels: self.channels as u32,
            pixels: self.pixels as u32,
            in_c_offset: self.input.offset as u32,
            in_c_total: self.input.total as u32,
            out_c_offset: self.output.offset as u32,
            out_c_total: self.output.total as u32,
            relu: self.relu as u32,
        };
        Launch::new(KernelId::ChannelAffine, &params, flat_workgroups(self.batch * self.channels * self.pixels, 256))
    }

    fn work(&self) -> usize {
        self.batch * self.channels * self.pixels
    }

    /// One multiply and one add, each rounded (or one fused multiply-add): two ulp. With scale 1
    /// and shift 0 (copies, plain ReLU) the result is exact.
    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        accumulation_tolerance(2, reference)
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): ReLU in place, and a copy into a concat slice.

pub(super) fn sweep_cases() -> Vec<ChannelAffine> {
    let relu = ChannelAffine { batch: 3, channels: 5, pixels: 49, relu: true, input: ChannelSlice::at(0, 5), output: ChannelSlice::at(0, 5) };
    let concat_input = ChannelAffine { batch: 3, channels: 5, pixels: 13, relu: false, input: ChannelSlice::at(2, 9), output: ChannelSlice::at(7, 17) };
    vec![relu, concat_input]
}
