//! Graph to steps: one step per kernel launch before grouping. BatchNorm and constant arithmetic
//! are folded into the conv before them, a residual Sum into its epilogue, a ReLU into the conv,
//! FC or affine step before it, a channel shuffle into the weights of the conv reading it;
//! Identity (Dropout), Flatten and Reshape become aliases, and a 3x3/1 same-padded max or
//! average pool feeding only a 1x1 conv becomes that conv's pooled input.

use std::collections::HashMap;

use crate::error::Result;
use crate::geometry::{ChannelSlice, Pads};
use super::absorb::{absorb_channel_maps, Absorbed, absorb_relu, absorb_sum, reader_permutes_weights, unshuffled_weight_columns};
use super::channel_map::ChannelMap;
use super::{PlanOptions, DEFAULT_MAX_BINDING_BYTES};
use crate::graph::{as_nchw, ConvSpec, FcSpec, Graph, Node, Op, PoolSpec};
use crate::ops::{
    winograd_applies, winograd_weights, ChannelAffine, Conv2d, DepthwiseConv2d, FullyConnected, Lrn, Pool2d, PoolKind, Softmax, WinogradInput, WinogradOutput, WinogradTile,
    WinogradTiles,
};

#[derive(Clone, Debug)]
pub enum StepOp {
    Conv { conv: Conv2d, weight: Vec<f32>, bias: Vec<f32> },
    Depthwise { conv: DepthwiseConv2d, weight: Vec<f32>, bias: Vec<f32> },
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
            StepOp::Depthwise { conv, .. } => conv.channels,
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

    /// Where the step's channels start in the value it reads: a group of a grouped conv reads
    /// its part.
    pub fn input_offset(&self) -> usize {
        match self {
            StepOp::Conv { conv, .. } => conv.input.offset,
            _ => 0,
        }
    }

