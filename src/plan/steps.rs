//! Graph to steps: one step per kernel launch before grouping. BatchNorm is folded into the
//! conv before it, a ReLU into the conv or FC before it, Identity (Dropout) and Flatten become aliases, and a
//! 3x3/1 same-padded max pool feeding only a 1x1 conv becomes that conv's pooled input.

use std::collections::{HashMap, HashSet};

use crate::error::Result;
use crate::geometry::{ChannelSlice, Pads};
use crate::graph::{as_nchw, BatchNormSpec, Graph, Node, Op, PoolSpec};
use crate::ops::{
    winograd_applies, winograd_weights, ChannelAffine, Conv2d, FullyConnected, Lrn, Pool2d, PoolKind, Softmax, WinogradInput, WinogradOutput, WinogradTile,
    WinogradTiles,
};

#[derive(Clone, Debug)]
pub enum StepOp {
    Conv { conv: Conv2d, weight: Vec<f32>, bias: Vec<f32> },
    Pool(Pool2d),
    Lrn(Lrn),
    Fc { fc: FullyConnected, weight: Vec<f32>, bias: Vec<f32> },
    Softmax(Softmax),
    /// Per-channel `x * scale + shift` (scale and shift interleaved), optional ReLU.
    Affine { op: ChannelAffine, scale_shift: Vec<f32> },
    /// A 3x3/1/1 conv by Winograd, in three steps: the input transform, ...
    WinogradInput(WinogradInput),
    /// ... the GEMMs, one per transformed plane (`weight` is `winograd_weights`), which count the conv's multiply-adds
    /// (`direct_work`) ...
    WinogradGemm { tiles: WinogradTiles, in_channels: usize, out_channels: usize, weight: Vec<f32>, direct_work: usize },
    /// ... and the output transform with the conv's bias and ReLU.
    WinogradOutput { op: WinogradOutput, bias: Vec<f32> },
}

impl StepOp {
    /// Channels (or features) of the value the step reads.
    pub fn input_channels(&self) -> usize {
        match self {
            StepOp::Conv { conv, .. } => conv.in_channels,
            StepOp::Pool(pool) => pool.channels,
            StepOp::Lrn(lrn) => lrn.channels,
            StepOp::Fc { fc, .. } => fc.in_features,
            StepOp::Softmax(softmax) => softmax.len,
            StepOp::Affine { op, .. } => op.input_channels(),
            StepOp::WinogradInput(op) => op.channels,
            StepOp::WinogradGemm { tiles, in_channels, .. } => tiles.tile.planes() * in_channels,
            StepOp::WinogradOutput { op, .. } => op.tiles.tile.planes() * op.channels,
        }
    }

    /// Channels (or features) of the value the step computes.
    pub fn output_channels(&self) -> usize {
        match self {
            StepOp::Conv { conv, .. } => conv.out_channels,
            StepOp::Pool(pool) => pool.channels,
            StepOp::Lrn(lrn) => lrn.channels,
            StepOp::Fc { fc, .. } => fc.out_features,
            StepOp::Softmax(softmax) => softmax.len,
            StepOp::Affine { op, .. } => op.channels,
            StepOp::WinogradInput(op) => op.tiles.tile.planes() * op.channels,
            StepOp::WinogradGemm { tiles, out_channels, .. } => tiles.tile.planes() * out_channels,
            StepOp::WinogradOutput { op, .. } => op.channels,
        }
    }
}

/// One kernel launch on named values (before values are given buffers and slices).
#[derive(Clone, Debug)]
pub struct Step {
    /// The graph nodes this step computes.
    pub nodes: Vec<String>,
    pub op: StepOp,
    pub input: String,
    pub output: String,
}

pub struct Steps {
    pub steps: Vec<Step>,
    /// Values that are another value under a new name (Identity, Flatten outputs).
    pub aliases: HashMap<String, String>,
    /// Concat outputs and their inputs, in graph order.
    pub concats: Vec<(String, Vec<String>)>,
}

impl Steps {
    /// The value a name finally refers to, through aliases.
    pub fn resolve<'a>(&'a self, mut value: &'a str) -> &'a str {
        while let Some(target) = self.aliases.get(value) {
            value = target;
        }
        value
    }
}

