//! The ops: for each, its shape, its CPU reference (the oracle) and its GPU launch.
//!
//! One op = one file here + one kernel in `shaders/` + cases in `verify::cases`.

mod conv;
mod channel_affine;
mod depthwise;
mod fully_connected;
mod key;
mod lrn;
mod parallel;
mod pool;
mod softmax;
mod winograd;

pub use conv::{Conv2d, ConvGroup, ConvVariant, OutputSlot, MAX_PROBLEMS};
pub use channel_affine::{shuffle_source, ChannelAffine};
pub use depthwise::DepthwiseConv2d;
pub use fully_connected::{FcVariant, FullyConnected};
pub use key::{KernelFamily, KernelKey, KERNEL_SET_VERSION};
pub use lrn::Lrn;
pub use pool::{Pool2d, PoolKind};
pub use softmax::Softmax;
/// Each kernel's WGSL files, declared beside its op.
pub(crate) mod shader_files {
    pub(crate) use super::channel_affine::SHADERS as CHANNEL_AFFINE;
    pub(crate) use super::conv::shaders as conv;
    pub(crate) use super::depthwise::SHADERS as DEPTHWISE_CONV;
    pub(crate) use super::fully_connected::{REDUCE_SHADERS as FULLY_CONNECTED_REDUCE, ROWS_SHADERS as FULLY_CONNECTED_ROWS};
    pub(crate) use super::lrn::SHADERS as LRN;
    pub(crate) use super::pool::SHADERS as POOL;
    pub(crate) use super::softmax::SHADERS as SOFTMAX;
    pub(crate) use super::winograd::{
        F4_INPUT_SHADERS as WINOGRAD4_INPUT, F4_OUTPUT_SHADERS as WINOGRAD4_OUTPUT, INPUT_SHADERS as WINOGRAD_INPUT, OUTPUT_SHADERS as WINOGRAD_OUTPUT,
    };
}
pub use winograd::{winograd_applies, winograd_gemms, winograd_weights, WinogradInput, WinogradOutput, WinogradTile, WinogradTiles};

use crate::error::Result;
use crate::gpu::{Gpu, Launch};

/// One kernel invocation with a fixed shape: the unit that tests, `verify` and benches run on
/// both the GPU and the CPU reference.
pub trait Kernel: Send + Sync + std::fmt::Debug {
    /// The kernel family, for reports ("conv kxk", "max pool", ...).
    fn kernel_name(&self) -> &'static str;
    /// The shape in words, for reports.
    fn describe(&self) -> String;
    /// Rejects shapes the op cannot compute, with an error saying why.
    fn check(&self) -> Result<()>;
    /// Lengths of the input buffers, in binding order (after the parameter block).
    fn input_lens(&self) -> Vec<usize>;
    /// Lengths of the output buffers, in binding order after the inputs: whole buffers (all
    /// channels, not just the op's slice). A length of 0 is an unused output binding.
    fn output_lens(&self) -> Vec<usize>;
    /// Computes the op on the CPU; writes only the op's slices of `outputs`.
    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]);
    fn launch(&self) -> Launch;
    /// Multiply-adds (or comparisons) the op performs, for throughput figures.
    fn work(&self) -> usize;

    /// Floating-point operations, for GFLOP/s: one per unit of `work` unless the op counts a
    /// multiply-add as two (convs, fully connected layers).
    fn flops(&self) -> f64 {
        self.work() as f64
    }

    /// What the tuning cache keeps this dispatch's variant choice under; `None` for ops with one
    /// variant.
    fn tuning_key(&self) -> Option<KernelKey> {
        None
    }
    /// The largest |GPU - reference| accepted for this op, given the reference outputs.
    fn tolerance(&self, reference: &[Vec<f32>]) -> f32;

    /// The same computation in each kernel variant there is (empty when there is one only), for
    /// the tuner to time; `variant_name` tells them apart.
    fn variants(&self) -> Vec<Box<dyn Kernel>> {
        Vec::new()
    }

    fn variant_name(&self) -> &'static str {
        "default"
    }

    /// How well this variant suits a CPU-like adapter (lavapipe, SwiftShader), higher better: the
    /// default choice where the adapter has no tuning cache entry. Ranked by `googlenet tune` on
    /// lavapipe (docs/PERFORMANCE.md), where the GPU-style variants run 5 to 10 times slower.
    fn cpu_preference(&self) -> u8 {
        0
    }

    /// Input `index` (in binding order) laid out as the GPU kernel reads it, where that differs
    /// from the layout `reference` takes (a variant may pack its weights for its loads).
    fn pack_input(&self, _index: usize, _data: &[f32]) -> Option<Vec<f32>> {
        None
    }

    /// Whether the kernel's last input binding is a residual: an activation the plan binds
    /// after the constants (`Dispatch::residual`), or a placeholder where the dispatch adds none.
    fn reads_residual(&self) -> bool {
        false
    }

    /// Whether `gpu` offers what this kernel needs (a variant may need optional features).
    fn runs_on(&self, _gpu: &Gpu) -> bool {
        true
    }
}

/// Every input of `op` as its GPU kernel reads it (see `Kernel::pack_input`).
pub fn gpu_inputs(op: &dyn Kernel, inputs: &[&[f32]]) -> Vec<Vec<f32>> {
    inputs.iter().enumerate().map(|(i, data)| op.pack_input(i, data).unwrap_or_else(|| data.to_vec())).collect()
}

/// Tolerance for a result that sums `terms` products in f32.
///
/// The GPU and the reference add the same terms in different orders (tiles, tree reductions,
/// fused multiply-adds), so each result may differ by rounding. The classic bound for a sum of
/// n terms is n * eps * sum|term|; we use n * eps * max|output| (NaN sentinels ignored), which for
/// random data sits well above the observed error yet far below the O(max|output|) error that a
/// wrong index, a mishandled pad or a write outside the slice produces.
pub fn accumulation_tolerance(terms: usize, reference: &[Vec<f32>]) -> f32 {
    let scale = reference.iter().flatten().filter(|v| !v.is_nan()).fold(0.0f32, |m, v| m.max(v.abs()));
    terms as f32 * f32::EPSILON * scale.max(f32::MIN_POSITIVE)
}

fn boxed<T: Kernel + 'static>(ops: Vec<T>) -> impl Iterator<Item = Box<dyn Kernel>> {
    ops.into_iter().map(|op| Box::new(op) as Box<dyn Kernel>)
}

/// Every op's kernel sweep cases (each declared beside the op's reference), in its default
/// variant: shapes that break tiling and indexing (widths off every tile, channel counts off 4,
/// batch 1 and 3, strides, asymmetric pads, ceil and floor pools) and reads and writes through
/// channel slices of larger buffers, whose other channels must keep their NaN sentinel.
pub(crate) fn sweep_cases() -> Vec<Box<dyn Kernel>> {
    let mut ops = Vec::new();
    ops.extend(boxed(conv::sweep_cases()));
    ops.extend(boxed(pool::sweep_cases()));
    ops.extend(boxed(lrn::sweep_cases()));
    ops.extend(boxed(fully_connected::sweep_cases()));
    ops.extend(boxed(softmax::sweep_cases()));
    ops.extend(boxed(channel_affine::sweep_cases()));
    ops.extend(boxed(depthwise::sweep_cases()));
    ops.extend(boxed(winograd::input_sweep_cases()));
    ops.extend(boxed(winograd::output_sweep_cases()));
    ops
}
