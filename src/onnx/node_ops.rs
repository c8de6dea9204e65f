//! One ONNX node to the engine's ops: attributes read exactly per the ONNX spec, constants
//! (Gemm's alpha, beta, transB, bias broadcast) folded on the host.
//!
//! A node becomes one or more steps that all write one output buffer; a Concat is one slice
//! copy per input, the way a concat of graph inputs runs in the engine.

use super::attributes::{node_label, Attributes};
use super::spatial::{nchw, pair, window, POOL_ATTRIBUTES};
use super::proto::NodeProto;
use crate::tensor::{element_count, Tensor};
use crate::error::{Error, Result};
use crate::geometry::ChannelSlice;
use crate::graph::{ConvSpec, PoolSpec};
use crate::ops::{ChannelAffine, ConvGroup, FcVariant, FullyConnected, Kernel, Lrn, Pool2d, PoolKind, Softmax};

/// One op and the data for its input buffers.
pub struct Step {
    pub op: Box<dyn Kernel>,
    pub inputs: Vec<Vec<f32>>,
}

pub struct NodeProgram {
    pub steps: Vec<Step>,
    pub output_dims: Vec<usize>,
}

/// The op types this module maps; anything else is reported as unsupported.
pub const KERNEL_OP_TYPES: &[&str] =
    &["Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LRN", "Gemm", "Softmax", "Relu", "Concat"];

/// Builds the steps computing `node`; `inputs[i]` is the tensor of `node.input[i]` (None where
/// the optional input is absent).
pub fn build(node: &NodeProto, opset: i64, inputs: &[Option<&Tensor>]) -> Result<NodeProgram> {
    let label = node_label(node);
    let input = |i: usize| -> Result<&Tensor> {
        inputs.get(i).copied().flatten().ok_or_else(|| Error::shape(&label, format!("input {i} is missing")))
    };
    match node.op_type.as_str() {
        "Conv" => conv(node, input(0)?, input(1)?, inputs.get(2).copied().flatten()),
        "MaxPool" => pool(node, PoolKind::Max, input(0)?),
        "AveragePool" => {
            let attrs = Attributes::new(node, &POOL_ATTRIBUTES)?;
            let kind = PoolKind::Average { count_include_pad: attrs.int("count_include_pad", 0) != 0 };
            pool(node, kind, input(0)?)
        }
        "GlobalAveragePool" => global_pool(node, PoolKind::Average { count_include_pad: false }, input(0)?),
        "GlobalMaxPool" => global_pool(node, PoolKind::Max, input(0)?),
        "LRN" => lrn(node, input(0)?),
        "Gemm" => gemm(node, opset, input(0)?, input(1)?, inputs.get(2).copied().flatten()),
        "Softmax" => softmax(node, opset, input(0)?),
        "Relu" => relu(node, input(0)?),
        "Concat" => {
            let tensors = (0..node.input.len()).map(input).collect::<Result<Vec<_>>>()?;
            concat(node, &tensors)
        }
        other => Err(Error::unsupported(label, format!("operator `{other}`"))),
    }
}

