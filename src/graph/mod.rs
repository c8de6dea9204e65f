//! The network as a graph: one `Op` enum for every op the engine knows, nodes with named inputs
//! and one named output each, and NCHW shape inference.

mod lowering;
mod shapes;

pub use lowering::as_nchw;
pub use shapes::infer_shapes;
pub(crate) use shapes::node_shape;

use crate::geometry::Pads;
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
pub struct ConvSpec {
    /// `[out_channels][in_channels][kernel_h][kernel_w]`.
    pub weight: Tensor,
    pub bias: Vec<f32>,
    pub stride: [usize; 2],
    pub pads: Pads,
    /// Groups (ONNX `group`): input and output channels split into this many equal parts, part i
    /// of the output computed from part i of the input only; the weight is
    /// `[out_channels][in_channels / group][kernel_h][kernel_w]`. 1: an ordinary conv.
    pub group: usize,
}

impl ConvSpec {
    /// Every output channel reads exactly one input channel (a depthwise conv, optionally with a
    /// channel multiplier): the depthwise kernel's case, not `group` separate convs.
    pub fn is_depthwise(&self) -> bool {
        self.group > 1 && self.weight.dims[1] == 1
    }
}

/// Per-channel `y = x * scale[c] + shift[c]`: arithmetic with a constant (`Mul`, `Add`, `Sub`,
/// `Div` by a scalar or a per-channel broadcast constant), already expanded to one scale and
/// shift per channel.
#[derive(Clone, Debug)]
pub struct AffineSpec {
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

#[derive(Clone, Debug)]
pub struct PoolSpec {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub pads: Pads,
    pub ceil_mode: bool,
    /// Average pools only: whether pad positions count in the divisor (ONNX semantics).
    pub count_include_pad: bool,
}

#[derive(Clone, Debug)]
pub struct LrnSpec {
    pub size: usize,
    pub alpha: f32,
    pub beta: f32,
    pub bias: f32,
}

/// Inference-time batch normalisation: y = (x - mean) / sqrt(var + epsilon) * scale + shift.
#[derive(Clone, Debug)]
pub struct BatchNormSpec {
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
    pub epsilon: f32,
}

impl BatchNormSpec {
    /// Channel `c`'s multiplier, scale / sqrt(var + epsilon): what the kernels apply to x - mean.
    pub fn factor(&self, c: usize) -> f32 {
        self.scale[c] / (self.var[c] + self.epsilon).sqrt()
    }
}

#[derive(Clone, Debug)]
pub struct FcSpec {
    /// `[out_features][in_features]`.
    pub weight: Tensor,
    pub bias: Vec<f32>,
}

/// Every op the engine knows. Tensors are NCHW images or `[N, features]` rows.
#[derive(Clone, Debug)]
pub enum Op {
    Conv(ConvSpec),
    BatchNorm(BatchNormSpec),
    Relu,
    MaxPool(PoolSpec),
    AvgPool(PoolSpec),
    GlobalAvgPool,
    /// Average pool to a fixed output size, window i covering [floor(i*in/out), ceil((i+1)*in/out)).
    AdaptiveAvgPool { output: [usize; 2] },
    Lrn(LrnSpec),
    /// Along channels.
    Concat,
    /// The identity (also Dropout, at inference).
    Identity,
    /// `[N, C, H, W]` to `[N, C*H*W]`.
    Flatten,
    /// A fully connected layer on `[N, features]` (or `[N, C, 1, 1]`).
    Fc(FcSpec),
    /// Along the channel / feature axis.
    Softmax,
    /// Per-channel arithmetic with constants.
    Affine(AffineSpec),
    /// The elementwise sum of two or more values of one shape (a residual connection).
    Sum,
    /// ShuffleNet's channel shuffle: the channels seen as `[groups][channels / groups]`,
    /// transposed. Output channel `o` is input channel `(o % groups) * (channels / groups) + o / groups`.
    ChannelShuffle { groups: usize },
    /// The same elements under other dims that only add or drop axes of length 1 (`Squeeze`,
    /// `Unsqueeze`): the dims of one image, without the batch.
    Reshape { dims: Vec<usize> },
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Conv(_) => "Conv",
            Op::BatchNorm(_) => "BatchNorm",
            Op::Relu => "Relu",
            Op::MaxPool(_) => "MaxPool",
            Op::AvgPool(_) => "AvgPool",
            Op::GlobalAvgPool => "GlobalAvgPool",
            Op::AdaptiveAvgPool { .. } => "AdaptiveAvgPool",
            Op::Lrn(_) => "LRN",
            Op::Concat => "Concat",
            Op::Identity => "Identity",
            Op::Flatten => "Flatten",
            Op::Fc(_) => "Fc",
            Op::Softmax => "Softmax",
            Op::Affine(_) => "Affine",
            Op::Sum => "Sum",
            Op::ChannelShuffle { .. } => "ChannelShuffle",
            Op::Reshape { .. } => "Reshape",
        }
    }

    /// The op's numbers (weights, biases, normalisation constants), by name.
    pub fn parameters(&self) -> Vec<(&'static str, &[f32])> {
        use std::slice::from_ref;
        match self {
            Op::Conv(spec) => vec![("weight", &spec.weight.data), ("bias", &spec.bias)],
            Op::Fc(spec) => vec![("weight", &spec.weight.data), ("bias", &spec.bias)],
            Op::BatchNorm(spec) => vec![
                ("scale", &spec.scale),
                ("shift", &spec.shift),
                ("mean", &spec.mean),
                ("var", &spec.var),
                ("epsilon", from_ref(&spec.epsilon)),
            ],
            Op::Lrn(spec) => vec![("alpha", from_ref(&spec.alpha)), ("beta", from_ref(&spec.beta)), ("bias", from_ref(&spec.bias))],
            Op::Affine(spec) => vec![("scale", &spec.scale), ("shift", &spec.shift)],
            _ => Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub op: Op,
    pub inputs: Vec<String>,
    pub output: String,
}

/// A network: one input image batch, nodes in topological order, named outputs.
#[derive(Clone, Debug)]
pub struct Graph {
    pub input: String,
    /// Channels, height, width of one input image.
    pub input_chw: [usize; 3],
    pub nodes: Vec<Node>,
    pub outputs: Vec<String>,
}

impl Graph {
    /// Fails on the first NaN or infinite parameter, or batch norm factor (a `var + epsilon` of
    /// zero or below divides by zero or takes the root of a negative), naming its node: a network
    /// holding one answers NaN (or garbage) for every image.
    pub fn check_finite(&self) -> Result<(), crate::error::Error> {
        for node in &self.nodes {
            for (name, values) in node.op.parameters() {
                if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                    let what = format!("{} node `{}` {name}", node.op.name(), node.name);
                    return Err(crate::error::Error::NotFinite { what, index, value });
                }
            }
            if let Op::BatchNorm(bn) = &node.op
                && let Some((index, value)) = (0..bn.scale.len().min(bn.var.len())).map(|c| (c, bn.factor(c))).find(|(_, f)| !f.is_finite())
            {
                let what = format!("BatchNorm node `{}` scale / sqrt(var + epsilon), with var {} and epsilon {},", node.name, bn.var[index], bn.epsilon);
                return Err(crate::error::Error::NotFinite { what, index, value });
            }
        }
        Ok(())
    }

    pub fn producer(&self, value: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.output == value)
    }

    /// The node that computed the numbers `value` holds: its producer, looked through the nodes
    /// that pass values on unchanged (Identity, Dropout, Flatten, Reshape). None for the input.
    pub fn origin(&self, value: &str) -> Option<&Node> {
        let mut node = self.producer(value)?;
        // Bounded, so that a hand-built graph with a cycle cannot loop forever.
        for _ in 0..self.nodes.len() {
            if !matches!(node.op, Op::Identity | Op::Flatten | Op::Reshape { .. }) {
                return Some(node);
            }
            node = self.producer(node.inputs.first()?)?;
        }
        None
    }

    pub fn consumers<'a>(&'a self, value: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes.iter().filter(move |n| n.inputs.iter().any(|i| i == value))
    }

    /// How many times `value` is read, by nodes or as a graph output.
    pub fn use_count(&self, value: &str) -> usize {
        let reads: usize = self.nodes.iter().map(|n| n.inputs.iter().filter(|i| *i == value).count()).sum();
        reads + self.outputs.iter().filter(|o| *o == value).count()
    }
}
