//! ONNX's own single-node test cases (`model.onnx` + `test_data_set_0/*.pb`) run through the
//! node mapping on the GPU and on the CPU reference.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use prost::Message;

use super::node_ops::{build, NodeProgram};
use super::proto::{ModelProto, NodeProto};
use super::tensor::{read_tensor_file, to_host};
use crate::tensor::Tensor;
use crate::error::{Error, Result};
use crate::gpu::{run_once, Gpu, Pipelines};

/// ONNX's backend-test tolerance (`rtol`, `atol`), which its own test runner applies.
pub const ONNX_RTOL: f32 = 1e-3;
pub const ONNX_ATOL: f32 = 1e-7;

pub struct NodeCase {
    pub name: String,
    pub node: NodeProto,
    pub opset: i64,
    /// Tensor per node input, by the node's input order (None for an absent optional input).
    pub inputs: Vec<Option<Tensor>>,
    pub expected: Tensor,
}

pub fn read_model(path: &Path) -> Result<ModelProto> {
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    ModelProto::decode(bytes.as_slice()).map_err(|e| Error::file(path, format!("not a valid ONNX model: {e}")))
}

/// The default-domain opset a model imports.
pub fn opset(model: &ModelProto) -> i64 {
    model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(1, |o| o.version)
}

pub fn load_case(dir: &Path) -> Result<NodeCase> {
    let model_path = dir.join("model.onnx");
    let model = read_model(&model_path)?;
    let graph = model.graph.as_ref().ok_or_else(|| Error::file(&model_path, "model has no graph"))?;
    let [node] = graph.node.as_slice() else {
        return Err(Error::file(&model_path, format!("expected a single-node graph, found {} nodes", graph.node.len())));
    };
    let data_dir = dir.join("test_data_set_0");
    let mut tensors: HashMap<&str, Tensor> = HashMap::new();
    for (i, input) in graph.input.iter().enumerate() {
        let path = data_dir.join(format!("input_{i}.pb"));
        if path.exists() {
            tensors.insert(&input.name, read_tensor_file(&path)?);
        }
    }
    for init in &graph.initializer {
        if !tensors.contains_key(init.name.as_str()) {
            let tensor = to_host(init).map_err(|e| Error::file(&model_path, e.to_string()))?;
            tensors.insert(&init.name, tensor);
        }
    }
    let inputs = node
        .input
        .iter()
        .map(|name| if name.is_empty() { None } else { tensors.get(name.as_str()).cloned() })
        .collect();
    Ok(NodeCase {
        name: dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        node: node.clone(),
        opset: opset(&model),
        inputs,
        expected: read_tensor_file(&data_dir.join("output_0.pb"))?,
    })
}

/// The outputs of one case: GPU and CPU reference, each as the whole output tensor.
pub struct CaseOutputs {
    pub dims: Vec<usize>,
    pub gpu: Vec<f32>,
    pub reference: Vec<f32>,
}

/// Runs every step of the case's program into one output buffer, which starts as NaN so that
/// an element nobody writes shows.
pub fn run_case(gpu: &Gpu, kernels: &Pipelines, case: &NodeCase) -> Result<CaseOutputs> {
    let inputs: Vec<Option<&Tensor>> = case.inputs.iter().map(Option::as_ref).collect();
    let NodeProgram { steps, output_dims } = build(&case.node, case.opset, &inputs)?;
    let len: usize = output_dims.iter().product();
    let (mut gpu_out, mut reference) = (vec![f32::NAN; len], vec![f32::NAN; len]);
    for step in &steps {
        let data: Vec<&[f32]> = step.inputs.iter().map(Vec::as_slice).collect();
        let lens = step.op.output_lens();
        if lens[0] != len || lens[1..].iter().any(|&l| l != 0) {
            return Err(Error::shape(step.op.kernel_name(), format!("writes outputs of {lens:?} elements, the node's output has {len}")));
        }
        let empty: Vec<Vec<f32>> = vec![Vec::new(); lens.len() - 1];
        let mut gpu_outputs: Vec<&[f32]> = vec![&gpu_out];
        gpu_outputs.extend(empty.iter().map(Vec::as_slice));
        gpu_out = run_once(gpu, kernels, &step.op.launch(), &data, &gpu_outputs)?.swap_remove(0);
        let mut reference_outputs = vec![std::mem::take(&mut reference)];
        reference_outputs.extend(empty);
        step.op.reference(&data, &mut reference_outputs);
        reference = reference_outputs.swap_remove(0);
    }
    Ok(CaseOutputs { dims: output_dims, gpu: gpu_out, reference })
}

/// The case folders under `root` (each holding a `model.onnx`), sorted by name.
pub fn case_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(root).map_err(|e| Error::file(root, format!("cannot list conformance cases: {e}")))?;
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join("model.onnx").exists()).collect();
    dirs.sort();
    Ok(dirs)
}
