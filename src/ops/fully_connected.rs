//! Fully connected layer over a batch: y = x W^T + bias, optional ReLU. Also ONNX `Gemm` once
//! its constants are folded: transposed A through strides, a matrix C as a per-row bias.

use super::{accumulation_tolerance, Kernel};
use crate::error::{Error, Result};
use crate::gpu::{KernelId, Launch};

/// Inputs, in binding order: x (element (b, i) at `b * x_stride_batch + i * x_stride_feature`),
/// weight `[out_features][in_features]`, bias (element (b, o) at `b * bias_stride_batch + o`).
#[derive(Clone, Debug)]
pub struct FullyConnected {
    pub batch: usize,
    pub in_features: usize,
    pub out_features: usize,
    pub x_stride_batch: usize,
    pub x_stride_feature: usize,
    pub bias_stride_batch: usize,
    pub relu: bool,
    pub variant: FcVariant,
}

/// How a fully connected layer is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FcVariant {
    /// A workgroup per output with a tree reduction (`fully_connected_reduce.wgsl`): for GPUs.
    #[default]
    Reduce,
    /// A thread per output, vec4 loads, no barriers (`fully_connected_rows.wgsl`): for CPU-like
    /// adapters; needs `in_features` and x's row stride multiples of 4 and contiguous x rows.
    Rows,
}

/// Mirrors `FcParams` in `shaders/fully_connected.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FcParams {
    batch: u32,
    in_features: u32,
    out_features: u32,
    x_stride_batch: u32,
    x_stride_feature: u32,
    bias_stride_batch: u32,
    relu: u32,
    _pad: u32,
}

impl FullyConnected {
    /// x is `[batch][in_features]`, one bias vector.
    pub fn new(batch: usize, in_features: usize, out_features: usize) -> Self {
        FullyConnected {
            batch,
            in_features,
            out_features,
            x_stride_batch: in_features,
            x_stride_feature: 1,
            bias_stride_batch: 0,
            relu: false,
            variant: FcVariant::default(),
        }
    }

    fn fits(&self, variant: FcVariant) -> bool {
        match variant {
            FcVariant::Reduce => true,
            FcVariant::Rows => self.in_features.is_multiple_of(4) && self.x_stride_feature == 1 && self.x_stride_batch.is_multiple_of(4),
        }
    }

    fn x_index(&self, b: usize, i: usize) -> usize {
        b * self.x_stride_batch + i * self.x_stride_feature
    }
}

impl Kernel for FullyConnected {
    fn kernel_name(&self) -> &'static str {
        "fully connected"
    }

    fn describe(&self) -> String {
        format!(
            "n{} {} -> {}{}{}{}",
            self.batch,
            self.in_features,
            self.out_features,
            if self.x_stride_feature != 1 { " x transposed" } else { "" },
            if self.bias_stride_batch != 0 { " matrix bias" } else { "" },
            if self.relu { " relu" } else { "" },
        )
    }

    fn check(&self) -> Result<()> {
        if [self.batch, self.in_features, self.out_features].contains(&0) {
            return Err(Error::shape("Gemm", format!("zero-sized dimension in {}", self.describe())));
        }
        if !self.fits(self.variant) {
            return Err(Error::shape("Gemm", format!("the {} kernel cannot compute {}", self.variant_name(), self.describe())));
        }
        Ok(())
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![
            self.x_index(self.batch - 1, self.in_features - 1) + 1,
            self.out_features * self.in_features,
            (self.batch - 1) * self.bias_stride_batch + self.out_features,
        ]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.batch * self.out_features]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [x, weight, bias] = inputs else { panic!("fully connected takes x, weight and bias") };
        for b in 0..self.batch {
            for o in 0..self.out_features {
                let row = &weight[o * self.in_features..][..self.in_features];
                let dot: f32 = row.iter().enumerate().map(|(i, w)| w * x[self.x_index(b, i)]).sum();
                let v = dot + bias[b * self.bias_stride_batch + o];
                output[b * self.out_features + o] = if self.relu { v.max(0.0) } else { v };
            }
        }
    }

    fn launch(&self) -> Launch {
        let params = FcParams {
            batch: self.batch as u32,
            in_features: self.in_features as u32,
            out_features: self.out_features as u32,
            x_stride_batch: self.x_stride_batch as u32,
            x_stride_feature: self.x_stride_feature as u32,
            bias_stride_batch: self.bias_stride_batch as u32,
            relu: self.relu as u32,
            _pad: 0,
        };
        match self.variant {
            FcVariant::Reduce => Launch::new(KernelId::FullyConnected, &params, [self.out_features as u32, self.batch as u32, 1]),
            FcVariant::Rows => Launch::new(KernelId::FullyConnectedRows, &params, [self.out_features.div_ceil(64) as u32, self.batch as u32, 1]),
        }
    }

    fn work(&self) -> usize {
        self.batch * self.in_features * self.out_features
    }

    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        accumulation_tolerance(self.in_features + 1, reference)
    }

    fn variants(&self) -> Vec<Box<dyn Kernel>> {
        [FcVariant::Reduce, FcVariant::Rows]
            .into_iter()
            .filter(|&v| self.fits(v))
            .map(|variant| Box::new(FullyConnected { variant, ..self.clone() }) as Box<dyn Kernel>)
            .collect()
    }

    fn variant_name(&self) -> &'static str {
        match self.variant {
            FcVariant::Reduce => "reduce",
            FcVariant::Rows => "rows",
        }
    }
}
