//! ONNX's own operator test cases (`tests/data/onnx`), each imported as a whole model through the
//! same importer real files take, run on the GPU and on the CPU reference; both must match ONNX's
//! expected output. The first graph input is the image batch; the other inputs become
//! initializers (weights, shapes and axes in these cases).
//!
//! Tolerance: ONNX's backend-test rtol 1e-3 and atol 1e-7, per element. The cases are small
//! (reductions of at most a few dozen terms), so f32 summation order stays far inside it.
//!
//! Every case folder is accounted for: it runs and matches, or it is listed in `REJECTED` with the
//! error kind and the words its error must contain. A case that is rejected without being listed,
//! or listed but runs, fails the test: nothing is skipped silently.

mod common;

use std::collections::HashMap;
use std::path::Path;

use googlenet::engine::Engine;
use googlenet::onnx::import::{import_model, read_model};
use googlenet::onnx::proto::{ModelProto, TensorProto};
use googlenet::onnx::tensor::read_tensor_file;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::reference::run_reference;
use googlenet::{ErrorKind, Result, Tensor};
use prost::Message;

/// ONNX's backend-test tolerance (`rtol`, `atol`), which its own test runner applies.
const ONNX_RTOL: f32 = 1e-3;
const ONNX_ATOL: f32 = 1e-7;

use ErrorKind::{Shape, Unsupported};

/// Cases the importer refuses (by name, or by a prefix ending in `_`), the kind of error and
/// words it must contain: features the engine does not have, and graphs that are not one image
/// network (two graph inputs, an integer input, a reshape to anything but [N, features]).
const REJECTED: &[(&str, ErrorKind, &str)] = &[
    ("test_averagepool_2d_dilations", Unsupported, "dilations"),
    ("test_maxpool_2d_dilations", Unsupported, "dilations"),
    ("test_Conv2d_dilated", Unsupported, "dilations"),
    ("test_maxpool_2d_uint8", Unsupported, "UINT8"),
    ("test_operator_maxpool", Unsupported, "rank 3"),
    ("test_gemm_all_attributes", Unsupported, "transA = 1"),
    ("test_gemm_transposeA", Unsupported, "transA = 1"),
    ("test_gemm_default_matrix_bias", Unsupported, "only a bias vector"),
    // Two graph inputs: the second is fed as a constant, which Concat does not take.
    ("test_operator_concat2", Unsupported, "not computed by any supported node"),
    ("test_concat_2d_", Unsupported, "not computed by any supported node"),
    ("test_concat_3d_", Unsupported, "not computed by any supported node"),
    ("test_concat_1d_", Unsupported, "dims [Some(2)]"),
    ("test_constantofshape_float_ones", Unsupported, "element type INT64"),
    // Reshapes of an activation that move the batch axis; its dims here are at batch 1.
    ("test_reshape_negative_dim", Unsupported, "only flattening to [N, features]"),
    ("test_reshape_negative_extended_dims", Shape, "cannot reshape [1, 3, 4] to [-1, 2, 3, 4]"),
    ("test_reshape_one_dim", Shape, "cannot reshape [1, 3, 4] (12 elements) to [24]"),
    ("test_reshape_reordered_all_dims", Shape, "cannot reshape [1, 3, 4] (12 elements) to [4, 2, 3]"),
    ("test_reshape_reordered_last_dims", Shape, "cannot reshape [1, 3, 4] (12 elements) to [2, 4, 3]"),
    ("test_reshape_zero_dim", Shape, "cannot reshape [1, 3, 4] (12 elements) to [2, 0, 4, 1]"),
    ("test_flatten_axis0", Unsupported, "only axis 1"),
    ("test_flatten_axis2", Unsupported, "only axis 1"),
    ("test_flatten_axis3", Unsupported, "only axis 1"),
    ("test_flatten_negative_axis1", Unsupported, "only axis 1"),
    ("test_flatten_negative_axis2", Unsupported, "only axis 1"),
    ("test_flatten_negative_axis4", Unsupported, "only axis 1"),
    ("test_softmax_axis_", Unsupported, "Softmax of dims [1, 4, 5]"),
    ("test_softmax_default_axis", Unsupported, "only along the features"),
    ("test_softmax_negative_axis", Unsupported, "only along the features"),
    // Arithmetic of the input with a second input (a constant here) of its whole shape, or
    // broadcast along its last axis.
    ("test_add", Unsupported, "only a scalar or one value per channel"),
    ("test_add_bcast", Unsupported, "only a scalar or one value per channel"),
    ("test_sub", Unsupported, "only a scalar or one value per channel"),
    ("test_sub_bcast", Unsupported, "only a scalar or one value per channel"),
    ("test_mul", Unsupported, "only a scalar or one value per channel"),
    ("test_mul_bcast", Unsupported, "only a scalar or one value per channel"),
    ("test_div", Unsupported, "only a scalar or one value per channel"),
    ("test_div_bcast", Unsupported, "only a scalar or one value per channel"),
    // A rank-1 input: no batch axis.
    ("test_sub_example", Unsupported, "dims [Some(3)]"),
    ("test_mul_example", Unsupported, "dims [Some(3)]"),
    ("test_div_example", Unsupported, "dims [Some(2)]"),
    ("test_sum_example", Unsupported, "dims [Some(3)]"),
    ("test_sum_one_input", Unsupported, "dims [Some(3)]"),
    ("test_sum_two_inputs", Unsupported, "dims [Some(3)]"),
    ("test_unsqueeze_axis_0", Unsupported, "of the batch axis"),
    ("test_unsqueeze_negative_axes", Unsupported, "the engine's values are [N, C] or [N, C, H, W]"),
    ("test_unsqueeze_three_axes", Unsupported, "the engine's values are [N, C] or [N, C, H, W]"),
    ("test_unsqueeze_two_axes", Unsupported, "the engine's values are [N, C] or [N, C, H, W]"),
    ("test_unsqueeze_unsorted_axes", Unsupported, "the engine's values are [N, C] or [N, C, H, W]"),
    ("test_squeeze", Unsupported, "of the batch axis"),
    ("test_squeeze_negative_axes", Unsupported, "the engine's values are [N, C] or [N, C, H, W]"),
    ("test_reduce_mean_default_axes_keepdims_example", Unsupported, "only over H and W"),
    ("test_reduce_mean_default_axes_keepdims_random", Unsupported, "only over H and W"),
    ("test_reduce_mean_do_not_keepdims_example", Unsupported, "only over H and W"),
    ("test_reduce_mean_do_not_keepdims_random", Unsupported, "only over H and W"),
    ("test_reduce_mean_keepdims_example", Unsupported, "only over H and W"),
    ("test_reduce_mean_keepdims_random", Unsupported, "only over H and W"),
    ("test_reduce_mean_negative_axes_keepdims_example", Unsupported, "only over H and W"),
    ("test_reduce_mean_negative_axes_keepdims_random", Unsupported, "only over H and W"),
];