    /// Channels (or features) of the value the step computes.
    pub fn output_channels(&self) -> usize {
        match self {
            StepOp::Conv { conv, .. } => conv.out_channels,
            StepOp::Depthwise { conv, .. } => conv.out_channels(),
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
    /// A value of the output's shape added to the result before its ReLU: a residual
    /// connection (convs and affine steps).
    pub residual: Option<String>,
    pub output: String,
}

impl Step {
    pub fn new(nodes: Vec<String>, op: StepOp, input: String, output: String) -> Self {
        Step { nodes, op, input, residual: None, output }
    }
}

pub struct Steps {
    pub steps: Vec<Step>,
    /// Values that are another value under a new name (Identity, Flatten, Reshape outputs).
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

/// What lowering has folded so far: nodes computed inside the step before them (by output
/// value, as node names need not be unique), and channel shuffles a conv reads through its
/// weights (by the shuffle's output: its input and groups).
struct Folded<'a> {
    absorbed: Absorbed<'a>,
    shuffles: HashMap<&'a str, (&'a str, usize)>,
}

/// Unless pools are separate, a 3x3/1 max or average pool feeding only a 1x1 conv becomes the
/// conv's pooled input; with a `winograd` tile, each 3x3/1/1 conv becomes three Winograd steps (with the
/// largest tile up to that one its size suits: `WinogradTile::for_size`), whose intermediate
/// values are added to `shapes`; a fully connected layer whose weight exceeds the binding limit
/// becomes parts that each fit.
pub fn lower<'a>(graph: &'a Graph, shapes: &mut HashMap<String, Vec<usize>>, options: &'a PlanOptions) -> Result<Steps> {
    let (fuse_pools, winograd) = (!options.separate_pools, options.winograd);
    let max_binding_bytes = options.max_binding_bytes.unwrap_or(DEFAULT_MAX_BINDING_BYTES);
    let mut steps = Steps { steps: Vec::new(), aliases: HashMap::new(), concats: Vec::new() };
    let mut folded = Folded { absorbed: Absorbed::new(options.keep.iter().map(String::as_str)), shuffles: HashMap::new() };
    for node in &graph.nodes {
        if folded.absorbed.values.contains(node.output.as_str()) {
            continue;
        }
        let dims = |value: &str| as_nchw(&shapes[value]);
        let input = node.inputs.first().cloned().unwrap_or_default();
        let op = match &node.op {
            Op::Conv(spec) => {
                lower_conv(graph, node, spec, shapes, winograd, &mut folded, &mut steps);
                continue;
            }
            Op::Fc(spec) => {
                let mut nodes = vec![node.name.clone()];
                let (output, relu) = absorb_relu(graph, &node.output, &mut nodes, &mut folded.absorbed);
                let [n, ..] = dims(&input);
                let fc = FullyConnected { relu, ..FullyConnected::new(n, spec.weight.dims[1], spec.weight.dims[0]) };
                lower_fc(fc, spec, nodes, input, output, max_binding_bytes, shapes, &mut steps);
                continue;
            }
            Op::ChannelShuffle { groups } if reader_permutes_weights(graph, &node.output, &folded.absorbed) => {
                folded.shuffles.insert(&node.output, (&node.inputs[0], *groups));
                continue;
            }
            Op::BatchNorm(_) | Op::Affine(_) | Op::ChannelShuffle { .. } => {
                // Not after a conv (that one folds them): one affine step for the chain.
                steps.steps.push(affine_step(graph, node, dims(&input), &mut folded.absorbed));
                continue;
            }
            Op::Sum => {
                lower_sum(graph, node, shapes, &mut folded.absorbed, &mut steps);
                continue;
            }
            Op::Relu => {
                let [_, c, _, _] = dims(&input);
                StepOp::Affine { op: ChannelAffine::whole(dims(&input), true), scale_shift: ChannelAffine::identity_scale_shift(c) }
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
            Op::Identity | Op::Flatten | Op::Reshape { .. } => {
                steps.aliases.insert(node.output.clone(), input);
                continue;
            }
            Op::Concat => {
                steps.concats.push((node.output.clone(), node.inputs.clone()));
                continue;
            }
        };
        steps.steps.push(Step::new(vec![node.name.clone()], op, input, node.output.clone()));
    }
    if fuse_pools {
        fuse_pooled_inputs(graph, &options.keep, &mut steps);
    }
    Ok(steps)
}

/// A conv with everything that folds into it: the BatchNorm and constant arithmetic after it
/// (into its weights and bias), a residual Sum (its epilogue adds the other value), a ReLU, and
/// a channel shuffle before it (its weight columns permuted). A grouped conv becomes one conv
/// step per group, writing its slice of the output (a concat of the groups: no copy).
fn lower_conv<'a>(
    graph: &'a Graph,
    node: &'a Node,
    spec: &ConvSpec,
    shapes: &mut HashMap<String, Vec<usize>>,
    winograd: Option<WinogradTile>,
    folded: &mut Folded<'a>,
    steps: &mut Steps,
) {
    let (mut weight, mut bias) = (spec.weight.data.clone(), spec.bias.clone());
    let mut input = node.inputs[0].as_str();
    if let Some(&(source, groups)) = folded.shuffles.get(input) {
        weight = unshuffled_weight_columns(&weight, &spec.weight.dims, groups);
        input = source;
    }
    let mut nodes = vec![node.name.clone()];
    let (output, map) = absorb_channel_maps(graph, &node.output, ChannelMap::identity(bias.len()), &mut nodes, &mut folded.absorbed);
    map.fold_into(&mut weight, &mut bias);
    // A grouped conv's residual would be cut into the groups' slices too: its Sum runs alone.
    let (output, residual) = match spec.group {
        1 => absorb_sum(graph, output, &mut nodes, &mut folded.absorbed),
        _ => (output, None),
    };
    let (output, relu) = absorb_relu(graph, output, &mut nodes, &mut folded.absorbed);
    let dims = as_nchw(&shapes[input]);
    if spec.is_depthwise() {
        let op = StepOp::Depthwise { conv: spec.depthwise(dims, relu), weight, bias };
        steps.steps.push(Step::new(nodes, op, input.into(), output.into()));
        return;
    }
    if spec.group > 1 {
        let values: Vec<String> = (0..spec.group).map(|i| format!("{output}/group{i}")).collect();
        let [n, _, h, w] = as_nchw(&shapes[output]);
        for (i, conv) in spec.group_convs(dims, relu).into_iter().enumerate() {
            shapes.insert(values[i].clone(), vec![n, conv.out_channels, h, w]);
            let (weight, bias) = spec.group_weights(&weight, &bias, i);
            let op = StepOp::Conv { conv, weight: weight.to_vec(), bias: bias.to_vec() };
            steps.steps.push(Step::new(nodes.clone(), op, input.into(), values[i].clone()));
        }
        steps.concats.push((output.into(), values));
        return;
    }
    let conv = spec.conv2d(dims, relu);
    let tile = winograd.filter(|_| residual.is_none() && winograd_applies(&conv)).and_then(|largest| largest.for_size(conv.in_h, conv.in_w));
    let step = Step { residual, ..Step::new(nodes, StepOp::Conv { conv, weight, bias }, input.into(), output.into()) };
    match tile {
        Some(tile) => steps.steps.extend(winograd_steps(step, tile, shapes)),
        None => steps.steps.push(step),
    }
}

