//! ONNX models to the engine's graph. Weights become op constants; the constant plumbing real
//! files use (initializers also listed as graph inputs, `Constant`, `ConstantOfShape`, `Reshape`
//! and `Transpose` of weights, shape initializers) is folded here. Attributes follow the ONNX
//! spec for opsets 6 to 21; anything the engine cannot compute exactly is an error naming the
//! node and what it asks for.

mod arithmetic;
mod axes;

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;

use prost::Message;

use super::attributes::{node_label, Attributes, MAX_WINDOW};
use super::proto::{ModelProto, NodeProto, ValueInfoProto, FLOAT, INT64};
use super::spatial::{nchw, pair, window, POOL_ATTRIBUTES};
use super::tensor::{to_host_in, to_i64};
use crate::error::{Error, Result};
use crate::files::{read_capped, FileKind};
use crate::graph::{node_shape, BatchNormSpec, ConvSpec, FcSpec, Graph, LrnSpec, Node, Op, PoolSpec};
use crate::tensor::{element_count, Tensor};

/// The most bytes of constants (weights, folded weights, filled tensors) one import builds:
/// GoogLeNet needs under 100 MB of them.
pub const MAX_CONSTANT_BYTES: u64 = 1 << 30;

/// The most elements of one image the model's input may hold (GoogLeNet's is 150,528).
pub const MAX_INPUT_ELEMENTS: u64 = 1 << 26;

/// The most nodes a graph may have: GoogLeNet has about 150, and planning time grows with the
/// square of the node count.
pub const MAX_NODES: usize = 1 << 14;

/// Reads an ONNX model file (at most [`FileKind::Onnx`]'s cap) without importing it.
pub fn read_model(path: &Path) -> Result<ModelProto> {
    let bytes = read_capped(path, FileKind::Onnx)?;
    ModelProto::decode(bytes.as_slice()).map_err(|e| Error::file(path, format!("not a valid ONNX model: {e}")))
}

/// The default-domain opset a model imports; a model that declares none is refused, as the
/// ONNX spec requires it (and a file cut short loses it).
pub fn opset(model: &ModelProto) -> Result<i64> {
    model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .ok_or_else(|| Error::shape("model", "no `opset_import` for the default domain: the file is truncated or not a complete ONNX model"))
}

/// Reads and imports an ONNX model file; external data is read from its folder only.
pub fn import_onnx(path: &Path) -> Result<Graph> {
    let model = read_model(path)?;
    let folder = path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
    import_model(&model, folder, HashMap::new()).map_err(|e| e.in_file(path))
}

/// Imports a model from its bytes (external data cannot be found without a folder).
pub fn import_onnx_bytes(bytes: &[u8]) -> Result<Graph> {
    let model = ModelProto::decode(bytes).map_err(|e| Error::shape("model", format!("not a valid ONNX model: {e}")))?;
    import_model(&model, None, HashMap::new())
}

#[derive(Clone, Debug)]
enum Constant {
    Float(Tensor),
    /// A `ConstantOfShape` float tensor, built only when a node uses it.
    Fill { dims: Vec<usize>, value: f32 },
    Int(Vec<i64>),
    /// A constant the engine cannot use (another element type): an error only if a node needs it.
    Unusable(String),
}

struct Importer<'a> {
    opset: i64,
    base: Option<&'a Path>,
    constants: HashMap<String, Constant>,
    /// Bytes of constants built so far, against [`MAX_CONSTANT_BYTES`].
    constant_bytes: Cell<u64>,
    /// Dims of every activation value so far, at batch 1 (the batch is free at run time).
    shapes: HashMap<String, Vec<usize>>,
    /// Values inside a channel shuffle (5-D, so no activation of the graph), by name.
    split_channels: HashMap<String, axes::SplitChannels>,
    /// Activations viewed with unit axes added or dropped to a rank the graph has no values of
    /// (neither [N, C] nor [N, C, H, W]): the activation and the dims, until a Squeeze or
    /// Unsqueeze brings them back.
    unit_views: HashMap<String, (String, Vec<usize>)>,
    graph: Graph,
}