fn listed(name: &str) -> Option<&'static (&'static str, ErrorKind, &'static str)> {
    REJECTED.iter().find(|(case, ..)| if case.ends_with('_') { name.starts_with(case) } else { name == *case })
}

fn within_onnx_tolerance(got: &[f32], expected: &[f32]) -> std::result::Result<(), String> {
    if got.len() != expected.len() {
        return Err(format!("{} elements, expected {}", got.len(), expected.len()));
    }
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        let within = (g - e).abs() <= ONNX_ATOL + ONNX_RTOL * e.abs(); // false for NaN
        if !within {
            return Err(format!("element {i}: got {g}, expected {e}"));
        }
    }
    Ok(())
}

/// The case's model with each graph input after the first made an initializer holding that
/// input's test data, of whatever element type: weights, shapes and axes, which real files
/// store as initializers.
fn model_with_constant_inputs(dir: &Path, data: &Path) -> Result<ModelProto> {
    let mut model = read_model(&dir.join("model.onnx"))?;
    let Some(graph) = model.graph.as_mut() else { return Ok(model) };
    for (i, input) in graph.input.iter().enumerate().skip(1) {
        let path = data.join(format!("input_{i}.pb"));
        if path.exists() {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let tensor = TensorProto::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            graph.initializer.push(TensorProto { name: input.name.clone(), ..tensor });
        }
    }
    Ok(model)
}

