//! NCHW shape inference, with an error naming the node whose shapes do not fit.

use std::collections::HashMap;

use super::{Graph, Node, Op, PoolSpec};
use crate::error::{Error, Result};
use crate::geometry::window_output_len;
use crate::tensor::element_count;

/// The dims of every value for a batch of `batch` images; checks that each node's inputs exist
/// (nodes come in topological order), fit its op, and that every output is defined once.
pub fn infer_shapes(graph: &Graph, batch: usize) -> Result<HashMap<String, Vec<usize>>> {
    if batch == 0 {
        return Err(Error::shape("graph", "batch must be at least 1"));
    }
    let [c, h, w] = graph.input_chw;
    let mut shapes = HashMap::from([(graph.input.clone(), vec![batch, c, h, w])]);
    for node in &graph.nodes {
        let inputs = node
            .inputs
            .iter()
            .map(|name| {
                shapes.get(name).ok_or_else(|| Error::shape(label(node), format!("input `{name}` is not defined before this node")))
            })
            .collect::<Result<Vec<_>>>()?;
        let dims = node_shape(node, &inputs).map_err(|message| Error::shape(label(node), message))?;
        if dims.contains(&0) {
            return Err(Error::shape(label(node), format!("produces an empty tensor of dims {dims:?}")));
        }
        if shapes.insert(node.output.clone(), dims).is_some() {
            return Err(Error::shape(label(node), format!("output `{}` is defined twice", node.output)));
        }
    }
    for output in &graph.outputs {
        if !shapes.contains_key(output) {
            return Err(Error::shape("graph", format!("output `{output}` is not produced by any node")));
        }
    }
    Ok(shapes)
}

fn label(node: &Node) -> String {
    format!("{} node `{}`", node.op.name(), node.name)
}

fn image(dims: &[usize]) -> std::result::Result<[usize; 4], String> {
    match dims {
        &[n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(format!("expects an NCHW image, got dims {dims:?}")),
    }
}

fn one_input<'a>(inputs: &[&'a Vec<usize>]) -> std::result::Result<&'a Vec<usize>, String> {
    match inputs {
        [x] => Ok(x),
        _ => Err(format!("takes one input, got {}", inputs.len())),
    }
}

fn pooled(spec: &PoolSpec, [n, c, h, w]: [usize; 4]) -> std::result::Result<Vec<usize>, String> {
    let p = spec.pads;
    let out_h = window_output_len(h, spec.kernel[0], spec.stride[0], p.top, p.bottom, spec.ceil_mode);
    let out_w = window_output_len(w, spec.kernel[1], spec.stride[1], p.left, p.right, spec.ceil_mode);
    match (out_h, out_w) {
        (Some(oh), Some(ow)) => Ok(vec![n, c, oh, ow]),
        _ => Err(format!("window {:?} stride {:?} does not fit a {h}x{w} input", spec.kernel, spec.stride)),
    }
}

pub(crate) fn node_shape(node: &Node, inputs: &[&Vec<usize>]) -> std::result::Result<Vec<usize>, String> {
    match &node.op {
        Op::Conv(spec) => {
            let [n, c, h, w] = image(one_input(inputs)?)?;
            let &[m, wc, kh, kw] = spec.weight.dims.as_slice() else {
                return Err(format!("weight dims {:?} are not [M, C, kH, kW]", spec.weight.dims));
            };
            let group = spec.group.max(1);
            if wc * group != c || m % group != 0 {
                return Err(format!("weight expects {wc} input channels per group of {group} for {m} outputs, input has {c}"));
            }
            if spec.bias.len() != m {
                return Err(format!("bias has {} values for {m} output channels", spec.bias.len()));
            }
            let pool = PoolSpec { kernel: [kh, kw], stride: spec.stride, pads: spec.pads, ceil_mode: false, count_include_pad: false };
            let mut dims = pooled(&pool, [n, c, h, w])?;
            dims[1] = m;
            Ok(dims)
        }
        Op::BatchNorm(spec) => {
            let x = one_input(inputs)?;
            let c = *x.get(1).ok_or("input has no channel axis")?;
            if [&spec.scale, &spec.shift, &spec.mean, &spec.var].iter().any(|v| v.len() != c) {
                return Err(format!("parameters do not all have {c} channels"));
            }
            Ok(x.clone())
        }
        Op::Relu | Op::Identity => Ok(one_input(inputs)?.clone()),
        Op::MaxPool(spec) | Op::AvgPool(spec) => pooled(spec, image(one_input(inputs)?)?),
        Op::GlobalAvgPool => {
            let [n, c, _, _] = image(one_input(inputs)?)?;
            Ok(vec![n, c, 1, 1])
        }
        Op::AdaptiveAvgPool { output } => {
            let [n, c, h, w] = image(one_input(inputs)?)?;
            if output.contains(&0) || output[0] > h || output[1] > w {
                return Err(format!("cannot pool {h}x{w} to {output:?}"));
            }
            Ok(vec![n, c, output[0], output[1]])
        }
        Op::Lrn(_) => {
            image(one_input(inputs)?)?;
            Ok(one_input(inputs)?.clone())
        }
        Op::Concat => {
            let first = image(inputs.first().ok_or("takes at least one input")?)?;
            let mut channels = 0;
            for x in inputs {
                let [n, c, h, w] = image(x)?;
                if [n, h, w] != [first[0], first[2], first[3]] {
                    return Err(format!("inputs {:?} and {x:?} differ outside the channel axis", inputs[0]));
                }
                channels += c;
            }
            Ok(vec![first[0], channels, first[2], first[3]])
        }
        Op::Flatten => {
            let x = one_input(inputs)?;
            Ok(vec![x[0], element_count(&x[1..])])
        }
        Op::Fc(spec) => {
            let x = one_input(inputs)?;
            let &[out, inp] = spec.weight.dims.as_slice() else {
                return Err(format!("weight dims {:?} are not [out, in]", spec.weight.dims));
            };
            if element_count(&x[1..]) != inp {
                return Err(format!("input {x:?} has {} features, the weight expects {inp}", element_count(&x[1..])));
            }
            if spec.bias.len() != out {
                return Err(format!("bias has {} values for {out} outputs", spec.bias.len()));
            }
            Ok(vec![x[0], out])
        }
        Op::Softmax => Ok(one_input(inputs)?.clone()),
        Op::Affine(spec) => {
            let x = one_input(inputs)?;
            let c = *x.get(1).ok_or("input has no channel axis")?;
            if spec.scale.len() != c || spec.shift.len() != c {
                return Err(format!("scale and shift have {} and {} values for {c} channels", spec.scale.len(), spec.shift.len()));
            }
            Ok(x.clone())
        }
        Op::Sum => {
            let first = inputs.first().ok_or("takes at least one input")?;
            match inputs.iter().find(|x| **x != *first) {
                Some(other) => Err(format!("adds values of dims {first:?} and {other:?}; only of one shape")),
                None => Ok((*first).clone()),
            }
        }
        Op::ChannelShuffle { groups } => {
            let [n, c, h, w] = image(one_input(inputs)?)?;
            if *groups == 0 || c % groups != 0 {
                return Err(format!("{c} channels do not split into {groups} groups"));
            }
            Ok(vec![n, c, h, w])
        }
        Op::Reshape { dims } => {
            let x = one_input(inputs)?;
            if element_count(dims) != element_count(&x[1..]) || !matches!(dims.len(), 1 | 3) {
                return Err(format!("cannot view {x:?} as [N] + {dims:?}; only as rows or images of the same elements"));
            }
            Ok(std::iter::once(x[0]).chain(dims.iter().copied()).collect())
        }
    }
}
