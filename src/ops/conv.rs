//! 2-D convolution, NCHW, any kernel size, stride and per-side padding; bias and optional ReLU
//! fused. A 1x1, stride-1, unpadded conv runs on the pointwise GEMM kernel.

use super::{accumulation_tolerance, parallel, Op};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, window_output_len, ChannelSlice, Pads};
use crate::gpu::{KernelId, Launch};

/// Inputs, in binding order: input, weight `[out_channels][in_channels][kernel_h][kernel_w]`,
/// bias `[out_channels]`.
#[derive(Clone, Debug)]
pub struct Conv2d {
    pub batch: usize,
    pub in_channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pads: Pads,
    pub relu: bool,
    pub input: ChannelSlice,
    pub output: ChannelSlice,
}

/// Mirrors `ConvParams` in `shaders/conv_gemm.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ConvParams {
    batch: u32,
    in_channels: u32,
    in_h: u32,
    in_w: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_channels: u32,
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

const TILE_M: usize = 64;
const TILE_N: usize = 64;

impl Conv2d {
    /// A conv that reads and writes whole buffers, with symmetric padding.
    #[allow(clippy::too_many_arguments)]
    pub fn simple(batch: usize, in_channels: usize, in_h: usize, in_w: usize, out_channels: usize, kernel: usize, stride: usize, pad: usize) -> Self {
        Conv2d {
            batch,
            in_channels,
            in_h,
            in_w,
            out_channels,
            kernel_h: kernel,
            kernel_w: kernel,
            stride_h: stride,
            stride_w: stride,
            pads: Pads::uniform(pad),
            relu: false,
            input: ChannelSlice::whole(in_channels),
            output: ChannelSlice::whole(out_channels),
        }
    }

    pub fn out_h(&self) -> usize {
        window_output_len(self.in_h, self.kernel_h, self.stride_h, self.pads.top, self.pads.bottom, false).unwrap_or(0)
    }

    pub fn out_w(&self) -> usize {
        window_output_len(self.in_w, self.kernel_w, self.stride_w, self.pads.left, self.pads.right, false).unwrap_or(0)
    }

    pub fn is_pointwise(&self) -> bool {
        self.kernel_h == 1 && self.kernel_w == 1 && self.stride_h == 1 && self.stride_w == 1 && self.pads == Pads::default()
    }

    fn reduction_len(&self) -> usize {
        self.in_channels * self.kernel_h * self.kernel_w
    }
}

impl Op for Conv2d {
    fn kernel_name(&self) -> &'static str {
        if self.is_pointwise() { "conv 1x1" } else { "conv kxk" }
    }

    fn describe(&self) -> String {
        let p = self.pads;
        format!(
            "n{} {}x{}x{} -> {} k{}x{} s{}x{} pad t{} l{} b{} r{}{} in[{}/{}] out[{}/{}]",
            self.batch, self.in_channels, self.in_h, self.in_w, self.out_channels, self.kernel_h, self.kernel_w,
            self.stride_h, self.stride_w, p.top, p.left, p.bottom, p.right,
            if self.relu { " relu" } else { "" },
            self.input.offset, self.input.total, self.output.offset, self.output.total,
        )
    }

    fn check(&self) -> Result<()> {
        let op = "Conv";
        if [self.batch, self.in_channels, self.in_h, self.in_w, self.out_channels].contains(&0) {
            return Err(Error::shape(op, format!("zero-sized dimension in {}", self.describe())));
        }
        if self.stride_h == 0 || self.stride_w == 0 {
            return Err(Error::shape(op, "stride must be at least 1"));
        }
        if self.out_h() == 0 || self.out_w() == 0 {
            return Err(Error::shape(
                op,
                format!("kernel {}x{} is larger than the padded input in {}", self.kernel_h, self.kernel_w, self.describe()),
            ));
        }
        self.input.check(op, "input", self.in_channels)?;
        self.output.check(op, "output", self.out_channels)
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![
            self.batch * self.input.total * self.in_h * self.in_w,
            self.out_channels * self.reduction_len(),
            self.out_channels,
        ]
    }

    fn output_len(&self) -> usize {
        self.batch * self.output.total * self.out_h() * self.out_w()
    }

    fn reference(&self, inputs: &[&[f32]], output: &mut [f32]) {
        let [input, weight, bias] = inputs else { panic!("conv takes input, weight and bias") };
        let (out_h, out_w) = (self.out_h(), self.out_w());
        let in_pixels = self.in_h * self.in_w;
        let planes = parallel::planes(self.batch * self.out_channels, out_h * out_w, |task, plane| {
            let (image, m) = (task / self.out_channels, task % self.out_channels);
            plane.fill(bias[m]);
            for c in 0..self.in_channels {
                let channel = &input[nchw_index(self.input, in_pixels, image, c, 0)..][..in_pixels];
                for ky in 0..self.kernel_h {
                    for kx in 0..self.kernel_w {
                        let w = weight[((m * self.in_channels + c) * self.kernel_h + ky) * self.kernel_w + kx];
                        for oy in 0..out_h {
                            let Some(y) = (oy * self.stride_h + ky).checked_sub(self.pads.top).filter(|&y| y < self.in_h) else {
                                continue;
                            };
                            for ox in 0..out_w {
                                let Some(x) = (ox * self.stride_w + kx).checked_sub(self.pads.left).filter(|&x| x < self.in_w) else {
                                    continue;
                                };
                                plane[oy * out_w + ox] += w * channel[y * self.in_w + x];
                            }
                        }
                    }
                }
            }
            if self.relu {
                plane.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        });
        let out_pixels = out_h * out_w;
        for (task, plane) in planes.chunks(out_pixels).enumerate() {
            let start = nchw_index(self.output, out_pixels, task / self.out_channels, task % self.out_channels, 0);
            output[start..start + out_pixels].copy_from_slice(plane);
        }
    }

    fn launch(&self) -> Launch {
        let params = ConvParams {
            batch: self.batch as u32,
            in_channels: self.in_channels as u32,
            in_h: self.in_h as u32,
            in_w: self.in_w as u32,
            in_c_offset: self.input.offset as u32,
            in_c_total: self.input.total as u32,
            out_channels: self.out_channels as u32,
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
        let kernel = if self.is_pointwise() { KernelId::Conv1x1 } else { KernelId::ConvKxk };
        let columns = self.batch * self.out_h() * self.out_w();
        let workgroups = [columns.div_ceil(TILE_N) as u32, self.out_channels.div_ceil(TILE_M) as u32, 1];
        Launch::new(kernel, &params, workgroups)
    }

    fn work(&self) -> usize {
        self.batch * self.out_channels * self.out_h() * self.out_w() * self.reduction_len()
    }

    fn tolerance(&self, reference: &[f32]) -> f32 {
        accumulation_tolerance(self.reduction_len() + 1, reference)
    }
}
