//! Steps to dispatches. Each step gets a level (1 + the levels of the steps that write what it
//! reads); convs at one level that read one tensor are independent, so up to 36 of them become
//! one dispatch (an inception module's 1x1, reduce and pooled-projection convs; then its 3x3 and
//! 5x5 convs). A group writes at most two tensors: when its convs write more private tensors than
//! that, those are stacked as channel slices of one new tensor.

use std::collections::HashMap;

use super::layout::{Layout, TensorId, View};
use super::{PlanOptions, PlanTarget};
use super::steps::{Step, StepOp};
use crate::error::{Error, Result};
use crate::geometry::ChannelSlice;
use crate::gpu::WeightPrecision;
use crate::ops::{winograd_gemms, Conv2d, ConvGroup, FullyConnected, Kernel, OutputSlot, WinogradInput, WinogradOutput, MAX_PROBLEMS};

/// One kernel launch of the plan.
pub struct Dispatch {
    pub kernel: Box<dyn Kernel>,
    /// The activation tensor the kernel reads (its first input binding).
    pub input: TensorId,
    /// The residual tensor it adds (bound after the constants), where it adds one.
    pub residual: Option<TensorId>,
    /// Weights and biases, bound after the input.
    pub constants: Vec<Vec<f32>>,
    /// The output bindings; None where the kernel leaves a binding unused.
    pub outputs: Vec<Option<TensorId>>,
    /// The channel slices written, one per computed value, with their channel counts.
    pub writes: Vec<(View, usize)>,
    /// The graph nodes computed.
    pub nodes: Vec<String>,
    pub level: usize,
    /// For part of a conv computed by a cheaper algorithm (Winograd), the multiply-adds the
    /// direct conv would do, counted here in its place (0 for the transforms); None otherwise.
    pub direct_work: Option<usize>,
}

/// For each tensor, the steps that write it.
fn writers(steps: &[Step], layout: &Layout) -> HashMap<TensorId, Vec<usize>> {
    let mut writers: HashMap<TensorId, Vec<usize>> = HashMap::new();
    for (i, step) in steps.iter().enumerate() {
        writers.entry(layout.view(&step.output).tensor).or_default().push(i);
    }
    writers
}

/// The channels of a tensor a step's input or output covers.
fn channel_range(view: View, channels: usize, tensor_channels: usize) -> std::ops::Range<usize> {
    // A row tensor read as features covers all of it.
    let channels = channels.min(tensor_channels);
    view.slice.offset..view.slice.offset + channels
}

/// Level of each step: 0 for steps reading only the graph input, else 1 + the highest level of
/// the steps writing channels it reads (by channel range: a step reading one slice of a concat
/// buffer waits only for that slice's writer).
fn levels(steps: &[Step], layout: &Layout) -> Vec<usize> {
    let writes: Vec<(TensorId, std::ops::Range<usize>)> = steps
        .iter()
        .map(|s| {
            let view = layout.view(&s.output);
            (view.tensor, channel_range(view, s.op.output_channels(), layout.tensors[view.tensor].dims[1]))
        })
        .collect();
    let writers_of = |view: View, read: std::ops::Range<usize>| -> Vec<usize> {
        (0..steps.len()).filter(|&w| writes[w].0 == view.tensor && writes[w].1.start < read.end && read.start < writes[w].1.end).collect()
    };
    let producers: Vec<Vec<usize>> = steps
        .iter()
        .map(|s| {
            let view = layout.view(&s.input);
            let view = View { slice: ChannelSlice { offset: view.slice.offset + s.op.input_offset(), ..view.slice }, ..view };
            let read = channel_range(view, s.op.input_channels(), layout.tensors[view.tensor].dims[1]);
            let residual = s.residual.as_ref().map(|r| {
                let view = layout.view(r);
                (view, channel_range(view, s.op.output_channels(), layout.tensors[view.tensor].dims[1]))
            });
            let mut producers = writers_of(view, read);
            if let Some((view, read)) = residual {
                producers.extend(writers_of(view, read));
            }
            producers
        })
        .collect();
    // Steps are in graph order except appended concat copies, so iterate to a fixed point.
    let mut levels = vec![0; steps.len()];
    for _ in 0..=steps.len() {
        let mut changed = false;
        for i in 0..steps.len() {
            let level = producers[i].iter().map(|&p| levels[p] + 1).max().unwrap_or(0);
            changed |= level != levels[i];
            levels[i] = level;
        }
        if !changed {
            break;
        }
    }
    levels
}

