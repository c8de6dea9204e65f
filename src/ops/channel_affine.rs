//! Per-channel affine map with optional ReLU, between channel slices: a BatchNorm no conv
//! precedes, a standalone ReLU, the copy of a concat input that no kernel of ours produces, or
//! the end of a conv split along K (its parts' sums added, then its bias and ReLU).

use super::{accumulation_tolerance, Kernel};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, ChannelSlice};
use crate::gpu::{flat_workgroups, KernelId, Launch};

/// The WGSL files of the channel affine (ReLU, slice copy) kernel.
pub(crate) const SHADERS: &[&str] = &["channel_affine.wgsl"];

/// Inputs, in binding order: input, scale and shift interleaved (`[channels][2]`).
///
/// With `parts` > 1 the input slice holds `parts` tensors of `channels` channels side by side
/// (part s's channel c at channel `s * channels + c` of the slice), added in part order before
/// the map: y = relu?((x_0 + x_1 + ...) * scale + shift).
#[derive(Clone, Debug)]
pub struct ChannelAffine {
    pub batch: usize,
    pub channels: usize,
    pub parts: usize,
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
    parts: u32,
    _pad: [u32; 3],
}

impl ChannelAffine {
    /// Scale 1 and shift 0 for every channel: a copy (or a plain ReLU), exact.
    pub fn identity_scale_shift(channels: usize) -> Vec<f32> {
        Self::bias_scale_shift(&vec![0.0; channels])
    }

    /// Scale 1 and a shift of `bias`: what the sum of a split conv's parts gets.
    pub fn bias_scale_shift(bias: &[f32]) -> Vec<f32> {
        bias.iter().flat_map(|&b| [1.0, b]).collect()
    }

    /// Channels of the input slice read: every part's.
    pub fn input_channels(&self) -> usize {
        self.parts * self.channels
    }
}

impl Kernel for ChannelAffine {
    fn kernel_name(&self) -> &'static str {
        match (self.parts > 1, self.relu) {
            (false, false) => "channel affine",
            (false, true) => "channel affine + relu",
            (true, false) => "split-K sum",
            (true, true) => "split-K sum + relu",
        }
    }

    fn describe(&self) -> String {
        format!(
            "n{} c{} parts {} pixels {}{} in[{}/{}] out[{}/{}]",
            self.batch, self.channels, self.parts, self.pixels, if self.relu { " relu" } else { "" },
            self.input.offset, self.input.total, self.output.offset, self.output.total,
        )
    }

    fn check(&self) -> Result<()> {
        if [self.batch, self.channels, self.parts, self.pixels].contains(&0) {
            return Err(Error::shape("ChannelAffine", format!("zero-sized dimension in {}", self.describe())));
        }
        self.input.check("ChannelAffine", "input", self.input_channels())?;
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
                    let sum = (0..self.parts).map(|s| input[nchw_index(self.input, self.pixels, image, s * self.channels + c, p)]).reduce(|a, b| a + b).unwrap_or(0.0);
                    let v = sum * scale + shift;
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
            parts: self.parts as u32,
            _pad: [0; 3],
        };
        Launch::new(KernelId::ChannelAffine, &params, flat_workgroups(self.batch * self.channels * self.pixels, 256))
    }

    fn work(&self) -> usize {
        self.batch * self.input_channels() * self.pixels
    }

    /// The parts are added in the reference's order, exactly as it does; then one multiply and
    /// one add, each rounded (or one fused multiply-add): two ulp. With scale 1 and shift 0
    /// (copies, plain ReLU) the result is exact.
    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        accumulation_tolerance(2, reference)
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): ReLU in place, a copy into a concat slice,
// and the sums of split convs' parts (from a slice, into a slice).

pub(super) fn sweep_cases() -> Vec<ChannelAffine> {
    let relu = ChannelAffine { batch: 3, channels: 5, parts: 1, pixels: 49, relu: true, input: ChannelSlice::at(0, 5), output: ChannelSlice::at(0, 5) };
    let concat_input = ChannelAffine { batch: 3, channels: 5, parts: 1, pixels: 13, relu: false, input: ChannelSlice::at(2, 9), output: ChannelSlice::at(7, 17) };
    let split_sum = ChannelAffine { batch: 3, channels: 7, parts: 3, pixels: 13, relu: true, input: ChannelSlice::at(2, 25), output: ChannelSlice::at(4, 17) };
    let split_sum_linear = ChannelAffine { batch: 1, channels: 33, parts: 8, pixels: 49, relu: false, input: ChannelSlice::at(0, 264), output: ChannelSlice::at(0, 33) };
    vec![relu, concat_input, split_sum, split_sum_linear]
}
