//! What folds into the step before it as lowering walks the graph: the nodes that alone read a
//! step's output (BatchNorm and constant arithmetic as a per-channel map, a two-input residual
//! Sum, a ReLU), and a channel shuffle that the conv reading it takes through its weights.

use std::collections::HashSet;

use super::channel_map::ChannelMap;
use crate::graph::{Graph, Node, Op};
use crate::ops::shuffle_source;

/// The values of the nodes folded into the step before them so far, and the values asked for
/// after the run (`PlanOptions::keep`), which stay values of their own: nothing absorbs a node
/// that reads one.
pub(super) struct Absorbed<'a> {
    pub(super) values: HashSet<&'a str>,
    kept: HashSet<&'a str>,
}

impl<'a> Absorbed<'a> {
    pub(super) fn new(kept: impl IntoIterator<Item = &'a str>) -> Self {
        Absorbed { values: HashSet::new(), kept: kept.into_iter().collect() }
    }
}

/// Whether the one reader of a channel shuffle's output is an ungrouped conv, which reads the
/// shuffle's input instead with its weight columns permuted.
pub(super) fn reader_permutes_weights(graph: &Graph, value: &str, absorbed: &Absorbed) -> bool {
    sole_consumer(graph, value, absorbed).is_some_and(|n| matches!(&n.op, Op::Conv(spec) if spec.group == 1))
}

/// A conv's weight `[M][C][kh][kw]` (`dims`) for reading the unshuffled input: the column of
/// shuffled channel c moves to the channel it came from.
pub(super) fn unshuffled_weight_columns(weight: &[f32], dims: &[usize], groups: usize) -> Vec<f32> {
    let (channels, taps) = (dims[1], dims[2] * dims[3]);
    let mut permuted = vec![0.0; weight.len()];
    for (row, out) in weight.chunks(channels * taps).zip(permuted.chunks_mut(channels * taps)) {
        for c in 0..channels {
            let source = shuffle_source(c, channels, groups);
            out[source * taps..][..taps].copy_from_slice(&row[c * taps..][..taps]);
        }
    }
    permuted
}

/// The one node reading `value`, if exactly one reads it and it is neither a graph output nor
/// kept.
fn sole_consumer<'a>(graph: &'a Graph, value: &'a str, absorbed: &Absorbed) -> Option<&'a Node> {
    if graph.use_count(value) != 1 || absorbed.kept.contains(value) {
        return None;
    }
    graph.consumers(value).next()
}

/// Folds `node` into the step being built; returns the value the step now produces.
pub(super) fn absorb<'a>(node: &'a Node, nodes: &mut Vec<String>, absorbed: &mut Absorbed<'a>) -> &'a str {
    nodes.push(node.name.clone());
    absorbed.values.insert(&node.output);
    &node.output
}

/// Fuses a ReLU that is the only reader of `value`; returns the value the step now produces.
pub(super) fn absorb_relu<'a>(graph: &'a Graph, value: &'a str, nodes: &mut Vec<String>, absorbed: &mut Absorbed<'a>) -> (&'a str, bool) {
    match sole_consumer(graph, value, absorbed).filter(|n| matches!(n.op, Op::Relu)) {
        Some(relu) => (absorb(relu, nodes, absorbed), true),
        None => (value, false),
    }
}

/// Folds the BatchNorm and constant-arithmetic nodes that alone read `value`, one after
/// another, into `map`; returns the value the step now produces and the whole map.
pub(super) fn absorb_channel_maps<'a>(graph: &'a Graph, mut value: &'a str, mut map: ChannelMap, nodes: &mut Vec<String>, absorbed: &mut Absorbed<'a>) -> (&'a str, ChannelMap) {
    while let Some((node, next)) = sole_consumer(graph, value, absorbed).and_then(|n| Some((n, ChannelMap::of(&n.op)?))) {
        map = map.then(&next);
        value = absorb(node, nodes, absorbed);
    }
    (value, map)
}

/// Fuses a two-input Sum that alone reads `value` (and that no step has absorbed yet): the step
/// adds the Sum's other input. Returns the value the step now produces and that residual.
pub(super) fn absorb_sum<'a>(graph: &'a Graph, value: &'a str, nodes: &mut Vec<String>, absorbed: &mut Absorbed<'a>) -> (&'a str, Option<String>) {
    let sum = sole_consumer(graph, value, absorbed).filter(|n| matches!(n.op, Op::Sum) && n.inputs.len() == 2 && !absorbed.values.contains(n.output.as_str()));
    match sum {
        Some(sum) => {
            let other = sum.inputs.iter().find(|i| *i != value).expect("a Sum read once by `value` has another input").clone();
            (absorb(sum, nodes, absorbed), Some(other))
        }
        None => (value, None),
    }
}