/// Convs that can share one dispatch: same level, same input tensor, and the same residual
/// tensor (a dispatch binds one), if any.
type GroupKey = (usize, TensorId, Option<TensorId>);

fn group_key(step: &Step, level: usize, layout: &Layout) -> Option<GroupKey> {
    let residual = step.residual.as_ref().map(|r| layout.view(r).tensor);
    match &step.op {
        StepOp::Conv { .. } => Some((level, layout.view(&step.input).tensor, residual)),
        _ => None,
    }
}

/// Whether a conv can join a group of `others` on one loader: a pooled input needs the 1x1
/// loader, so it never shares a dispatch with kxk convs; on a CPU-like adapter 1x1 and kxk convs
/// stay apart (the 1x1 loader is several times faster there), on a GPU they share the kxk
/// loader, so that every conv of one level is one dispatch.
fn shares_loader(conv: &Conv2d, others: &[&Conv2d], target: PlanTarget) -> bool {
    others.iter().all(|o| match target {
        PlanTarget::CpuLike => o.is_pointwise() == conv.is_pointwise(),
        PlanTarget::Gpu => (conv.is_pointwise() || o.pool_input.is_none()) && (o.is_pointwise() || conv.pool_input.is_none()),
    })
}

fn conv_of(step: &Step) -> &Conv2d {
    match &step.op {
        StepOp::Conv { conv, .. } => conv,
        _ => unreachable!("groups hold convs only"),
    }
}

/// Partitions the steps of one level into dispatch groups, in step order.
fn group_steps(members: &[usize], steps: &[Step], levels: &[usize], layout: &Layout, private: &dyn Fn(TensorId) -> bool, target: PlanTarget) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut open: HashMap<GroupKey, Vec<usize>> = HashMap::new();
    for &i in members {
        let step = &steps[i];
        let Some(key) = group_key(step, levels[i], layout) else {
            groups.push(vec![i]);
            continue;
        };
        let candidates = open.entry(key).or_default();
        let joined = candidates.iter().copied().find(|&g| {
            let others: Vec<&Conv2d> = groups[g].iter().map(|&o| conv_of(&steps[o])).collect();
            let mut candidate = groups[g].clone();
            candidate.push(i);
            candidate.len() <= MAX_PROBLEMS && shares_loader(conv_of(step), &others, target) && output_slots(&candidate, steps, layout, private) <= 2
        });
        match joined {
            Some(g) => groups[g].push(i),
            None => {
                candidates.push(groups.len());
                groups.push(vec![i]);
            }
        }
    }
    groups
}

/// Output buffers a group needs once its private outputs are stacked into one.
fn output_slots(members: &[usize], steps: &[Step], layout: &Layout, private: &dyn Fn(TensorId) -> bool) -> usize {
    let mut shared: Vec<TensorId> = Vec::new();
    let mut any_private = false;
    for &i in members {
        let tensor = layout.view(&steps[i].output).tensor;
        if private(tensor) {
            any_private = true;
        } else if !shared.contains(&tensor) {
            shared.push(tensor);
        }
    }
    shared.len() + any_private as usize
}

/// Puts the private outputs of a group's members side by side in one new tensor, so the group
/// writes at most two buffers (and their readers, often grouped too, read one).
fn stack_private_outputs(members: &[usize], steps: &[Step], layout: &mut Layout, private: &dyn Fn(TensorId) -> bool) {
    let outputs: Vec<TensorId> = members.iter().map(|&i| layout.view(&steps[i].output).tensor).filter(|&t| private(t)).collect();
    if outputs.len() < 2 {
        return;
    }
    let [n, _, h, w] = layout.tensors[outputs[0]].dims;
    if outputs.iter().any(|&t| { let d = layout.tensors[t].dims; [d[0], d[2], d[3]] != [n, h, w] }) {
        return;
    }
    let channels: usize = outputs.iter().map(|&t| layout.tensors[t].dims[1]).sum();
    let name = outputs.iter().map(|&t| layout.tensors[t].name.as_str()).collect::<Vec<_>>().join(" + ");
    let stacked = layout.new_tensor(&name, [n, channels, h, w]);
    let mut offset = 0;
    for &old in &outputs {
        for view in layout.views.values_mut().filter(|v| v.tensor == old) {
            *view = View { tensor: stacked, slice: ChannelSlice { offset: offset + view.slice.offset, total: channels } };
        }
        offset += layout.tensors[old].dims[1];
    }
}