/// A fully connected layer, in parts along its outputs where its weight is larger than one
/// binding may hold: each part writes its features of the output (a concat: no copy).
#[allow(clippy::too_many_arguments)]
fn lower_fc(fc: FullyConnected, spec: &FcSpec, nodes: Vec<String>, input: String, output: &str, max_binding_bytes: u64, shapes: &mut HashMap<String, Vec<usize>>, steps: &mut Steps) {
    let Some(rows) = fc.split_rows(max_binding_bytes) else {
        let op = StepOp::Fc { fc, weight: spec.weight.data.clone(), bias: spec.bias.clone() };
        steps.steps.push(Step::new(nodes, op, input, output.into()));
        return;
    };
    let mut values = Vec::new();
    for (i, start) in (0..fc.out_features).step_by(rows).enumerate() {
        let end = (start + rows).min(fc.out_features);
        let value = format!("{output}/part{i}");
        shapes.insert(value.clone(), vec![fc.batch, end - start]);
        let part = FullyConnected { out_features: end - start, output: ChannelSlice::whole(end - start), ..fc.clone() };
        let weight = spec.weight.data[start * fc.in_features..end * fc.in_features].to_vec();
        let op = StepOp::Fc { fc: part, weight, bias: spec.bias[start..end].to_vec() };
        steps.steps.push(Step::new(nodes.clone(), op, input.clone(), value.clone()));
        values.push(value);
    }
    steps.concats.push((output.into(), values));
}

/// A BatchNorm, constant arithmetic or channel shuffle no conv absorbs, with the maps, residual
/// Sum and ReLU after it: one affine step.
fn affine_step<'a>(graph: &'a Graph, node: &'a Node, dims: [usize; 4], absorbed: &mut Absorbed<'a>) -> Step {
    let (map, shuffle_groups) = match node.op {
        Op::ChannelShuffle { groups } => (ChannelMap::identity(dims[1]), groups),
        _ => (ChannelMap::of(&node.op).expect("a BatchNorm or Affine node"), 1),
    };
    let mut nodes = vec![node.name.clone()];
    let (output, map) = absorb_channel_maps(graph, &node.output, map, &mut nodes, absorbed);
    let (output, residual) = absorb_sum(graph, output, &mut nodes, absorbed);
    let (output, relu) = absorb_relu(graph, output, &mut nodes, absorbed);
    let op = ChannelAffine { shuffle_groups, ..ChannelAffine::whole(dims, relu) };
    let op = StepOp::Affine { op, scale_shift: map.scale_shift() };
    Step { residual, ..Step::new(nodes, op, node.inputs[0].clone(), output.into()) }
}

/// A Sum no step absorbed: its inputs added in order by affine steps (scale 1, shift 0), each
/// adding the next input to the running sum, the last with the ReLU after it.
fn lower_sum<'a>(graph: &'a Graph, node: &'a Node, shapes: &mut HashMap<String, Vec<usize>>, absorbed: &mut Absorbed<'a>, steps: &mut Steps) {
    let mut nodes = vec![node.name.clone()];
    let (output, relu) = absorb_relu(graph, &node.output, &mut nodes, absorbed);
    let dims = as_nchw(&shapes[&node.output]);
    let [first, rest @ ..] = node.inputs.as_slice() else { unreachable!("shape inference refuses a Sum of nothing") };
    let mut running = first.clone();
    for (i, addend) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let value = if last { output.to_string() } else { format!("{}/partial{i}", node.output) };
        shapes.insert(value.clone(), shapes[&node.output].clone());
        let op = StepOp::Affine { op: ChannelAffine::whole(dims, relu && last), scale_shift: ChannelAffine::identity_scale_shift(dims[1]) };
        steps.steps.push(Step { residual: Some(addend.clone()), ..Step::new(nodes.clone(), op, running, value.clone()) });
        running = value;
    }
    if rest.is_empty() {
        steps.aliases.insert(output.into(), running);
    }
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
        Step::new(step.nodes.clone(), StepOp::WinogradInput(input), step.input, v.clone()),
        Step::new(step.nodes.clone(), gemm, v, m.clone()),
        Step::new(step.nodes, StepOp::WinogradOutput { op: output, bias }, m, step.output),
    ]
}