/// Imports `model`. `feeds` are graph inputs given as constants (weights a model takes as
/// inputs); the one remaining non-constant input is the image batch.
pub fn import_model(model: &ModelProto, base: Option<&Path>, feeds: HashMap<String, Tensor>) -> Result<Graph> {
    let graph = model.graph.as_ref().ok_or_else(|| Error::shape("model", "the file holds no graph: it is empty, or not an ONNX model"))?;
    if graph.node.len() > MAX_NODES {
        return Err(Error::unsupported("model", format!("{} nodes; the importer takes at most {MAX_NODES}", graph.node.len())));
    }
    let mut importer = Importer {
        opset: opset(model)?,
        base,
        constants: feeds.into_iter().map(|(k, v)| (k, Constant::Float(v))).collect(),
        constant_bytes: Cell::new(0),
        shapes: HashMap::new(),
        split_channels: HashMap::new(),
        unit_views: HashMap::new(),
        graph: Graph { input: String::new(), input_chw: [0; 3], nodes: Vec::new(), outputs: Vec::new() },
    };
    for init in &graph.initializer {
        let constant = match importer.tensor_constant(init) {
            Err(Error::Unsupported { op, message }) => Constant::Unusable(format!("{op}: {message}")),
            other => other?,
        };
        importer.charge(&init.name, &constant)?;
        importer.constants.insert(init.name.clone(), constant);
    }
    let inputs: Vec<&ValueInfoProto> = graph.input.iter().filter(|i| !importer.constants.contains_key(&i.name)).collect();
    let [input] = inputs.as_slice() else {
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        return Err(Error::unsupported("model", format!("{} non-constant inputs {names:?}; the engine takes one image batch", names.len())));
    };
    importer.set_input(input)?;
    for node in &graph.node {
        importer.node(node)?;
    }
    for output in &graph.output {
        if let Some((_, dims)) = importer.unit_views.get(&output.name) {
            return Err(Error::unsupported("model", format!("output `{}` has dims {dims:?}; the engine's values are [N, C] or [N, C, H, W]", output.name)));
        }
        if !importer.shapes.contains_key(&output.name) {
            return Err(Error::unsupported("model", format!("output `{}` is not computed from the input", output.name)));
        }
        importer.graph.outputs.push(output.name.clone());
    }
    Ok(importer.graph)
}

