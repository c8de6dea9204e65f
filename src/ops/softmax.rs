//! Softmax along one axis of a tensor viewed as `[outer][len][inner]`, stable (max subtracted).

use super::Kernel;
use crate::error::{Error, Result};
use crate::gpu::{flat_workgroups, KernelId, Launch};

/// The WGSL files of the softmax kernel.
pub(crate) const SHADERS: &[&str] = &["softmax.wgsl"];

/// Input, in binding order: input; the output has the same shape.
#[derive(Clone, Debug)]
pub struct Softmax {
    pub outer: usize,
    pub len: usize,
    pub inner: usize,
}

/// Mirrors `SoftmaxParams` in `shaders/softmax.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SoftmaxParams {
    outer: u32,
    len: u32,
    inner: u32,
    _pad: u32,
}

impl Softmax {
    /// Softmax over each row of `[rows][len]`, the classifier's case.
    pub fn rows(rows: usize, len: usize) -> Self {
        Softmax { outer: rows, len, inner: 1 }
    }
}

impl Kernel for Softmax {
    fn kernel_name(&self) -> &'static str {
        "softmax"
    }

    fn describe(&self) -> String {
        format!("[{}][{}][{}] along {}", self.outer, self.len, self.inner, self.len)
    }

    fn check(&self) -> Result<()> {
        if [self.outer, self.len, self.inner].contains(&0) {
            return Err(Error::shape("Softmax", format!("zero-sized dimension in {}", self.describe())));
        }
        Ok(())
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.outer * self.len * self.inner]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.outer * self.len * self.inner]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [input] = inputs else { panic!("softmax takes one input") };
        for o in 0..self.outer {
            for i in 0..self.inner {
                let index = |k: usize| (o * self.len + k) * self.inner + i;
                let max = (0..self.len).map(|k| input[index(k)]).fold(f32::MIN, f32::max);
                let sum: f32 = (0..self.len).map(|k| (input[index(k)] - max).exp()).sum();
                for k in 0..self.len {
                    output[index(k)] = (input[index(k)] - max).exp() / sum;
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        let params = SoftmaxParams { outer: self.outer as u32, len: self.len as u32, inner: self.inner as u32, _pad: 0 };
        // One workgroup per row.
        Launch::new(KernelId::Softmax, &params, flat_workgroups(self.outer * self.inner, 1))
    }

    fn work(&self) -> usize {
        self.outer * self.len * self.inner
    }

    /// Each output is exp(x - max) / sum: the sum of `len` terms is rounded like any sum, and
    /// GPU `exp` is accurate to a few ulp (WGSL leaves it to the platform): allow 8 more ulp.
    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        super::accumulation_tolerance(self.len + 8, reference)
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): rows of 1 to 1000, and an axis with an inner stride.

pub(super) fn sweep_cases() -> Vec<Softmax> {
    vec![
        Softmax::rows(1, 1000),
        Softmax::rows(3, 7),
        Softmax::rows(2, 1),
        Softmax { outer: 2, len: 5, inner: 3 },
        Softmax { outer: 1, len: 130, inner: 17 },
    ]
}