/// The step's kernel shape with its input, output and residual slices set from the layout (a
/// group of a grouped conv reads its channels at its offset into the input).
fn placed_conv(step: &Step, conv: &Conv2d, layout: &Layout) -> Conv2d {
    let read = layout.view(&step.input).slice;
    let input = ChannelSlice { offset: read.offset + conv.input.offset, total: read.total };
    let residual = step.residual.as_ref().map(|r| layout.view(r).slice);
    Conv2d { input, output: layout.view(&step.output).slice, residual, ..conv.clone() }
}

fn whole_input(step: &Step, layout: &Layout) -> Result<TensorId> {
    let view = layout.view(&step.input);
    if view.slice.offset != 0 || view.slice.total != layout.tensors[view.tensor].dims[1] {
        return Err(Error::unsupported(step.nodes.join(", "), "reading rows from a channel slice of a larger tensor"));
    }
    Ok(view.tensor)
}

/// With f16 weights, refuses a conv whose weights f16 cannot hold (finite beyond ±65504) rather
/// than compute with infinities; tiny ones become f16 subnormals or zero, as f16 storage does.
fn check_weight_range(weights: &[f32], precision: WeightPrecision, nodes: &[String]) -> Result<()> {
    if precision == WeightPrecision::F32 {
        return Ok(());
    }
    let beyond = |w: &&f32| w.is_finite() && half::f16::from_f32(**w).is_infinite();
    match weights.iter().find(beyond) {
        Some(w) => Err(Error::unsupported(nodes.join(", "), format!("a weight of {w} lies beyond f16's range (largest 65504): plan this model with f32 weights"))),
        None => Ok(()),
    }
}

fn dispatch(members: &[usize], steps: &[Step], layout: &Layout, level: usize, weight_precision: WeightPrecision) -> Result<Dispatch> {
    let first = &steps[members[0]];
    let input = layout.view(&first.input).tensor;
    // One residual tensor per dispatch: `group_key` groups only convs that share it.
    let residual = first.residual.as_ref().map(|r| layout.view(r).tensor);
    let output = |step: &Step| Some(layout.view(&step.output).tensor);
    let nodes: Vec<String> = members.iter().flat_map(|&i| steps[i].nodes.iter().cloned()).collect();
    let writes = members.iter().map(|&i| (layout.view(&steps[i].output), steps[i].op.output_channels())).collect();
    let (kernel, constants, outputs): (Box<dyn Kernel>, _, _) = match &first.op {
        StepOp::Conv { .. } => {
            let mut group = ConvGroup::new(Vec::new()).with_weights(weight_precision);
            let (mut weights, mut biases, mut slots) = (Vec::new(), Vec::new(), Vec::<TensorId>::new());
            for &i in members {
                let StepOp::Conv { conv, weight, bias } = &steps[i].op else { unreachable!("groups hold convs only") };
                let tensor = layout.view(&steps[i].output).tensor;
                if !slots.contains(&tensor) {
                    slots.push(tensor);
                }
                let slot = if slots[0] == tensor { OutputSlot::First } else { OutputSlot::Second };
                group.convs.push((placed_conv(&steps[i], conv, layout), slot));
                weights.extend_from_slice(weight);
                biases.extend_from_slice(bias);
            }
            check_weight_range(&weights, weight_precision, &nodes)?;
            (Box::new(group), vec![weights, biases], vec![Some(slots[0]), slots.get(1).copied()])
        }
        StepOp::Depthwise { conv, weight, bias } => {
            let mut conv = conv.clone();
            (conv.input, conv.output) = (layout.view(&first.input).slice, layout.view(&first.output).slice);
            (Box::new(conv), vec![weight.clone(), bias.clone()], vec![output(first)])
        }
        StepOp::Pool(pool) => {
            let mut pool = pool.clone();
            (pool.input, pool.output) = (layout.view(&first.input).slice, layout.view(&first.output).slice);
            (Box::new(pool), vec![], vec![output(first)])
        }
        StepOp::Lrn(lrn) => {
            let mut lrn = lrn.clone();
            (lrn.input, lrn.output) = (layout.view(&first.input).slice, layout.view(&first.output).slice);
            (Box::new(lrn), vec![], vec![output(first)])
        }
        StepOp::Affine { op, scale_shift } => {
            let mut op = op.clone();
            (op.input, op.output) = (layout.view(&first.input).slice, layout.view(&first.output).slice);
            op.residual = first.residual.as_ref().map(|r| layout.view(r).slice);
            (Box::new(op), vec![scale_shift.clone()], vec![output(first)])
        }
        StepOp::Fc { fc, weight, bias } => {
            whole_input(first, layout)?;
            let fc = FullyConnected { output: layout.view(&first.output).slice, ..fc.clone() };
            (Box::new(fc), vec![weight.clone(), bias.clone()], vec![output(first)])
        }
        StepOp::Softmax(softmax) => {
            whole_input(first, layout)?;
            (Box::new(softmax.clone()), vec![], vec![output(first)])
        }
        StepOp::WinogradInput(op) => {
            let op = WinogradInput { input: layout.view(&first.input).slice, ..op.clone() };
            (Box::new(op), vec![], vec![output(first)])
        }
        StepOp::WinogradGemm { tiles, in_channels, out_channels, weight, .. } => {
            check_weight_range(weight, weight_precision, &nodes)?;
            let gemms = winograd_gemms(*tiles, *in_channels, *out_channels).with_weights(weight_precision);
            (Box::new(gemms), vec![weight.clone(), vec![0.0; tiles.tile.planes() * out_channels]], vec![output(first), None])
        }
        StepOp::WinogradOutput { op, bias } => {
            let op = WinogradOutput { output: layout.view(&first.output).slice, ..op.clone() };
            (Box::new(op), vec![bias.clone()], vec![output(first)])
        }
    };
    kernel.check()?;
    let direct_work = match &first.op {
        StepOp::WinogradGemm { direct_work, .. } => Some(*direct_work),
        StepOp::WinogradInput(_) | StepOp::WinogradOutput { .. } => Some(0),
        _ => None,
    };
    Ok(Dispatch { kernel, input, residual, constants, outputs, writes, nodes, level, direct_work })
}