/// The case's main output on the GPU and on the CPU reference, and the output ONNX expects.
fn run_case(dir: &Path) -> Result<[Tensor; 3]> {
    let (gpu, pipelines) = common::gpu();
    let data = dir.join("test_data_set_0");
    let model = model_with_constant_inputs(dir, &data)?;
    let graph = import_model(&model, Some(dir), HashMap::new())?;
    let mut input = read_tensor_file(&data.join("input_0.pb"))?;
    input.dims.resize(4, 1); // a [N, F] or [N, C, L] input runs as [N, F, 1, 1] or [N, C, L, 1]
    let plan = Plan::build(&graph, input.dims[0], &PlanOptions::default())?;
    let gpu_out = Engine::new(gpu, pipelines, plan)?.run(&input.data)?.remove(0).1;
    let reference = run_reference(&graph, &input)?.remove(&graph.outputs[0]).expect("the output is computed");
    Ok([gpu_out, reference, read_tensor_file(&data.join("output_0.pb"))?])
}

/// The op types of a case's graph, joined by `+`.
fn op_types(dir: &Path) -> String {
    let model = read_model(&dir.join("model.onnx")).unwrap_or_else(|e| panic!("{e}"));
    model.graph.map(|g| g.node.iter().map(|n| n.op_type.clone()).collect::<Vec<_>>().join("+")).unwrap_or_default()
}

fn case_dirs(suite: &str) -> Vec<std::path::PathBuf> {
    let root = common::conformance_dir().join(suite);
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.onnx").exists())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases under {}", root.display());
    dirs
}

/// Runs every case of `suite`; returns how many ran, by op types, and how many were rejected.
fn run_suite(suite: &str) -> (HashMap<String, usize>, usize) {
    let (mut ran, mut rejected, mut failures) = (HashMap::<String, usize>::new(), 0, Vec::new());
    for dir in case_dirs(suite) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        match (run_case(&dir), listed(&name)) {
            (Ok([gpu_out, reference, expected]), None) => {
                // A [N, F] or [N, C, L] graph runs as [N, F, 1, 1] or [N, C, L, 1].
                let rank = expected.dims.len().min(gpu_out.dims.len());
                if gpu_out.dims[..rank] != expected.dims[..rank] || gpu_out.dims[rank..].iter().any(|&d| d != 1) {
                    failures.push(format!("{name}: output dims {:?}, expected {:?}", gpu_out.dims, expected.dims));
                }
                for (what, got) in [("GPU", &gpu_out), ("CPU reference", &reference)] {
                    if let Err(e) = within_onnx_tolerance(&got.data, &expected.data) {
                        failures.push(format!("{name} ({what}): {e}"));
                    }
                }
                *ran.entry(op_types(&dir)).or_default() += 1;
            }
            (Ok(_), Some(_)) => failures.push(format!("{name} ran, but is listed as rejected")),
            (Err(e), Some((_, kind, words))) if e.kind() == *kind && e.to_string().contains(words) => rejected += 1,
            (Err(e), listed) => failures.push(format!("{name}: {:?}: {e} (listed: {listed:?})", e.kind())),
        }
    }
    assert!(failures.is_empty(), "{} {suite} cases failed:\n{}", failures.len(), failures.join("\n"));
    eprintln!("{suite}: ran {ran:?}; {rejected} rejected as listed");
    (ran, rejected)
}

/// Concat appears in these suites only over two graph inputs (rejected above); it runs in every
/// inception module of `tests/network.rs`.
#[test]
fn onnx_node_cases() {
    let (ran, rejected) = run_suite("onnx-node");
    for op in ["Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "LRN", "Gemm", "Softmax", "Relu", "Flatten"] {
        assert!(ran.get(op).copied().unwrap_or(0) >= 1, "no {op} case ran: {ran:?}");
    }
    assert!(rejected >= 3);
}

#[test]
fn onnx_pytorch_converted_cases() {
    let (ran, rejected) = run_suite("onnx-pytorch-converted");
    for op in ["Conv", "MaxPool", "AveragePool", "Relu", "Gemm", "Softmax"] {
        assert!(ran.get(op).copied().unwrap_or(0) >= 1, "no {op} case ran: {ran:?}");
    }
    assert!(rejected >= 3);
}
