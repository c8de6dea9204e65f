//! Per-channel affine map with optional residual and ReLU, between channel slices: a BatchNorm
//! or constant arithmetic no conv precedes, a standalone ReLU, the sum of two values (a residual
//! add no conv absorbs), a channel shuffle, the copy of a concat input that no kernel of ours
//! produces, or the end of a conv split along K (its parts' sums added, then its bias and ReLU).

use super::{accumulation_tolerance, Kernel};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, ChannelSlice};
use crate::gpu::{flat_workgroups, KernelId, Launch};

/// The WGSL files of the channel affine (ReLU, slice copy) kernel.
pub(crate) const SHADERS: &[&str] = &["channel_affine.wgsl"];

/// Inputs, in binding order: input, scale and shift interleaved (`[channels][2]`), residual
/// (one placeholder float without one).
///
/// With `parts` > 1 the input slice holds `parts` tensors of `channels` channels side by side
/// (part s's channel c at channel `s * channels + c` of the slice), added in part order before
/// the map: y = relu?((x_0 + x_1 + ...) * scale + shift + r). With `shuffle_groups` g > 1,
/// output channel c reads input channel `(c % g) * (channels / g) + c / g` (scale and shift are
/// by output channel).
#[derive(Clone, Debug)]
pub struct ChannelAffine {
    pub batch: usize,
    pub channels: usize,
    pub parts: usize,
    pub pixels: usize,
    pub relu: bool,
    pub input: ChannelSlice,
    pub output: ChannelSlice,
    /// Add this slice of the residual buffer (a value of the output's shape) before the ReLU.
    pub residual: Option<ChannelSlice>,
    /// 1, or the groups of a channel shuffle applied to the input's channels.
    pub shuffle_groups: usize,
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
    residual: u32,
    res_c_offset: u32,
    res_c_total: u32,
    shuffle_groups: u32,
    _pad: [u32; 3],
}

/// The input channel that output channel `c` of a channel shuffle (`channels` seen as
/// `[groups][channels / groups]`, transposed) comes from.
pub fn shuffle_source(c: usize, channels: usize, groups: usize) -> usize {
    (c % groups) * (channels / groups) + c / groups
}

