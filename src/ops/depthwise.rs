//! Depthwise convolution, NCHW: each output channel convolves one input channel (ONNX Conv with
//! `group` = input channels, `channels * multiplier` outputs), any kernel size, stride and
//! per-side zero padding; bias and optional ReLU fused.

use super::{accumulation_tolerance, parallel, Kernel};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, window_output_len, ChannelSlice, Pads};
use crate::gpu::{flat_workgroups, KernelId, Launch};

/// The WGSL files of the depthwise conv kernel.
pub(crate) const SHADERS: &[&str] = &["depthwise_conv.wgsl"];

/// Inputs, in binding order: input, weight `[channels * multiplier][1][kernel_h][kernel_w]`,
/// bias `[channels * multiplier]`. Output channel o reads input channel `o / multiplier`.
#[derive(Clone, Debug)]
pub struct DepthwiseConv2d {
    pub batch: usize,
    /// Input channels (the op's, inside `input`).
    pub channels: usize,
    /// Output channels per input channel.
    pub multiplier: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pads: Pads,
    pub relu: bool,
    pub input: ChannelSlice,
    pub output: ChannelSlice,
}

/// Mirrors `DepthwiseParams` in `shaders/depthwise_conv.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct DepthwiseParams {
    batch: u32,
    out_channels: u32,
    multiplier: u32,
    in_h: u32,
    in_w: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_h: u32,
    out_w: u32,
    out_c_offset: u32,
    out_c_total: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    relu: u32,
    _pad: [u32; 2],
}

/// Invocations per workgroup (`@workgroup_size` in the shader).
const GROUP_SIZE: usize = 64;

/// Output columns one invocation computes (`COLUMNS` in the shader).
const COLUMNS: usize = 4;

impl DepthwiseConv2d {
    /// A depthwise conv over whole buffers with symmetric padding and no ReLU.
    #[allow(clippy::too_many_arguments)]
    pub fn simple(batch: usize, channels: usize, multiplier: usize, in_h: usize, in_w: usize, kernel: usize, stride: usize, pad: usize) -> Self {
        DepthwiseConv2d {
            batch,
            channels,
            multiplier,
            in_h,
            in_w,
            kernel_h: kernel,
            kernel_w: kernel,
            stride_h: stride,
            stride_w: stride,
            pads: Pads::uniform(pad),
            relu: false,
            input: ChannelSlice::whole(channels),
            output: ChannelSlice::whole(channels * multiplier),
        }
    }

    pub fn out_channels(&self) -> usize {
        self.channels * self.multiplier
    }

    pub fn out_h(&self) -> usize {
        window_output_len(self.in_h, self.kernel_h, self.stride_h, self.pads.top, self.pads.bottom, false).unwrap_or(0)
    }

    pub fn out_w(&self) -> usize {
        window_output_len(self.in_w, self.kernel_w, self.stride_w, self.pads.left, self.pads.right, false).unwrap_or(0)
    }

    fn taps(&self) -> usize {
        self.kernel_h * self.kernel_w
    }

    /// Computes this conv on the CPU into its slice of `output`: the bias, then each tap in
    /// (ky, kx) order, then the ReLU.
    pub fn reference(&self, input: &[f32], weight: &[f32], bias: &[f32], output: &mut [f32]) {
        let (out_h, out_w) = (self.out_h(), self.out_w());
        let in_pixels = self.in_h * self.in_w;
        let out_channels = self.out_channels();
        let planes = parallel::planes(self.batch * out_channels, out_h * out_w, |task, plane| {
            let (image, o) = (task / out_channels, task % out_channels);
            let channel = &input[nchw_index(self.input, in_pixels, image, o / self.multiplier, 0)..][..in_pixels];
            let taps = &weight[o * self.taps()..][..self.taps()];
            for oy in 0..out_h {
                for ox in 0..out_w {
                    let mut sum = bias[o];
                    for ky in 0..self.kernel_h {
                        let Some(y) = (oy * self.stride_h + ky).checked_sub(self.pads.top).filter(|&y| y < self.in_h) else {
                            continue;
                        };
                        for kx in 0..self.kernel_w {
                            if let Some(x) = (ox * self.stride_w + kx).checked_sub(self.pads.left).filter(|&x| x < self.in_w) {
                                sum += taps[ky * self.kernel_w + kx] * channel[y * self.in_w + x];
                            }
                        }
                    }
                    plane[oy * out_w + ox] = if self.relu { sum.max(0.0) } else { sum };
                }
            }
        });
        let out_pixels = out_h * out_w;
        for (task, plane) in planes.chunks(out_pixels).enumerate() {
            let start = nchw_index(self.output, out_pixels, task / out_channels, task % out_channels, 0);
            output[start..start + out_pixels].copy_from_slice(plane);
        }
    }
}

