//! Fully connected layer over a batch: y = x W^T + bias, optional ReLU (also ONNX `Gemm` and
//! `MatMul` + `Add`, once the importer has folded their constants into W and the bias).

use super::{accumulation_tolerance, Kernel, KernelFamily, KernelKey};
use crate::error::{Error, Result};
use crate::geometry::ChannelSlice;
use crate::gpu::{KernelId, Launch};

/// The WGSL files of each classifier variant: the shared bindings, then the variant's body.
pub(crate) const REDUCE_SHADERS: &[&str] = &["fully_connected.wgsl", "fully_connected_reduce.wgsl"];
pub(crate) const ROWS_SHADERS: &[&str] = &["fully_connected.wgsl", "fully_connected_rows.wgsl"];

/// Inputs, in binding order: x `[batch][in_features]`, weight `[out_features][in_features]`,
/// bias `[out_features]`. The output is `[batch][output.total]`, this layer's features at
/// `output.offset` (one part of a layer whose weight is split along its outputs, see
/// `split_rows`; all of them otherwise).
#[derive(Clone, Debug)]
pub struct FullyConnected {
    pub batch: usize,
    pub in_features: usize,
    pub out_features: usize,
    pub relu: bool,
    pub variant: FcVariant,
    pub output: ChannelSlice,
}

/// How a fully connected layer is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FcVariant {
    /// A workgroup per output with a tree reduction (`fully_connected_reduce.wgsl`): for GPUs.
    #[default]
    Reduce,
    /// A thread per output, vec4 loads, no barriers (`fully_connected_rows.wgsl`): for CPU-like
    /// adapters; needs `in_features` a multiple of 4.
    Rows,
}

/// Mirrors `FcParams` in `shaders/fully_connected.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FcParams {
    batch: u32,
    in_features: u32,
    out_features: u32,
    relu: u32,
    out_offset: u32,
    out_total: u32,
    _pad: [u32; 2],
}

impl FullyConnected {
    pub fn new(batch: usize, in_features: usize, out_features: usize) -> Self {
        FullyConnected { batch, in_features, out_features, relu: false, variant: FcVariant::default(), output: ChannelSlice::whole(out_features) }
    }

    /// Output rows per part when the `[out_features][in_features]` weight is split into parts
    /// of at most `max_bytes` each (a storage binding's limit): None where it fits whole.
    pub fn split_rows(&self, max_bytes: u64) -> Option<usize> {
        let row_bytes = self.in_features as u64 * 4;
        let rows = (max_bytes / row_bytes.max(1)).max(1) as usize;
        (rows < self.out_features).then_some(rows)
    }

    fn fits(&self, variant: FcVariant) -> bool {
        match variant {
            FcVariant::Reduce => true,
            FcVariant::Rows => self.in_features.is_multiple_of(4),
        }
    }
}

impl Kernel for FullyConnected {
    fn kernel_name(&self) -> &'static str {
        "fully connected"
    }

    fn describe(&self) -> String {
        format!(
            "n{} {} -> {}{}",
            self.batch,
            self.in_features,
            self.out_features,
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
        self.output.check("Gemm", "output", self.out_features)
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.batch * self.in_features, self.out_features * self.in_features, self.out_features]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.batch * self.output.total]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [x, weight, bias] = inputs else { panic!("fully connected takes x, weight and bias") };
        for b in 0..self.batch {
            for o in 0..self.out_features {
                let row = &weight[o * self.in_features..][..self.in_features];
                let dot: f32 = row.iter().zip(&x[b * self.in_features..][..self.in_features]).map(|(w, x)| w * x).sum();
                let v = dot + bias[o];
                output[b * self.output.total + self.output.offset + o] = if self.relu { v.max(0.0) } else { v };
            }
        }
    }

    fn launch(&self) -> Launch {
        let params = FcParams {
            batch: self.batch as u32,
            in_features: self.in_features as u32,
            out_features: self.out_features as u32,
            relu: self.relu as u32,
            out_offset: self.output.offset as u32,
            out_total: self.output.total as u32,
            _pad: [0; 2],
        };
        match self.variant {
            FcVariant::Reduce => Launch::new(KernelId::FullyConnected, &params, [self.out_features as u32, self.batch as u32, 1]),
            FcVariant::Rows => Launch::new(KernelId::FullyConnectedRows, &params, [self.out_features.div_ceil(64) as u32, self.batch as u32, 1]),
        }
    }

    fn work(&self) -> usize {
        self.batch * self.in_features * self.out_features
    }

    fn flops(&self) -> f64 {
        2.0 * self.work() as f64
    }

    fn tuning_key(&self) -> Option<KernelKey> {
        let shape = vec![self.in_features, self.out_features, self.relu as usize, self.output.offset, self.output.total];
        Some(KernelKey::new(KernelFamily::FullyConnected, shape, self.batch))
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

    fn cpu_preference(&self) -> u8 {
        match self.variant {
            FcVariant::Reduce => 0,
            FcVariant::Rows => 1,
        }
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): GoogLeNet's classifier, rows off the vec4
// width, ReLU, a part of a split layer writing its slice.

pub(super) fn sweep_cases() -> Vec<FullyConnected> {
    let mut cases = vec![FullyConnected::new(1, 1024, 1000), FullyConnected::new(3, 17, 33)];
    let mut relu = FullyConnected::new(3, 1024, 130);
    relu.relu = true;
    cases.push(relu);
    // Rows of a length that is not a multiple of 4 (the `rows` variant cannot take them).
    cases.push(FullyConnected::new(5, 13, 7));
    // One part of a layer split along its outputs: features 40..73 of 90.
    cases.push(FullyConnected { output: ChannelSlice::at(40, 90), relu: true, ..FullyConnected::new(3, 64, 33) });
    cases
}