impl ChannelAffine {
    /// A map over whole `[n, c, h, w]` buffers: no parts, residual or shuffle.
    pub fn whole([n, c, h, w]: [usize; 4], relu: bool) -> Self {
        let slice = ChannelSlice::whole(c);
        ChannelAffine { batch: n, channels: c, parts: 1, pixels: h * w, relu, input: slice, output: slice, residual: None, shuffle_groups: 1 }
    }


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
        match (self.parts > 1, self.residual.is_some(), self.shuffle_groups > 1, self.relu) {
            (true, _, _, false) => "split-K sum",
            (true, _, _, true) => "split-K sum + relu",
            (false, true, _, false) => "residual add",
            (false, true, _, true) => "residual add + relu",
            (false, false, true, _) => "channel shuffle",
            (false, false, false, false) => "channel affine",
            (false, false, false, true) => "channel affine + relu",
        }
    }

    fn describe(&self) -> String {
        format!(
            "n{} c{} parts {} pixels {}{}{} in[{}/{}] out[{}/{}]{}",
            self.batch, self.channels, self.parts, self.pixels, if self.relu { " relu" } else { "" },
            if self.shuffle_groups > 1 { format!(" shuffle {}", self.shuffle_groups) } else { String::new() },
            self.input.offset, self.input.total, self.output.offset, self.output.total,
            self.residual.map(|r| format!(" + residual[{}/{}]", r.offset, r.total)).unwrap_or_default(),
        )
    }

    fn check(&self) -> Result<()> {
        if [self.batch, self.channels, self.parts, self.pixels].contains(&0) {
            return Err(Error::shape("ChannelAffine", format!("zero-sized dimension in {}", self.describe())));
        }
        if self.shuffle_groups == 0 || !self.channels.is_multiple_of(self.shuffle_groups) {
            return Err(Error::shape("ChannelAffine", format!("{} channels do not split into {} shuffle groups", self.channels, self.shuffle_groups)));
        }
        if let Some(residual) = self.residual {
            residual.check("ChannelAffine", "residual", self.channels)?;
        }
        self.input.check("ChannelAffine", "input", self.input_channels())?;
        self.output.check("ChannelAffine", "output", self.channels)
    }

    fn input_lens(&self) -> Vec<usize> {
        let residual = self.residual.map_or(1, |r| self.batch * r.total * self.pixels);
        vec![self.batch * self.input.total * self.pixels, 2 * self.channels, residual]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.batch * self.output.total * self.pixels]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [input, scale_shift, residual] = inputs else { panic!("channel affine takes input, scale/shift and residual") };
        for image in 0..self.batch {
            for c in 0..self.channels {
                let (scale, shift) = (scale_shift[2 * c], scale_shift[2 * c + 1]);
                let source = shuffle_source(c, self.channels, self.shuffle_groups);
                for p in 0..self.pixels {
                    let sum = (0..self.parts).map(|s| input[nchw_index(self.input, self.pixels, image, s * self.channels + source, p)]).reduce(|a, b| a + b).unwrap_or(0.0);
                    let added = self.residual.map_or(0.0, |r| residual[nchw_index(r, self.pixels, image, c, p)]);
                    let v = sum * scale + shift + added;
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
            residual: self.residual.is_some() as u32,
            res_c_offset: self.residual.map_or(0, |r| r.offset) as u32,
            res_c_total: self.residual.map_or(0, |r| r.total) as u32,
            shuffle_groups: self.shuffle_groups as u32,
            _pad: [0; 3],
        };
        Launch::new(KernelId::ChannelAffine, &params, flat_workgroups(self.batch * self.channels * self.pixels, 256))
    }

    fn work(&self) -> usize {
        self.batch * self.input_channels() * self.pixels
    }

    /// The parts are added in the reference's order, exactly as it does; then one multiply and
    /// one add, each rounded (or one fused multiply-add), and the residual's add: three ulp.
    /// With scale 1 and shift 0 (copies, plain ReLU, shuffles) the result is exact.
    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        accumulation_tolerance(3, reference)
    }

    fn reads_residual(&self) -> bool {
        true
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): ReLU in place, a copy into a concat slice,
// the sums of split convs' parts (from a slice, into a slice), residual adds between slices of
// three buffers (with and without ReLU), and channel shuffles (into a slice, with a residual).

pub(super) fn sweep_cases() -> Vec<ChannelAffine> {
    let relu = ChannelAffine::whole([3, 5, 7, 7], true);
    let concat_input = ChannelAffine { input: ChannelSlice::at(2, 9), output: ChannelSlice::at(7, 17), ..ChannelAffine::whole([3, 5, 13, 1], false) };
    let split_sum = ChannelAffine { parts: 3, input: ChannelSlice::at(2, 25), output: ChannelSlice::at(4, 17), ..ChannelAffine::whole([3, 7, 13, 1], true) };
    let split_sum_linear = ChannelAffine { parts: 8, input: ChannelSlice::at(0, 264), ..ChannelAffine::whole([1, 33, 7, 7], false) };
    let residual = ChannelAffine { residual: Some(ChannelSlice::at(3, 12)), input: ChannelSlice::at(1, 10), output: ChannelSlice::at(2, 11), ..ChannelAffine::whole([3, 9, 5, 3], true) };
    let residual_linear = ChannelAffine { residual: Some(ChannelSlice::whole(6)), ..ChannelAffine::whole([2, 6, 11, 1], false) };
    let shuffle = ChannelAffine { shuffle_groups: 4, output: ChannelSlice::at(3, 40), ..ChannelAffine::whole([3, 24, 3, 5], false) };
    let shuffle_residual = ChannelAffine { shuffle_groups: 3, residual: Some(ChannelSlice::whole(15)), ..ChannelAffine::whole([2, 15, 7, 1], true) };
    vec![relu, concat_input, split_sum, split_sum_linear, residual, residual_linear, shuffle, shuffle_residual]
}