/// With `fuse_pools`, a 3x3/1 max pool feeding only a 1x1 conv becomes the conv's pooled input;
/// with a `winograd` tile, each 3x3/1/1 conv becomes three Winograd steps (with the largest tile
/// up to that one its size suits: `WinogradTile::for_size`), whose intermediate values
/// are added to `shapes`.
pub fn lower(graph: &Graph, shapes: &mut HashMap<String, Vec<usize>>, fuse_pools: bool, winograd: Option<WinogradTile>) -> Result<Steps> {
    let mut steps = Steps { steps: Vec::new(), aliases: HashMap::new(), concats: Vec::new() };
    // Nodes folded into the step before them, by output value (node names need not be unique).
    let mut absorbed: HashSet<&str> = HashSet::new();
    for node in &graph.nodes {
        if absorbed.contains(node.output.as_str()) {
            continue;
        }
        let dims = |value: &str| as_nchw(&shapes[value]);
        let input = node.inputs.first().cloned().unwrap_or_default();
        let op = match &node.op {
            Op::Conv(spec) => {
                let (mut weight, mut bias) = (spec.weight.data.clone(), spec.bias.clone());
                let mut nodes = vec![node.name.clone()];
                let mut output = node.output.as_str();
                if let Some(bn) = sole_consumer(graph, output).filter(|n| matches!(n.op, Op::BatchNorm(_))) {
                    let Op::BatchNorm(spec) = &bn.op else { unreachable!() };
                    fold_batch_norm(spec, &mut weight, &mut bias);
                    output = absorb(bn, &mut nodes, &mut absorbed);
                }
                let relu;
                (output, relu) = absorb_relu(graph, output, &mut nodes, &mut absorbed);
                let conv = spec.conv2d(dims(&input), relu);
                let step = Step { nodes, op: StepOp::Conv { conv, weight, bias }, input, output: output.into() };
                let tile = match (winograd, &step.op) {
                    (Some(largest), StepOp::Conv { conv, .. }) if winograd_applies(conv) => largest.for_size(conv.in_h, conv.in_w),
                    _ => None,
                };
                match tile {
                    Some(tile) => steps.steps.extend(winograd_steps(step, tile, shapes)),
                    None => steps.steps.push(step),
                }
                continue;
            }
            Op::Fc(spec) => {
                let mut nodes = vec![node.name.clone()];
                let (output, relu) = absorb_relu(graph, &node.output, &mut nodes, &mut absorbed);
                let [n, ..] = dims(&input);
                let mut fc = FullyConnected::new(n, spec.weight.dims[1], spec.weight.dims[0]);
                fc.relu = relu;
                let op = StepOp::Fc { fc, weight: spec.weight.data.clone(), bias: spec.bias.clone() };
                steps.steps.push(Step { nodes, op, input, output: output.into() });
                continue;
            }
            Op::BatchNorm(bn) => {
                // Not after a conv (that one is folded): a per-channel affine map of its own.
                let scale_shift = bn.mean.iter().enumerate().flat_map(|(c, mean)| {
                    let scale = bn.factor(c);
                    [scale, bn.shift[c] - mean * scale]
                }).collect();
                let mut nodes = vec![node.name.clone()];
                let (output, relu) = absorb_relu(graph, &node.output, &mut nodes, &mut absorbed);
                let op = StepOp::Affine { op: affine(dims(&input), relu), scale_shift };
                steps.steps.push(Step { nodes, op, input, output: output.into() });
                continue;
            }
            Op::Relu => {
                let [_, c, _, _] = dims(&input);
                StepOp::Affine { op: affine(dims(&input), true), scale_shift: ChannelAffine::identity_scale_shift(c) }
            }
            Op::MaxPool(spec) => StepOp::Pool(spec.pool2d(PoolKind::Max, dims(&input))),
            Op::AvgPool(spec) => StepOp::Pool(spec.pool2d(spec.average_kind(), dims(&input))),
            Op::GlobalAvgPool => {
                let [_, _, h, w] = dims(&input);
                let spec = PoolSpec::global(h, w);
                StepOp::Pool(spec.pool2d(spec.average_kind(), dims(&input)))
            }
            Op::AdaptiveAvgPool { output } => StepOp::Pool(PoolSpec::adaptive(*output, dims(&input))),
            Op::Lrn(spec) => StepOp::Lrn(spec.lrn(dims(&input))),
            Op::Softmax => {
                let [n, c, h, w] = dims(&input);
                StepOp::Softmax(Softmax { outer: n, len: c, inner: h * w })
            }
            Op::Identity | Op::Flatten => {
                steps.aliases.insert(node.output.clone(), input);
                continue;
            }
            Op::Concat => {
                steps.concats.push((node.output.clone(), node.inputs.clone()));
                continue;
            }
        };
        steps.steps.push(Step { nodes: vec![node.name.clone()], op, input, output: node.output.clone() });
    }
    if fuse_pools {
        fuse_pooled_inputs(graph, &mut steps);
    }
    Ok(steps)
}