impl Kernel for DepthwiseConv2d {
    fn kernel_name(&self) -> &'static str {
        "depthwise conv"
    }

    fn describe(&self) -> String {
        let p = self.pads;
        format!(
            "n{} c{} x{} {}x{} k{}x{} s{}x{} pad t{} l{} b{} r{}{} in[{}/{}] out[{}/{}]",
            self.batch, self.channels, self.multiplier, self.in_h, self.in_w, self.kernel_h, self.kernel_w, self.stride_h, self.stride_w,
            p.top, p.left, p.bottom, p.right,
            if self.relu { " relu" } else { "" },
            self.input.offset, self.input.total, self.output.offset, self.output.total,
        )
    }

    fn check(&self) -> Result<()> {
        let op = "Conv (depthwise)";
        if [self.batch, self.channels, self.multiplier, self.in_h, self.in_w, self.kernel_h, self.kernel_w].contains(&0) {
            return Err(Error::shape(op, format!("zero-sized dimension in {}", self.describe())));
        }
        if self.stride_h == 0 || self.stride_w == 0 {
            return Err(Error::shape(op, "stride must be at least 1"));
        }
        // The shader's window coordinates are i32; a column reaches the padded width plus the
        // kernel plus four strides (a block's lanes past the last output, its next column).
        let padded_h = self.in_h.saturating_add(self.pads.top).saturating_add(self.pads.bottom);
        let padded_w = self.in_w.saturating_add(self.pads.left).saturating_add(self.pads.right);
        if [padded_h, padded_w, self.kernel_h, self.kernel_w, self.stride_h, self.stride_w].iter().any(|&v| v > i32::MAX as usize / 16) {
            return Err(Error::shape(op, format!("sizes past the kernel's 32-bit coordinates in {}", self.describe())));
        }
        if self.out_h() == 0 || self.out_w() == 0 {
            return Err(Error::shape(op, format!("kernel {}x{} is larger than the padded input in {}", self.kernel_h, self.kernel_w, self.describe())));
        }
        self.input.check(op, "input", self.channels)?;
        self.output.check(op, "output", self.out_channels())
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.batch * self.input.total * self.in_h * self.in_w, self.out_channels() * self.taps(), self.out_channels()]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.batch * self.output.total * self.out_h() * self.out_w()]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [input, weight, bias] = inputs else { panic!("a depthwise conv takes input, weight and bias") };
        DepthwiseConv2d::reference(self, input, weight, bias, output);
    }

    fn launch(&self) -> Launch {
        let params = DepthwiseParams {
            batch: self.batch as u32,
            out_channels: self.out_channels() as u32,
            multiplier: self.multiplier as u32,
            in_h: self.in_h as u32,
            in_w: self.in_w as u32,
            in_c_offset: self.input.offset as u32,
            in_c_total: self.input.total as u32,
            out_h: self.out_h() as u32,
            out_w: self.out_w() as u32,
            out_c_offset: self.output.offset as u32,
            out_c_total: self.output.total as u32,
            kernel_h: self.kernel_h as u32,
            kernel_w: self.kernel_w as u32,
            stride_h: self.stride_h as u32,
            stride_w: self.stride_w as u32,
            pad_top: self.pads.top as u32,
            pad_left: self.pads.left as u32,
            relu: self.relu as u32,
            _pad: [0; 2],
        };
        let items = self.batch * self.out_channels() * self.out_h() * self.out_w().div_ceil(COLUMNS);
        Launch::new(KernelId::DepthwiseConv, &params, flat_workgroups(items, GROUP_SIZE))
    }

    fn work(&self) -> usize {
        self.batch * self.out_channels() * self.out_h() * self.out_w() * self.taps()
    }

    fn flops(&self) -> f64 {
        2.0 * self.work() as f64
    }

    /// Each output is the bias plus kernel_h * kernel_w products, summed by the shader in
    /// another order than the reference's (by residue of kx modulo the stride, with fused
    /// multiply-adds): a sum of kernel_h * kernel_w + 1 terms. Taps over padding add exact
    /// zeros on both sides.
    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        accumulation_tolerance(self.taps() + 1, reference)
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): every kernel shape the importer meets in
// practice (1x1, 3x3, 5x5, 3x5, 7x1), strides 1 to 3, widths off the 4-column block, symmetric
// and asymmetric pads (some larger than the stride, one larger than the kernel: rows of only
// padding), multipliers 1 and 2, channel slices of larger buffers, and a MobileNet layer.