impl Importer<'_> {
    /// Counts `constant`'s bytes against the budget, refusing it if they go over.
    fn charge(&self, name: &str, constant: &Constant) -> Result<()> {
        let bytes = match constant {
            Constant::Float(t) => t.data.len() as u64 * 4,
            Constant::Int(values) => values.len() as u64 * 8,
            Constant::Fill { .. } | Constant::Unusable(_) => 0,
        };
        self.charge_bytes(name, bytes)
    }

    /// Counts `bytes` of constant `name` against the budget, before they are allocated.
    fn charge_bytes(&self, name: &str, bytes: u64) -> Result<()> {
        let total = self.constant_bytes.get().saturating_add(bytes);
        if total > MAX_CONSTANT_BYTES {
            let what = format!("constant `{name}` ({bytes} bytes), with the constants before it,");
            return Err(Error::TooLarge { what, needed: total, limit: MAX_CONSTANT_BYTES, budget: "constant memory budget" });
        }
        self.constant_bytes.set(total);
        Ok(())
    }

    fn tensor_constant(&self, proto: &super::proto::TensorProto) -> Result<Constant> {
        if proto.data_type == INT64 {
            return Ok(Constant::Int(to_i64(proto)?));
        }
        Ok(Constant::Float(to_host_in(proto, self.base)?))
    }

    fn set_input(&mut self, input: &ValueInfoProto) -> Result<()> {
        let label = format!("input `{}`", input.name);
        let tensor_type = input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref()).ok_or_else(|| Error::unsupported(&label, "not a tensor"))?;
        if tensor_type.elem_type != FLOAT {
            return Err(Error::unsupported(&label, format!("element type {}; only FLOAT", super::proto::data_type_name(tensor_type.elem_type))));
        }
        let dims: Vec<Option<i64>> = tensor_type.shape.as_ref().map(|s| s.dim.iter().map(|d| d.dim_value).collect()).unwrap_or_default();
        // [N, F] and [N, C, L] inputs run as [N, F, 1, 1] and [N, C, L, 1] (the same memory);
        // the importer keeps their own rank, so that axes mean what the file says.
        let fixed: Option<Vec<i64>> = dims.iter().skip(1).copied().collect();
        let (Some(fixed), 2..=4) = (fixed, dims.len()) else {
            return Err(Error::unsupported(&label, format!("dims {dims:?}; the engine takes [N, C, H, W] (or [N, C, L], [N, F]) with all but N fixed")));
        };
        let [c, h, w] = [0, 1, 2].map(|i| fixed.get(i).copied().unwrap_or(1));
        if [c, h, w].iter().any(|&d| d <= 0 || d > MAX_WINDOW) {
            return Err(Error::shape(&label, format!("dims [N, {c}, {h}, {w}] are out of range (1 to {MAX_WINDOW} each)")));
        }
        let elements = (c * h * w) as u64;
        if elements > MAX_INPUT_ELEMENTS {
            let what = format!("{label} of dims [N, {c}, {h}, {w}]: one image");
            return Err(Error::TooLarge { what, needed: elements * 4, limit: MAX_INPUT_ELEMENTS * 4, budget: "input size limit" });
        }
        self.graph.input = input.name.clone();
        self.graph.input_chw = [c as usize, h as usize, w as usize];
        self.shapes.insert(input.name.clone(), std::iter::once(1).chain(fixed.iter().map(|&d| d as usize)).collect());
        Ok(())
    }

    /// The float constant a node reads as input `index`; a fill is built here, on first use.
    fn float(&self, node: &NodeProto, index: usize) -> Result<Option<Cow<'_, Tensor>>> {
        match node.input.get(index).filter(|name| !name.is_empty()) {
            None => Ok(None),
            Some(name) => match self.constants.get(name) {
                Some(Constant::Float(t)) => Ok(Some(Cow::Borrowed(t))),
                Some(Constant::Fill { dims, value }) => {
                    self.charge_bytes(name, element_count(dims) as u64 * 4)?;
                    Ok(Some(Cow::Owned(Tensor::new(dims.clone(), vec![*value; element_count(dims)]))))
                }
                Some(Constant::Unusable(why)) => Err(Error::unsupported(node_label(node), format!("input `{name}`: {why}"))),
                _ => Err(Error::unsupported(node_label(node), format!("input `{name}` must be a float constant (a weight)"))),
            },
        }
    }

    fn required_float(&self, node: &NodeProto, index: usize) -> Result<Cow<'_, Tensor>> {
        self.float(node, index)?.ok_or_else(|| Error::shape(node_label(node), format!("input {index} is missing")))
    }

    fn ints(&self, node: &NodeProto, index: usize) -> Result<Vec<i64>> {
        match node.input.get(index).and_then(|name| self.constants.get(name)) {
            Some(Constant::Int(values)) => Ok(values.clone()),
            _ => Err(Error::unsupported(node_label(node), format!("input {index} must be an INT64 constant"))),
        }
    }

    /// The activation value a node reads as input `index`.
    fn activation(&self, node: &NodeProto, index: usize) -> Result<(String, Vec<usize>)> {
        let name = node.input.get(index).ok_or_else(|| Error::shape(node_label(node), format!("input {index} is missing")))?;
        let dims = self.shapes.get(name).ok_or_else(|| {
            Error::unsupported(node_label(node), format!("input `{name}` is not computed by any supported node"))
        })?;
        Ok((name.clone(), dims.clone()))
    }

    fn is_constant(&self, node: &NodeProto, index: usize) -> bool {
        node.input.get(index).is_some_and(|name| self.constants.contains_key(name))
    }

    /// The node's output name, which no value before it may have: SSA, as ONNX requires.
    fn new_output(&self, node: &NodeProto) -> Result<String> {
        let output = node.output.first().filter(|o| !o.is_empty()).ok_or_else(|| Error::shape(node_label(node), "no output"))?;
        if self.shapes.contains_key(output) || self.constants.contains_key(output) || self.split_channels.contains_key(output) || self.unit_views.contains_key(output) {
            return Err(Error::shape(node_label(node), format!("value `{output}` is defined twice")));
        }
        Ok(output.clone())
    }

    fn push(&mut self, node: &NodeProto, op: Op, inputs: Vec<String>) -> Result<()> {
        let output = self.new_output(node)?;
        self.push_as(node, op, inputs, output)
    }

    /// Pushes a graph node for `node` computing `output` (one of several nodes an ONNX node
    /// becomes).
    fn push_as(&mut self, node: &NodeProto, op: Op, inputs: Vec<String>, output: String) -> Result<()> {
        let name = if node.name.is_empty() { output.clone() } else { node.name.clone() };
        let new = Node { name, op, inputs, output: output.clone() };
        let input_dims: Vec<&Vec<usize>> = new.inputs.iter().map(|i| &self.shapes[i]).collect();
        let dims = node_shape(&new, &input_dims).map_err(|message| Error::shape(node_label(node), message))?;
        self.shapes.insert(output, dims);
        self.graph.nodes.push(new);
        Ok(())
    }

    fn constant(&mut self, node: &NodeProto, value: Constant) -> Result<()> {
        let name = self.new_output(node)?;
        self.charge(&name, &value)?;
        self.constants.insert(name, value);
        Ok(())
    }

    fn node(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(Error::unsupported(label, format!("operator domain `{}`", node.domain)));
        }
        match node.op_type.as_str() {
            "Constant" => self.constant_node(node),
            "ConstantOfShape" => self.constant_of_shape(node),
            "Identity" | "Dropout" => self.identity(node),
            "Reshape" | "Flatten" => self.reshape(node),
            "Transpose" => self.transpose(node),
            "Conv" => self.conv(node),
            "Relu" => {
                Attributes::new(node, &[])?;
                let (x, _) = self.activation(node, 0)?;
                self.push(node, Op::Relu, vec![x])
            }
            "MaxPool" | "AveragePool" => self.pool(node),
            "GlobalAveragePool" | "GlobalMaxPool" => {
                Attributes::new(node, &[])?;
                let (x, dims) = self.activation(node, 0)?;
                let [_, _, h, w] = nchw(node, &dims)?;
                let op = if node.op_type == "GlobalMaxPool" { Op::MaxPool(PoolSpec::global(h, w)) } else { Op::GlobalAvgPool };
                self.push(node, op, vec![x])
            }
            "LRN" => {
                let attrs = Attributes::new(node, &["alpha", "beta", "bias", "size"])?;
                let size = attrs.int_in("size", None, 1..=MAX_WINDOW)?;
                let spec = LrnSpec { size: size as usize, alpha: attrs.float("alpha", 1e-4), beta: attrs.float("beta", 0.75), bias: attrs.float("bias", 1.0) };
                let (x, _) = self.activation(node, 0)?;
                self.push(node, Op::Lrn(spec), vec![x])
            }
            "Concat" => {
                let attrs = Attributes::new(node, &["axis"])?;
                let axis = attrs.int("axis", if self.opset < 4 { 1 } else { i64::MIN });
                let inputs = (0..node.input.len()).map(|i| self.activation(node, i)).collect::<Result<Vec<_>>>()?;
                let rank = inputs.first().map_or(0, |(_, d)| d.len() as i64);
                if axis.rem_euclid(rank.max(1)) != 1 || axis < -rank || axis >= rank {
                    return Err(Error::unsupported(label, format!("concat along axis {axis} of rank {rank}; only the channel axis (1)")));
                }
                self.push(node, Op::Concat, inputs.into_iter().map(|(name, _)| name).collect())
            }
            "BatchNormalization" => self.batch_norm(node),
            "Gemm" => self.gemm(node),
            "MatMul" => self.matmul(node),
            "Add" | "Sub" | "Mul" | "Div" => self.arithmetic(node),
            "Sum" => self.sum(node),
            "Squeeze" | "Unsqueeze" => self.squeeze_or_unsqueeze(node),
            "ReduceMean" => self.reduce_mean(node),
            "Softmax" => self.softmax(node),
            other => Err(Error::unsupported(label, format!("operator `{other}`"))),
        }
    }

    fn constant_node(&mut self, node: &NodeProto) -> Result<()> {
        let attrs = Attributes::new(node, &["value", "value_float", "value_floats", "value_int", "value_ints"])?;
        let attribute = node.attribute.first().ok_or_else(|| Error::shape(node_label(node), "no value"))?;
        let value = match attribute.name.as_str() {
            "value" => self.tensor_constant(attribute.t.as_ref().ok_or_else(|| Error::shape(node_label(node), "`value` holds no tensor"))?)?,
            "value_float" => Constant::Float(Tensor::new(vec![], vec![attrs.float("value_float", 0.0)])),
            "value_floats" => Constant::Float(Tensor::new(vec![attribute.floats.len()], attribute.floats.clone())),
            "value_int" => Constant::Int(vec![attrs.int("value_int", 0)]),
            _ => Constant::Int(attribute.ints.clone()),
        };
        self.constant(node, value)
    }

    /// A filled tensor: a float fill is only recorded here, and built when a node uses it.
    fn constant_of_shape(&mut self, node: &NodeProto) -> Result<()> {
        Attributes::new(node, &["value"])?;
        let shape = self.ints(node, 0)?;
        if shape.iter().any(|&d| d < 0) {
            return Err(Error::shape(node_label(node), format!("negative dimension in {shape:?}")));
        }
        let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        let count = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64)).filter(|&c| c <= MAX_CONSTANT_BYTES / 4);
        let count = count.ok_or_else(|| Error::shape(node_label(node), format!("shape {shape:?} is over the constant memory budget")))?;
        let fill = match node.attribute.first().and_then(|a| a.t.as_ref()) {
            None => Constant::Float(Tensor::new(vec![1], vec![0.0])),
            Some(t) => self.tensor_constant(t)?,
        };
        let value = match fill {
            Constant::Float(t) if t.data.len() == 1 => Constant::Fill { dims, value: t.data[0] },
            // Integer constants are shapes and axis lists: a handful of values.
            Constant::Int(values) if values.len() == 1 && count <= MAX_WINDOW as u64 => Constant::Int(vec![values[0]; count as usize]),
            Constant::Int(_) => return Err(Error::unsupported(node_label(node), format!("an INT64 fill of shape {shape:?}; only shapes of up to {MAX_WINDOW} values"))),
            _ => return Err(Error::shape(node_label(node), "`value` must hold exactly one element")),
        };
        self.constant(node, value)
    }

    fn identity(&mut self, node: &NodeProto) -> Result<()> {
        // Dropout is the identity at inference; its mask output must not be used.
        Attributes::new(node, &["ratio", "is_test", "seed"])?;
        // Opset 12+: `training_mode` is a BOOL input; only an absent one means inference.
        if node.op_type == "Dropout" && node.input.get(2).is_some_and(|name| !name.is_empty()) {
            return Err(Error::unsupported(node_label(node), "Dropout with a `training_mode` input"));
        }
        if self.is_constant(node, 0) {
            let value = self.constants[&node.input[0]].clone();
            return self.constant(node, value);
        }
        let (x, _) = self.activation(node, 0)?;
        self.push(node, Op::Identity, vec![x])
    }

    /// Reshape or Flatten: folded on constants; on activations only the flatten of an image to
    /// `[N, features]` (what classifier heads do) is supported.
    fn reshape(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let attrs = Attributes::new(node, &["axis", "allowzero", "shape"])?;
        let target: Option<Vec<i64>> = if node.op_type == "Flatten" {
            None
        } else if self.opset < 5 {
            attrs.ints("shape").map(<[i64]>::to_vec)
        } else {
            Some(self.ints(node, 1)?)
        };
        if self.is_constant(node, 0) {
            if matches!(self.constants[&node.input[0]], Constant::Int(_)) {
                return Err(Error::unsupported(label, "reshaping an integer constant"));
            }
            let t = self.required_float(node, 0)?.into_owned();
            let dims = match &target {
                Some(shape) => resolve_shape(&label, &t.dims, shape)?,
                None => {
                    let axis = attrs.int("axis", 1).rem_euclid(t.dims.len().max(1) as i64) as usize;
                    vec![element_count(&t.dims[..axis]), element_count(&t.dims[axis..])]
                }
            };
            return self.constant(node, Constant::Float(Tensor::new(dims, t.data)));
        }
        if let Some(shape) = &target {
            let in_shuffle = self.split_channels.contains_key(&node.input[0]) || shape.len() == 5;
            if in_shuffle && self.channel_shuffle_reshape(node, shape)? {
                return Ok(());
            }
        }
        let (x, dims) = self.activation(node, 0)?;
        let flattened = vec![dims[0], element_count(&dims[1..])];
        let result = match &target {
            Some(shape) => resolve_shape(&label, &dims, shape)?,
            None => {
                let axis = attrs.int("axis", 1);
                if axis.rem_euclid(dims.len() as i64) != 1 {
                    return Err(Error::unsupported(label, format!("Flatten at axis {axis}; only axis 1 (keep the batch)")));
                }
                flattened.clone()
            }
        };
        if result != flattened {
            return Err(Error::unsupported(label, format!("reshape of {dims:?} to {result:?}; only flattening to [N, features]")));
        }
        self.push(node, Op::Flatten, vec![x])
    }

    fn transpose(&mut self, node: &NodeProto) -> Result<()> {
        let attrs = Attributes::new(node, &["perm"])?;
        if self.channel_shuffle_transpose(node, attrs.ints("perm"))? {
            return Ok(());
        }
        let t = self.required_float(node, 0)?.into_owned();
        let perm = attrs.ints("perm").map(<[i64]>::to_vec).unwrap_or_else(|| vec![1, 0]);
        let [rows, cols] = t.dims[..] else {
            return Err(Error::unsupported(node_label(node), "Transpose of anything but a 2-D weight"));
        };
        let data = match perm[..] {
            [0, 1] => t.data,
            [1, 0] => (0..cols).flat_map(|c| (0..rows).map(move |r| (r, c))).map(|(r, c)| t.data[r * cols + c]).collect(),
            _ => return Err(Error::shape(node_label(node), format!("perm {perm:?} for a 2-D tensor"))),
        };
        let dims = if perm == [1, 0] { vec![cols, rows] } else { vec![rows, cols] };
        self.constant(node, Constant::Float(Tensor::new(dims, data)))
    }

    fn conv(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let attrs = Attributes::new(node, &["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])?;
        let (x, dims) = self.activation(node, 0)?;
        let [_, c, h, w] = nchw(node, &dims)?;
        let weight = self.required_float(node, 1)?.into_owned();
        let [m, per_group, kh, kw] = weight.dims[..] else {
            return Err(Error::shape(label, format!("weight dims {:?} are not [M, C, kH, kW]", weight.dims)));
        };
        let group = attrs.int_in("group", Some(1), 1..=c as i64)? as usize;
        if per_group * group != c || !m.is_multiple_of(group) {
            return Err(Error::shape(label, format!("`group` = {group} does not split {c} input channels into groups of {per_group} and {m} outputs evenly")));
        }
        if let Some(k) = attrs.ints("kernel_shape").filter(|k| *k != [kh as i64, kw as i64]) {
            return Err(Error::shape(label, format!("kernel_shape {k:?} disagrees with weight dims {:?}", weight.dims)));
        }
        let bias = self.float(node, 2)?.map_or_else(|| vec![0.0; m], |b| b.data.clone());
        let win = window(node, &attrs, [h, w], [kh, kw])?;
        self.push(node, Op::Conv(ConvSpec { weight, bias, stride: win.strides, pads: win.pads, group }), vec![x])
    }

    fn pool(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let attrs = Attributes::new(node, &POOL_ATTRIBUTES)?;
        if node.output.len() > 1 && !node.output[1].is_empty() {
            return Err(Error::unsupported(label, "the `Indices` output of MaxPool"));
        }
        if attrs.int("storage_order", 0) != 0 {
            return Err(Error::unsupported(label, "attribute `storage_order` = 1"));
        }
        let (x, dims) = self.activation(node, 0)?;
        let [_, _, h, w] = nchw(node, &dims)?;
        let kernel = pair(node, "kernel_shape", attrs.ints("kernel_shape"), 0)?;
        if kernel == [0, 0] {
            return Err(Error::shape(label, "`kernel_shape` is required"));
        }
        let win = window(node, &attrs, [h, w], kernel)?;
        let spec = PoolSpec {
            kernel,
            stride: win.strides,
            pads: win.pads,
            ceil_mode: attrs.int("ceil_mode", 0) != 0,
            count_include_pad: attrs.int("count_include_pad", 0) != 0,
        };
        let op = if node.op_type == "MaxPool" { Op::MaxPool(spec) } else { Op::AvgPool(spec) };
        self.push(node, op, vec![x])
    }

    fn batch_norm(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let attrs = Attributes::new(node, &["epsilon", "momentum", "spatial", "is_test", "consumed_inputs", "training_mode"])?;
        if attrs.int("spatial", 1) != 1 || attrs.int("training_mode", 0) != 0 {
            return Err(Error::unsupported(label, "BatchNormalization with spatial = 0 or in training mode"));
        }
        if node.output.iter().skip(1).any(|o| !o.is_empty()) {
            return Err(Error::unsupported(label, "BatchNormalization's training outputs (running mean/var)"));
        }
        let (x, _) = self.activation(node, 0)?;
        let [scale, shift, mean, var] = [1, 2, 3, 4].map(|i| self.required_float(node, i).map(|t| t.data.clone()));
        let spec = BatchNormSpec { scale: scale?, shift: shift?, mean: mean?, var: var?, epsilon: attrs.float("epsilon", 1e-5) };
        self.push(node, Op::BatchNorm(spec), vec![x])
    }

    /// Y = alpha * A B' + beta * C with A the activation rows: B' (alpha folded in) is the
    /// weight, beta * C the bias.
    fn gemm(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let known: &[&str] = if self.opset < 7 { &["alpha", "beta", "transA", "transB", "broadcast"] } else { &["alpha", "beta", "transA", "transB"] };
        let attrs = Attributes::new(node, known)?;
        if attrs.int("transA", 0) != 0 {
            return Err(Error::unsupported(label, "Gemm with transA = 1 on activations"));
        }
        let (x, _) = self.activation(node, 0)?;
        let b = &*self.required_float(node, 1)?;
        let [b0, b1] = b.dims[..] else {
            return Err(Error::shape(label, format!("B must be a matrix, got dims {:?}", b.dims)));
        };
        let (alpha, beta) = (attrs.float("alpha", 1.0), attrs.float("beta", 1.0));
        let weight = if attrs.int("transB", 0) != 0 {
            Tensor::new(vec![b0, b1], b.data.iter().map(|v| alpha * v).collect())
        } else {
            Tensor::new(vec![b1, b0], (0..b1).flat_map(|o| (0..b0).map(move |i| alpha * b.data[i * b1 + o])).collect())
        };
        let outputs = weight.dims[0];
        let bias = match self.float(node, 2)? {
            None => vec![0.0; outputs],
            Some(c) if element_count(&c.dims) == 1 => vec![beta * c.data[0]; outputs],
            Some(c) if element_count(&c.dims) == outputs && c.dims.iter().rev().skip(1).all(|&d| d == 1) => c.data.iter().map(|v| beta * v).collect(),
            Some(c) => return Err(Error::unsupported(label, format!("C of dims {:?}: only a bias vector of {outputs} (or a scalar)", c.dims))),
        };
        self.push(node, Op::Fc(FcSpec { weight, bias }), vec![x])
    }

    /// x W with W a constant `[K, N]`: a fully connected layer with no bias (yet: an `Add` after it folds into it).
    fn matmul(&mut self, node: &NodeProto) -> Result<()> {
        Attributes::new(node, &[])?;
        let (x, _) = self.activation(node, 0)?;
        let w = &*self.required_float(node, 1)?;
        let [k, n] = w.dims[..] else {
            return Err(Error::unsupported(node_label(node), format!("MatMul by a weight of dims {:?}; only a matrix", w.dims)));
        };
        let weight = Tensor::new(vec![n, k], (0..n).flat_map(|o| (0..k).map(move |i| w.data[i * n + o])).collect());
        self.push(node, Op::Fc(FcSpec { weight, bias: vec![0.0; n] }), vec![x])
    }

    fn graph_uses(&self, value: &str) -> usize {
        self.graph.nodes.iter().map(|n| n.inputs.iter().filter(|i| *i == value).count()).sum()
    }

    fn softmax(&mut self, node: &NodeProto) -> Result<()> {
        let attrs = Attributes::new(node, &["axis"])?;
        let (x, dims) = self.activation(node, 0)?;
        let rank = dims.len() as i64;
        let axis = attrs.int("axis", if self.opset >= 13 { -1 } else { 1 }).rem_euclid(rank.max(1));
        // Along the features of [N, F] (or [N, F, 1, 1]) all opsets agree. Never along the batch
        // (axis 0): dims are at batch 1 here, where that axis would pass the size test.
        if axis == 0 || (axis != 1 && element_count(&dims[1..]) != dims[axis as usize]) {
            return Err(Error::unsupported(node_label(node), format!("Softmax of dims {dims:?} along axis {axis}; only along the features")));
        }
        if element_count(&dims[2..]) != 1 {
            return Err(Error::unsupported(node_label(node), format!("Softmax of dims {dims:?}; only of [N, features]")));
        }
        self.push(node, Op::Softmax, vec![x])
    }
}

/// A Reshape target with ONNX's 0 (copy the input's dim) and -1 (infer) resolved.
fn resolve_shape(label: &str, input: &[usize], shape: &[i64]) -> Result<Vec<usize>> {
    let total = element_count(input);
    let mut dims: Vec<usize> = Vec::with_capacity(shape.len());
    let mut infer = None;
    for (i, &d) in shape.iter().enumerate() {
        match d {
            0 => dims.push(*input.get(i).ok_or_else(|| Error::shape(label, format!("shape {shape:?}: 0 past the input's rank")))?),
            -1 if infer.is_none() => {
                infer = Some(i);
                dims.push(1);
            }
            d if d > 0 => dims.push(d as usize),
            _ => return Err(Error::shape(label, format!("invalid shape {shape:?}"))),
        }
    }
    let known = element_count(&dims);
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(Error::shape(label, format!("cannot reshape {input:?} to {shape:?}")));
        }
        dims[i] = total / known;
    }
    if element_count(&dims) != total {
        // A batch of 1 baked into the file (`[1, 1024]`) still means "keep the batch".
        if dims.first() == Some(&1) && element_count(&dims[1..]) == element_count(&input[1..]) {
            dims[0] = input[0];
            return Ok(dims);
        }
        return Err(Error::shape(label, format!("cannot reshape {input:?} ({total} elements) to {shape:?}")));
    }
    Ok(dims)
}