/// A 3x3/1/1 conv step as its Winograd input transform, GEMMs and output transform, each
/// computing the conv's nodes; the transformed values are `<output>/winograd_v` and `/winograd_m`.
fn winograd_steps(step: Step, tile: WinogradTile, shapes: &mut HashMap<String, Vec<usize>>) -> Vec<Step> {
    let StepOp::Conv { conv, weight, bias } = step.op else { unreachable!("only convs take the Winograd route") };
    let tiles = WinogradTiles { batch: conv.batch, height: conv.in_h, width: conv.in_w, tile };
    let (v, m) = (format!("{}/winograd_v", step.output), format!("{}/winograd_m", step.output));
    shapes.insert(v.clone(), vec![1, tile.planes() * conv.in_channels, 1, tiles.plane()]);
    shapes.insert(m.clone(), vec![1, tile.planes() * conv.out_channels, 1, tiles.plane()]);
    let direct_work = conv.batch * conv.out_h() * conv.out_w() * conv.out_channels * conv.in_channels * 9;
    let input = WinogradInput { tiles, channels: conv.in_channels, input: conv.input };
    let gemm = StepOp::WinogradGemm {
        tiles,
        in_channels: conv.in_channels,
        out_channels: conv.out_channels,
        weight: winograd_weights(tile, &weight, conv.out_channels, conv.in_channels),
        direct_work,
    };
    let output = WinogradOutput { tiles, channels: conv.out_channels, relu: conv.relu, output: conv.output };
    vec![
        Step { nodes: step.nodes.clone(), op: StepOp::WinogradInput(input), input: step.input, output: v.clone() },
        Step { nodes: step.nodes.clone(), op: gemm, input: v, output: m.clone() },
        Step { nodes: step.nodes, op: StepOp::WinogradOutput { op: output, bias }, input: m, output: step.output },
    ]
}

/// Each conv step that `Conv2d::k_parts` cuts in more than one part becomes its parts, each
/// writing `<output>/k_part<i>`, side by side in `<output>/k_parts` (a concat, so no copies),
/// and their sum with the conv's bias and ReLU into the conv's output. The parts read the
/// conv's input, so the scheduler groups them into one dispatch.
pub fn split_along_k(steps: &mut Steps, shapes: &mut HashMap<String, Vec<usize>>) {
    for step in std::mem::take(&mut steps.steps) {
        let parts = match &step.op {
            StepOp::Conv { conv, .. } => conv.k_parts(),
            _ => 1,
        };
        if parts < 2 {
            steps.steps.push(step);
            continue;
        }
        let StepOp::Conv { conv, weight, bias } = &step.op else { unreachable!("only convs are split") };
        let [n, m, h, w] = as_nchw(&shapes[&step.output]);
        let values: Vec<String> = (0..parts).map(|i| format!("{}/k_part{i}", step.output)).collect();
        for (i, value) in values.iter().enumerate() {
            let (part, part_weight) = conv.split_part(i, parts, weight);
            shapes.insert(value.clone(), vec![n, m, h, w]);
            let op = StepOp::Conv { conv: part, weight: part_weight, bias: vec![0.0; m] };
            steps.steps.push(Step { nodes: step.nodes.clone(), op, input: step.input.clone(), output: value.clone() });
        }
        let sum_input = format!("{}/k_parts", step.output);
        shapes.insert(sum_input.clone(), vec![n, parts * m, h, w]);
        steps.concats.push((sum_input.clone(), values));
        let sum = ChannelAffine { parts, relu: conv.relu, input: ChannelSlice::whole(parts * m), ..affine([n, m, h, w], false) };
        let op = StepOp::Affine { op: sum, scale_shift: ChannelAffine::bias_scale_shift(bias) };
        steps.steps.push(Step { nodes: step.nodes, op, input: sum_input, output: step.output });
    }
}

