//! The whole network on the CPU, node by node with each op's reference: the oracle for the GPU
//! executor. It computes every op as written (a BatchNorm is applied, not folded), so it also
//! checks the planner's rewrites.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::graph::{as_nchw, infer_shapes, Graph, Node, Op, PoolSpec};
use crate::ops::{shuffle_source, FullyConnected, Kernel, PoolKind, Softmax};
use crate::tensor::{element_count, Tensor};

/// Runs `graph` on `input` (`[N, C, H, W]`) and returns every value it computes, by name.
pub fn run_reference(graph: &Graph, input: &Tensor) -> Result<HashMap<String, Tensor>> {
    let [c, h, w] = graph.input_chw;
    if input.dims.len() != 4 || input.dims[1..] != [c, h, w] {
        return Err(Error::shape("input", format!("dims {:?}, the network takes [N, {c}, {h}, {w}]", input.dims)));
    }
    let shapes = infer_shapes(graph, input.dims[0])?;
    let mut values = HashMap::from([(graph.input.clone(), input.clone())]);
    for node in &graph.nodes {
        let inputs: Vec<&Tensor> = node.inputs.iter().map(|name| &values[name]).collect();
        let dims = shapes[&node.output].clone();
        let data = compute(node, &inputs, &dims);
        values.insert(node.output.clone(), Tensor::new(dims, data));
    }
    Ok(values)
}

/// One kernel's reference into a fresh output of `len` elements.
fn single_output(kernel: &dyn Kernel, inputs: &[&[f32]], len: usize) -> Vec<f32> {
    let mut outputs: Vec<Vec<f32>> = kernel.output_lens().into_iter().map(|l| vec![0.0; l]).collect();
    kernel.reference(inputs, &mut outputs);
    let output = outputs.swap_remove(0);
    debug_assert_eq!(output.len(), len);
    output
}

fn compute(node: &Node, inputs: &[&Tensor], dims: &[usize]) -> Vec<f32> {
    let x = inputs[0];
    let len = element_count(dims);
    match &node.op {
        Op::Conv(spec) => {
            let mut out = vec![0.0; len];
            for (i, conv) in spec.group_convs(as_nchw(&x.dims), false).iter().enumerate() {
                let (weight, bias) = spec.group_weights(&spec.weight.data, &spec.bias, i);
                conv.reference(&x.data, weight, bias, None, &mut out);
            }
            out
        }
        Op::Affine(spec) => {
            let pixels = element_count(&x.dims[2..]);
            let channels = x.dims[1];
            x.data.iter().enumerate().map(|(i, v)| v * spec.scale[(i / pixels) % channels] + spec.shift[(i / pixels) % channels]).collect()
        }
        Op::Sum => inputs.iter().skip(1).fold(x.data.clone(), |mut sum, t| {
            sum.iter_mut().zip(&t.data).for_each(|(s, v)| *s += v);
            sum
        }),
        Op::ChannelShuffle { groups } => {
            let [n, c, h, w] = as_nchw(&x.dims);
            let pixels = h * w;
            (0..n * c)
                .flat_map(|plane| {
                    let (image, o) = (plane / c, plane % c);
                    let source = image * c + shuffle_source(o, c, *groups);
                    x.data[source * pixels..(source + 1) * pixels].iter().copied()
                })
                .collect()
        }
        Op::Reshape { .. } => x.data.clone(),
        Op::BatchNorm(bn) => {
            let pixels = element_count(&x.dims[2..]);
            let channels = x.dims[1];
            x.data
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let c = (i / pixels) % channels;
                    (v - bn.mean[c]) / (bn.var[c] + bn.epsilon).sqrt() * bn.scale[c] + bn.shift[c]
                })
                .collect()
        }
        Op::Relu => x.data.iter().map(|v| v.max(0.0)).collect(),
        Op::Identity | Op::Flatten => x.data.clone(),
        Op::MaxPool(spec) => single_output(&spec.pool2d(PoolKind::Max, as_nchw(&x.dims)), &[&x.data], len),
        Op::AvgPool(spec) => single_output(&spec.pool2d(spec.average_kind(), as_nchw(&x.dims)), &[&x.data], len),
        Op::GlobalAvgPool => {
            let [_, _, h, w] = as_nchw(&x.dims);
            let spec = PoolSpec::global(h, w);
            single_output(&spec.pool2d(spec.average_kind(), as_nchw(&x.dims)), &[&x.data], len)
        }
        Op::AdaptiveAvgPool { output } => single_output(&PoolSpec::adaptive(*output, as_nchw(&x.dims)), &[&x.data], len),
        Op::Lrn(spec) => single_output(&spec.lrn(as_nchw(&x.dims)), &[&x.data], len),
        Op::Concat => {
            let (batch, pixels) = (dims[0], element_count(&dims[2..]));
            (0..batch)
                .flat_map(|image| {
                    inputs.iter().flat_map(move |t| {
                        let plane = t.dims[1] * pixels;
                        t.data[image * plane..(image + 1) * plane].iter().copied()
                    })
                })
                .collect()
        }
        Op::Fc(spec) => {
            let [out, inp] = [spec.weight.dims[0], spec.weight.dims[1]];
            let fc = FullyConnected::new(x.dims[0], inp, out);
            single_output(&fc, &[&x.data, &spec.weight.data, &spec.bias], len)
        }
        Op::Softmax => {
            let softmax = Softmax { outer: dims[0], len: dims[1], inner: element_count(&dims[2..]) };
            single_output(&softmax, &[&x.data], len)
        }
    }
}