fn with(mut conv: DepthwiseConv2d, change: impl FnOnce(&mut DepthwiseConv2d)) -> DepthwiseConv2d {
    change(&mut conv);
    conv
}

pub(super) fn sweep_cases() -> Vec<DepthwiseConv2d> {
    vec![
        DepthwiseConv2d::simple(1, 3, 1, 7, 7, 3, 1, 1),
        DepthwiseConv2d::simple(3, 5, 1, 13, 13, 3, 2, 1),
        DepthwiseConv2d::simple(1, 4, 1, 9, 11, 1, 1, 0),
        DepthwiseConv2d::simple(3, 3, 2, 13, 9, 1, 2, 0),
        with(DepthwiseConv2d::simple(3, 7, 1, 17, 15, 5, 1, 2), |c| c.relu = true),
        DepthwiseConv2d::simple(1, 5, 2, 19, 23, 5, 3, 2),
        DepthwiseConv2d::simple(1, 2, 1, 1, 1, 3, 1, 1),
        DepthwiseConv2d::simple(3, 3, 1, 5, 6, 3, 3, 0),
        // Stride past the kernel; a kernel past the image on both sides.
        DepthwiseConv2d::simple(1, 3, 1, 11, 10, 2, 3, 1),
        DepthwiseConv2d::simple(3, 2, 1, 4, 5, 7, 1, 3),
        // 3x5, stride 2x1, asymmetric pads larger than the stride.
        with(DepthwiseConv2d::simple(1, 6, 1, 11, 14, 3, 1, 0), |c| {
            (c.kernel_w, c.stride_h, c.pads) = (5, 2, Pads::new(3, 2, 0, 4));
        }),
        // 7x1 with a multiplier, stride 1x3, into a slice with ReLU.
        with(DepthwiseConv2d::simple(3, 5, 2, 17, 13, 1, 1, 0), |c| {
            (c.kernel_h, c.stride_w, c.pads, c.relu) = (7, 3, Pads::new(3, 0, 3, 1), true);
            c.output = ChannelSlice::at(3, 17);
        }),
        // Pads past the kernel: the first rows and columns see padding only (bias alone).
        with(DepthwiseConv2d::simple(1, 3, 1, 6, 7, 2, 2, 0), |c| c.pads = Pads::new(3, 4, 1, 2)),
        // Read from and written to channel slices of larger buffers.
        with(DepthwiseConv2d::simple(3, 5, 1, 13, 11, 3, 1, 1), |c| {
            (c.input, c.output, c.relu) = (ChannelSlice::at(2, 9), ChannelSlice::at(4, 12), true);
        }),
        with(DepthwiseConv2d::simple(2, 4, 2, 10, 9, 3, 2, 1), |c| {
            (c.pads, c.input, c.output) = (Pads::new(0, 1, 1, 0), ChannelSlice::at(3, 7), ChannelSlice::at(1, 11));
        }),
        // MobileNet's first depthwise layer.
        with(DepthwiseConv2d::simple(1, 32, 1, 112, 112, 3, 1, 1), |c| c.relu = true),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Conv2d;
    use crate::rng::Rng;

    /// `conv` as a dense conv: output channel o's weights for input channel o / multiplier, zero
    /// for every other input channel.
    fn dense(conv: &DepthwiseConv2d, weight: &[f32]) -> (Conv2d, Vec<f32>) {
        let taps = conv.taps();
        let mut dense = Conv2d::simple(conv.batch, conv.channels, conv.in_h, conv.in_w, conv.out_channels(), 1, 1, 0);
        (dense.kernel_h, dense.kernel_w, dense.stride_h, dense.stride_w, dense.pads) = (conv.kernel_h, conv.kernel_w, conv.stride_h, conv.stride_w, conv.pads);
        (dense.relu, dense.input, dense.output) = (conv.relu, conv.input, conv.output);
        let mut dense_weight = vec![0.0; conv.out_channels() * conv.channels * taps];
        for o in 0..conv.out_channels() {
            let at = (o * conv.channels + o / conv.multiplier) * taps;
            dense_weight[at..at + taps].copy_from_slice(&weight[o * taps..][..taps]);
        }
        (dense, dense_weight)
    }

    #[test]
    fn the_reference_is_a_dense_conv_with_zeros_off_its_channel() {
        // The dense reference adds the same products in the same order (its extra products are
        // zeros), so the two agree exactly.
        for (i, conv) in sweep_cases().into_iter().filter(|c| c.channels <= 8).enumerate() {
            conv.check().expect("a sweep case is valid");
            let mut rng = Rng::new(i as u64);
            let [input, weight, bias] = [0, 1, 2].map(|k| rng.symmetric_vec(conv.input_lens()[k]));
            let mut depthwise = vec![f32::NAN; conv.output_lens()[0]];
            conv.reference(&input, &weight, &bias, &mut depthwise);
            let (dense, dense_weight) = dense(&conv, &weight);
            let mut expected = vec![f32::NAN; conv.output_lens()[0]];
            dense.reference(&input, &dense_weight, &bias, None, &mut expected);
            let same = depthwise.iter().zip(&expected).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
            assert!(same, "{} differs from the dense conv", conv.describe());
        }
    }

    #[test]
    fn a_one_pixel_input_under_a_padded_window() {
        // 1x1 input, 3x3 kernel, pad 1, stride 1: the only output is the centre tap times the
        // pixel, plus the bias; with multiplier 2 each output channel has its own kernel.
        let conv = DepthwiseConv2d::simple(1, 1, 2, 1, 1, 3, 1, 1);
        let weight: Vec<f32> = (0..18).map(|v| v as f32).collect();
        let mut output = vec![0.0; 2];
        conv.reference(&[2.0], &weight, &[0.5, -1.0], &mut output);
        assert_eq!(output, [2.0 * 4.0 + 0.5, 2.0 * 13.0 - 1.0]);
    }

    #[test]
    fn shapes_it_cannot_compute_are_refused() {
        let base = DepthwiseConv2d::simple(1, 3, 2, 5, 5, 3, 1, 0);
        assert!(base.check().is_ok());
        let refused = [
            DepthwiseConv2d { kernel_h: 7, ..base.clone() },
            DepthwiseConv2d { stride_w: 0, ..base.clone() },
            DepthwiseConv2d { multiplier: 0, ..base.clone() },
            DepthwiseConv2d { output: ChannelSlice::at(1, 6), ..base.clone() },
            DepthwiseConv2d { input: ChannelSlice::at(1, 3), ..base.clone() },
            DepthwiseConv2d { pads: Pads::new(0, 1 << 30, 0, 0), ..base.clone() },
            DepthwiseConv2d { pads: Pads::new(usize::MAX, 0, usize::MAX, 0), ..base.clone() },
        ];
        for conv in refused {
            assert!(conv.check().is_err(), "{} accepted", conv.describe());
        }
    }
}