fn conv(node: &NodeProto, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<NodeProgram> {
    let label = node_label(node);
    let attrs = Attributes::new(node, &["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])?;
    let group = attrs.int("group", 1);
    if group != 1 {
        return Err(Error::unsupported(label, format!("attribute `group` = {group} (only 1)")));
    }
    let [n, c, h, width] = nchw(node, &x.dims)?;
    let [m, wc, kh, kw] = w.dims[..] else {
        return Err(Error::shape(label, format!("weight dims {:?} are not [M, C, kH, kW]", w.dims)));
    };
    if wc != c {
        return Err(Error::shape(label, format!("weight expects {wc} input channels, input has {c}")));
    }
    if let Some(k) = attrs.ints("kernel_shape").filter(|k| *k != [kh as i64, kw as i64]) {
        return Err(Error::shape(label, format!("kernel_shape {k:?} disagrees with weight dims {:?}", w.dims)));
    }
    let win = window(node, &attrs, [h, width], [kh, kw])?;
    let bias = match b {
        Some(b) if b.dims != [m] => return Err(Error::shape(label, format!("bias dims {:?}, expected [{m}]", b.dims))),
        Some(b) => b.data.clone(),
        None => vec![0.0; m],
    };
    let spec = ConvSpec { weight: w.clone(), bias, stride: win.strides, pads: win.pads };
    let op = spec.conv2d([n, c, h, width], false);
    op.check().map_err(|e| Error::shape(&label, e.to_string()))?;
    let output_dims = vec![n, m, op.out_h(), op.out_w()];
    Ok(single(ConvGroup::single(op), vec![x.data.clone(), spec.weight.data, spec.bias], output_dims))
}

fn pool(node: &NodeProto, kind: PoolKind, x: &Tensor) -> Result<NodeProgram> {
    let label = node_label(node);
    let attrs = Attributes::new(node, &POOL_ATTRIBUTES)?;
    if node.output.get(1).is_some_and(|o| !o.is_empty()) {
        return Err(Error::unsupported(label, "the `Indices` output of MaxPool"));
    }
    if attrs.int("storage_order", 0) != 0 {
        return Err(Error::unsupported(label, "attribute `storage_order` = 1 (column major)"));
    }
    let [n, c, h, w] = nchw(node, &x.dims)?;
    let kernel = pair(node, "kernel_shape", attrs.ints("kernel_shape"), 0)?;
    if kernel == [0, 0] {
        return Err(Error::shape(label, "`kernel_shape` is required"));
    }
    let win = window(node, &attrs, [h, w], kernel)?;
    let spec = PoolSpec { kernel, stride: win.strides, pads: win.pads, ceil_mode: attrs.int("ceil_mode", 0) != 0, count_include_pad: false };
    let op = spec.pool2d(kind, [n, c, h, w]);
    op.check().map_err(|e| Error::shape(&label, e.to_string()))?;
    let output_dims = vec![n, c, op.out_h(), op.out_w()];
    Ok(single(op, vec![x.data.clone()], output_dims))
}

fn global_pool(node: &NodeProto, kind: PoolKind, x: &Tensor) -> Result<NodeProgram> {
    Attributes::new(node, &[])?;
    let [n, c, h, w] = nchw(node, &x.dims)?;
    let mut op = Pool2d::simple(kind, n, c, h, w, h, 1, 0, false);
    op.kernel_w = w;
    op.check()?;
    Ok(single(op, vec![x.data.clone()], vec![n, c, 1, 1]))
}

fn lrn(node: &NodeProto, x: &Tensor) -> Result<NodeProgram> {
    let label = node_label(node);
    let attrs = Attributes::new(node, &["alpha", "beta", "bias", "size"])?;
    if x.dims.len() < 3 {
        return Err(Error::shape(label, format!("input dims {:?}: LRN needs [N, C, ...]", x.dims)));
    }
    let size = attrs.int("size", 0);
    if size < 1 {
        return Err(Error::shape(label, format!("`size` must be a positive integer, got {size}")));
    }
    let (n, c) = (x.dims[0], x.dims[1]);
    let op = Lrn {
        batch: n,
        channels: c,
        height: 1,
        width: element_count(&x.dims[2..]),
        size: size as usize,
        alpha: attrs.float("alpha", 1e-4),
        beta: attrs.float("beta", 0.75),
        bias: attrs.float("bias", 1.0),
        input: ChannelSlice::whole(c),
        output: ChannelSlice::whole(c),
    };
    op.check()?;
    Ok(single(op, vec![x.data.clone()], x.dims.clone()))
}

/// Y = alpha * A' B' + beta * C, with A' = transA ? A^T : A and B' likewise. B becomes the
/// weight `[N][K]` scaled by alpha; beta * C, broadcast to `[M][N]`, becomes a per-row bias.
fn gemm(node: &NodeProto, opset: i64, a: &Tensor, b: &Tensor, c: Option<&Tensor>) -> Result<NodeProgram> {
    let label = node_label(node);
    // Before opset 7, C broadcast only when `broadcast` = 1; later it always does.
    let known: &[&str] = if opset < 7 { &["alpha", "beta", "transA", "transB", "broadcast"] } else { &["alpha", "beta", "transA", "transB"] };
    let attrs = Attributes::new(node, known)?;
    let broadcast = opset >= 7 || attrs.int("broadcast", 0) != 0;
    let (alpha, beta) = (attrs.float("alpha", 1.0), attrs.float("beta", 1.0));
    let (trans_a, trans_b) = (attrs.int("transA", 0) != 0, attrs.int("transB", 0) != 0);
    let ([a0, a1], [b0, b1]) = (matrix(&label, "A", a)?, matrix(&label, "B", b)?);
    let (m, k) = if trans_a { (a1, a0) } else { (a0, a1) };
    let (kb, n) = if trans_b { (b1, b0) } else { (b0, b1) };
    if k != kb {
        return Err(Error::shape(label, format!("A' is {m}x{k} but B' is {kb}x{n}")));
    }
    let weight: Vec<f32> = (0..n)
        .flat_map(|o| (0..k).map(move |i| if trans_b { b.data[o * k + i] } else { b.data[i * n + o] }))
        .map(|v| alpha * v)
        .collect();
    let bias = match c {
        Some(c) if !broadcast && c.dims != [m, n] => {
            return Err(Error::shape(label, format!("C dims {:?} must be [{m}, {n}] when `broadcast` = 0", c.dims)));
        }
        Some(c) => broadcast_to_matrix(&label, c, m, n)?.into_iter().map(|v| beta * v).collect(),
        None => vec![0.0; m * n],
    };
    let op = FullyConnected {
        batch: m,
        in_features: k,
        out_features: n,
        x_stride_batch: if trans_a { 1 } else { k },
        x_stride_feature: if trans_a { m } else { 1 },
        bias_stride_batch: n,
        relu: false,
        variant: FcVariant::default(),
    };
    op.check()?;
    Ok(single(op, vec![a.data.clone(), weight, bias], vec![m, n]))
}

fn matrix(label: &str, name: &str, t: &Tensor) -> Result<[usize; 2]> {
    match t.dims[..] {
        [r, c] => Ok([r, c]),
        _ => Err(Error::shape(label, format!("{name} must be a matrix, got dims {:?}", t.dims))),
    }
}

/// Unidirectional (numpy) broadcast of C to `[m][n]`.
fn broadcast_to_matrix(label: &str, c: &Tensor, m: usize, n: usize) -> Result<Vec<f32>> {
    let (rows, cols) = match c.dims[..] {
        [] => (1, 1),
        [cols] => (1, cols),
        [rows, cols] => (rows, cols),
        _ => (0, 0),
    };
    if !(rows == 1 || rows == m) || !(cols == 1 || cols == n) {
        return Err(Error::shape(label, format!("C dims {:?} do not broadcast to [{m}, {n}]", c.dims)));
    }
    Ok((0..m).flat_map(|r| (0..n).map(move |o| c.data[(r % rows) * cols + o % cols])).collect())
}

fn softmax(node: &NodeProto, opset: i64, x: &Tensor) -> Result<NodeProgram> {
    let label = node_label(node);
    let attrs = Attributes::new(node, &["axis"])?;
    let rank = x.dims.len() as i64;
    // Opset 13 made Softmax act on one axis (default -1); before, it flattened the tensor to 2-D
    // at `axis` (default 1) and normalised each row.
    let axis = attrs.int("axis", if opset >= 13 { -1 } else { 1 });
    if axis < -rank || axis >= rank.max(1) {
        return Err(Error::shape(label, format!("axis {axis} is out of range for rank {rank}")));
    }
    let axis = axis.rem_euclid(rank.max(1)) as usize;
    let outer = element_count(&x.dims[..axis]);
    let op = if opset >= 13 {
        Softmax { outer, len: x.dims[axis], inner: element_count(&x.dims[axis + 1..]) }
    } else {
        Softmax { outer, len: element_count(&x.dims[axis..]), inner: 1 }
    };
    op.check()?;
    Ok(single(op, vec![x.data.clone()], x.dims.clone()))
}

fn relu(node: &NodeProto, x: &Tensor) -> Result<NodeProgram> {
    Attributes::new(node, &[])?;
    let op = ChannelAffine {
        batch: 1,
        channels: 1,
        pixels: x.data.len(),
        relu: true,
        input: ChannelSlice::whole(1),
        output: ChannelSlice::whole(1),
    };
    op.check()?;
    Ok(single(op, vec![x.data.clone(), ChannelAffine::identity_scale_shift(1)], x.dims.clone()))
}

/// Each input is viewed as `[outer][channels_i][inner]` around the concat axis and written into
/// its channel slice of the output.
fn concat(node: &NodeProto, inputs: &[&Tensor]) -> Result<NodeProgram> {
    let label = node_label(node);
    let attrs = Attributes::new(node, &["axis"])?;
    let first = inputs.first().ok_or_else(|| Error::shape(&label, "no inputs"))?;
    let rank = first.dims.len() as i64;
    let axis = attrs.int("axis", i64::MIN);
    if axis < -rank || axis >= rank {
        return Err(Error::shape(label, format!("axis {axis} is out of range for rank {rank} (the attribute is required)")));
    }
    let axis = axis.rem_euclid(rank) as usize;
    for t in inputs {
        let same_outside_axis = t.dims.len() == first.dims.len()
            && t.dims.iter().zip(&first.dims).enumerate().all(|(d, (a, b))| d == axis || a == b);
        if !same_outside_axis {
            return Err(Error::shape(&label, format!("input dims {:?} and {:?} differ outside axis {axis}", t.dims, first.dims)));
        }
    }
    let total: usize = inputs.iter().map(|t| t.dims[axis]).sum();
    let (outer, inner) = (element_count(&first.dims[..axis]), element_count(&first.dims[axis + 1..]));
    let mut steps = Vec::new();
    let mut offset = 0;
    for t in inputs {
        let channels = t.dims[axis];
        let op = ChannelAffine {
            batch: outer,
            channels,
            pixels: inner,
            relu: false,
            input: ChannelSlice::whole(channels),
            output: ChannelSlice { offset, total },
        };
        offset += channels;
        if t.data.is_empty() {
            continue; // an empty input contributes no channels
        }
        op.check()?;
        steps.push(Step { op: Box::new(op), inputs: vec![t.data.clone(), ChannelAffine::identity_scale_shift(channels)] });
    }
    let mut output_dims = first.dims.clone();
    output_dims[axis] = total;
    Ok(NodeProgram { steps, output_dims })
}

fn single(op: impl Kernel + 'static, inputs: Vec<Vec<f32>>, output_dims: Vec<usize>) -> NodeProgram {
    NodeProgram { steps: vec![Step { op: Box::new(op), inputs }], output_dims }
}