/// Each conv step that `Conv2d::k_parts` cuts in more than one part becomes its parts, each
/// writing `<output>/k_part<i>`, side by side in `<output>/k_parts` (a concat, so no copies),
/// and their sum with the conv's bias and ReLU into the conv's output. The parts read the
/// conv's input, so the scheduler groups them into one dispatch.
pub fn split_along_k(steps: &mut Steps, shapes: &mut HashMap<String, Vec<usize>>) {
    for step in std::mem::take(&mut steps.steps) {
        // The parts' sum would have to add a residual: such convs stay whole.
        let parts = match &step.op {
            StepOp::Conv { conv, .. } if step.residual.is_none() => conv.k_parts(),
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
            steps.steps.push(Step::new(step.nodes.clone(), op, step.input.clone(), value.clone()));
        }
        let sum_input = format!("{}/k_parts", step.output);
        shapes.insert(sum_input.clone(), vec![n, parts * m, h, w]);
        steps.concats.push((sum_input.clone(), values));
        let sum = ChannelAffine { parts, relu: conv.relu, input: ChannelSlice::whole(parts * m), ..ChannelAffine::whole([n, m, h, w], false) };
        let op = StepOp::Affine { op: sum, scale_shift: ChannelAffine::bias_scale_shift(bias) };
        steps.steps.push(Step::new(step.nodes, op, sum_input, step.output));
    }
}

/// A 3x3, stride-1, pad-1 max or average pool whose only reader is a 1x1 conv (ungrouped, without
/// a residual), and that is not kept, becomes the conv's pooled input: the conv reads the pool's
/// input and pools on the fly, and the pool step goes.
fn fuse_pooled_inputs(graph: &Graph, kept: &[String], steps: &mut Steps) {
    let mut i = 0;
    while i < steps.steps.len() {
        let kind = match &steps.steps[i].op {
            StepOp::Pool(p) if [p.kernel_h, p.kernel_w, p.stride_h, p.stride_w] == [3, 3, 1, 1] && p.pads == Pads::uniform(1) && p.adaptive_output.is_none() => Some(p.kind),
            _ => None,
        };
        let pool_output = steps.steps[i].output.clone();
        let mut readers = steps.steps.iter().enumerate().filter(|(_, s)| s.input == pool_output || s.residual.as_ref() == Some(&pool_output));
        // A grouped conv is one step per group: more than one reader.
        let reader = match (readers.next(), readers.next()) {
            (Some((j, step)), None) if takes_pooled_input(step) => Some(j),
            _ => None,
        };
        match (kind, reader) {
            (Some(kind), Some(j)) if graph.use_count(&pool_output) == 1 && !kept.contains(&pool_output) => {
                let pool = steps.steps.remove(i);
                let j = if j > i { j - 1 } else { j };
                let conv_step = &mut steps.steps[j];
                if let StepOp::Conv { conv, .. } = &mut conv_step.op {
                    conv.pool_input = Some(kind);
                }
                conv_step.input = pool.input;
                conv_step.nodes.splice(0..0, pool.nodes);
            }
            _ => i += 1,
        }
    }
}

/// Whether `step` is a conv that can pool its input on the fly: a 1x1, not pooled yet, without
/// a residual.
fn takes_pooled_input(step: &Step) -> bool {
    match &step.op {
        StepOp::Conv { conv, .. } => conv.is_pointwise() && conv.pool_input.is_none() && step.residual.is_none(),
        _ => false,
    }
}
