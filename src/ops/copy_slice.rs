//! ReLU or identity from one channel slice to another (standalone ONNX `Relu`, and the copy of a
//! concat input that no kernel of ours produces).

use super::Kernel;
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, ChannelSlice};
use crate::gpu::{flat_workgroups, KernelId, Launch};

/// Input, in binding order: input.
#[derive(Clone, Debug)]
pub struct CopySlice {
    pub batch: usize,
    pub channels: usize,
    pub pixels: usize,
    pub relu: bool,
    pub input: ChannelSlice,
    pub output: ChannelSlice,
}

/// Mirrors `CopyParams` in `shaders/copy_slice.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct CopyParams {
    batch: u32,
    channels: u32,
    pixels: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_c_offset: u32,
    out_c_total: u32,
    relu: u32,
}

impl Kernel for CopySlice {
    fn kernel_name(&self) -> &'static str {
        if self.relu { "relu" } else { "copy slice" }
    }

    fn describe(&self) -> String {
        format!(
            "n{} c{} pixels {} in[{}/{}] out[{}/{}]",
            self.batch, self.channels, self.pixels, self.input.offset, self.input.total, self.output.offset, self.output.total,
        )
    }

    fn check(&self) -> Result<()> {
        if [self.batch, self.channels, self.pixels].contains(&0) {
            return Err(Error::shape("Copy", format!("zero-sized dimension in {}", self.describe())));
        }
        self.input.check("Copy", "input", self.channels)?;
        self.output.check("Copy", "output", self.channels)
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.batch * self.input.total * self.pixels]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.batch * self.output.total * self.pixels]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [input] = inputs else { panic!("copy takes one input") };
        for image in 0..self.batch {
            for c in 0..self.channels {
                for p in 0..self.pixels {
                    let v = input[nchw_index(self.input, self.pixels, image, c, p)];
                    output[nchw_index(self.output, self.pixels, image, c, p)] = if self.relu { v.max(0.0) } else { v };
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        let params = CopyParams {
            batch: self.batch as u32,
            channels: self.channels as u32,
            pixels: self.pixels as u32,
            in_c_offset: self.input.offset as u32,
            in_c_total: self.input.total as u32,
            out_c_offset: self.output.offset as u32,
            out_c_total: self.output.total as u32,
            relu: self.relu as u32,
        };
        Launch::new(KernelId::CopySlice, &params, flat_workgroups(self.batch * self.channels * self.pixels, 256))
    }

    fn work(&self) -> usize {
        self.batch * self.channels * self.pixels
    }

    /// max(x, 0) and a copy are exact.
    fn tolerance(&self, _reference: &[Vec<f32>]) -> f32 {
        0.0
    }
}