/// Groups the steps into dispatches, in an order that respects every dependency (by level, then
/// by graph order). Levels are grouped in order, so the readers of outputs stacked at one level
/// see the stacked tensor when the next level is grouped. `pinned` tensors (graph outputs,
/// tensors kept for inspection) are never restacked. `serial` gives every step its own dispatch;
/// conv dispatches hold their weights in `weights`.
pub fn schedule(steps: &[Step], layout: &mut Layout, pinned: &[TensorId], options: &PlanOptions) -> Result<Vec<Dispatch>> {
    let (serial, weights, target) = (options.serial, options.weights, options.target.unwrap_or_default());
    let levels = levels(steps, layout);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for level in 0..=levels.iter().copied().max().unwrap_or(0) {
        let members: Vec<usize> = (0..steps.len()).filter(|&i| levels[i] == level).collect();
        let private = private_tensors(steps, layout, pinned);
        let is_private = |t: TensorId| private[t];
        let level_groups = if serial { members.iter().map(|&i| vec![i]).collect() } else { group_steps(&members, steps, &levels, layout, &is_private, target) };
        for group in &level_groups {
            stack_private_outputs(group, steps, layout, &is_private);
        }
        groups.extend(level_groups);
    }
    let mut order: Vec<&Vec<usize>> = groups.iter().collect();
    order.sort_by_key(|members| (levels[members[0]], members[0]));
    order.into_iter().map(|members| dispatch(members, steps, layout, levels[members[0]], weights)).collect()
}

/// Tensors that one step writes whole and nothing pins: free to be restacked.
fn private_tensors(steps: &[Step], layout: &Layout, pinned: &[TensorId]) -> Vec<bool> {
    let writers = writers(steps, layout);
    (0..layout.tensors.len())
        .map(|t| {
            let whole = layout.views.values().filter(|v| v.tensor == t).all(|v| v.slice == ChannelSlice::whole(layout.tensors[t].dims[1]));
            writers.get(&t).is_some_and(|w| w.len() == 1) && !pinned.contains(&t) && whole
        })
        .collect()
}