/// A per-channel affine step over a whole `[n, c, h, w]` value.
pub fn affine([n, c, h, w]: [usize; 4], relu: bool) -> ChannelAffine {
    ChannelAffine { batch: n, channels: c, parts: 1, pixels: h * w, relu, input: ChannelSlice::whole(c), output: ChannelSlice::whole(c) }
}

/// The one node reading `value`, if exactly one reads it and it is not a graph output.
fn sole_consumer<'a>(graph: &'a Graph, value: &'a str) -> Option<&'a Node> {
    if graph.use_count(value) != 1 {
        return None;
    }
    graph.consumers(value).next()
}

/// Folds `node` into the step being built; returns the value the step now produces.
fn absorb<'a>(node: &'a Node, nodes: &mut Vec<String>, absorbed: &mut HashSet<&'a str>) -> &'a str {
    nodes.push(node.name.clone());
    absorbed.insert(&node.output);
    &node.output
}

/// Fuses a ReLU that is the only reader of `value`; returns the value the step now produces.
fn absorb_relu<'a>(graph: &'a Graph, value: &'a str, nodes: &mut Vec<String>, absorbed: &mut HashSet<&'a str>) -> (&'a str, bool) {
    match sole_consumer(graph, value).filter(|n| matches!(n.op, Op::Relu)) {
        Some(relu) => (absorb(relu, nodes, absorbed), true),
        None => (value, false),
    }
}

/// Folds y = (conv(x) - mean) / sqrt(var + eps) * scale + shift into the conv's weight and bias.
fn fold_batch_norm(bn: &BatchNormSpec, weight: &mut [f32], bias: &mut [f32]) {
    let per_channel = weight.len() / bias.len();
    for (m, b) in bias.iter_mut().enumerate() {
        let factor = bn.factor(m);
        weight[m * per_channel..(m + 1) * per_channel].iter_mut().for_each(|w| *w *= factor);
        *b = (*b - bn.mean[m]) * factor + bn.shift[m];
    }
}

/// A 3x3, stride-1, pad-1 max pool whose only reader is a 1x1 conv becomes the conv's pooled
/// input: the conv reads the pool's input and pools on the fly, and the pool step goes.
fn fuse_pooled_inputs(graph: &Graph, steps: &mut Steps) {
    let mut i = 0;
    while i < steps.steps.len() {
        let fusable = match &steps.steps[i].op {
            StepOp::Pool(p) => {
                p.kind == PoolKind::Max && [p.kernel_h, p.kernel_w, p.stride_h, p.stride_w] == [3, 3, 1, 1] && p.pads == Pads::uniform(1)
            }
            _ => false,
        };
        let pool_output = steps.steps[i].output.clone();
        let reader = steps.steps.iter().position(|s| {
            s.input == pool_output && matches!(&s.op, StepOp::Conv { conv, .. } if conv.is_pointwise() && !conv.pool_input)
        });
        match reader.filter(|_| fusable && graph.use_count(&pool_output) == 1) {
            Some(j) => {
                let pool = steps.steps.remove(i);
                let j = if j > i { j - 1 } else { j };
                let conv_step = &mut steps.steps[j];
                if let StepOp::Conv { conv, .. } = &mut conv_step.op {
                    conv.pool_input = true;
                }
                conv_step.input = pool.input;
                conv_step.nodes.splice(0..0, pool.nodes);
            }
            None => i += 1,
        }
    }
}
