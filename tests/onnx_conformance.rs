//! ONNX's own operator test cases (`tests/data/onnx`), run through the node mapping on
//! the GPU and on the CPU reference; both must match ONNX's expected output.
//!
//! Tolerance: ONNX's backend-test rtol 1e-3 and atol 1e-7, per element. The cases are small
//! (reductions of at most a few dozen terms), so f32 summation order stays far inside it.
//!
//! Every case folder is accounted for: it runs, or it must fail with the "unsupported" error
//! listed below, or its operator belongs to the graph importer (not a kernel) and is listed as
//! such. An unexpected operator fails the test, so nothing is skipped silently.

mod common;

use std::collections::BTreeMap;

use googlenet::onnx::conformance::{case_dirs, load_case, read_model, run_case, NodeCase, ONNX_ATOL, ONNX_RTOL};
use googlenet::onnx::node_ops::KERNEL_OP_TYPES;
use googlenet::Error;

/// Operators that are graph plumbing rather than kernels (folded or removed by the importer).
/// "Transpose+MatMul" is a two-node graph (torch's Linear without bias), the importer's too.
const GRAPH_OP_TYPES: &[&str] = &["BatchNormalization", "Flatten", "Reshape", "Dropout", "ConstantOfShape", "Transpose+MatMul"];

/// Cases that use features the engine does not support, and the words their error must contain.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("test_averagepool_2d_dilations", "dilations"),
    ("test_maxpool_2d_dilations", "dilations"),
    ("test_maxpool_2d_uint8", "UINT8"),
    ("test_Conv2d_dilated", "dilations"),
    ("test_Conv2d_groups", "group"),
    ("test_operator_maxpool", "rank 3"),
];

fn within_onnx_tolerance(got: &[f32], expected: &[f32]) -> Result<(), String> {
    if got.len() != expected.len() {
        return Err(format!("{} elements, expected {}", got.len(), expected.len()));
    }
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        if !((g - e).abs() <= ONNX_ATOL + ONNX_RTOL * e.abs()) {
            return Err(format!("element {i}: got {g}, expected {e}"));
        }
    }
    Ok(())
}

fn check_case(case: &NodeCase) -> Result<(), String> {
    let (gpu, kernels) = common::gpu();
    let out = run_case(gpu, kernels, case).map_err(|e| e.to_string())?;
    if out.dims != case.expected.dims {
        return Err(format!("output dims {:?}, expected {:?}", out.dims, case.expected.dims));
    }
    within_onnx_tolerance(&out.gpu, &case.expected.data).map_err(|e| format!("GPU: {e}"))?;
    within_onnx_tolerance(&out.reference, &case.expected.data).map_err(|e| format!("CPU reference: {e}"))
}

fn expect_unsupported(case_name: &str, result: Result<NodeCase, Error>, words: &str) -> Result<(), String> {
    let error = match result {
        Err(e) => e,
        Ok(case) => {
            let (gpu, kernels) = common::gpu();
            match run_case(gpu, kernels, &case) {
                Err(e) => e,
                Ok(_) => return Err(format!("{case_name} ran, but should be rejected as unsupported ({words})")),
            }
        }
    };
    let message = error.to_string();
    if matches!(error, Error::Unsupported { .. } | Error::File { .. }) && message.contains("unsupported") && message.contains(words) {
        Ok(())
    } else {
        Err(format!("{case_name}: expected an unsupported error naming {words:?}, got: {message}"))
    }
}

/// The operator of a single-node case, read before its tensors (graph ops take int64 inputs).
fn single_op_type(dir: &std::path::Path) -> Result<String, Error> {
    let model = read_model(&dir.join("model.onnx"))?;
    let nodes = model.graph.map(|g| g.node).unwrap_or_default();
    Ok(nodes.iter().map(|n| n.op_type.clone()).collect::<Vec<_>>().join("+"))
}

fn run_suite(suite: &str) -> BTreeMap<String, usize> {
    let root = common::conformance_dir().join(suite);
    let dirs = case_dirs(&root).unwrap_or_else(|e| panic!("{e}"));
    assert!(!dirs.is_empty(), "no cases under {}", root.display());
    let mut ran: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if let Some((_, words)) = UNSUPPORTED.iter().find(|(case, _)| *case == name) {
            if let Err(e) = expect_unsupported(&name, load_case(dir), words) {
                failures.push(e);
            }
            *ran.entry("(unsupported, rejected)".into()).or_default() += 1;
            continue;
        }
        let op_type = match single_op_type(dir) {
            Ok(op_type) => op_type,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        if GRAPH_OP_TYPES.contains(&op_type.as_str()) {
            *ran.entry(format!("{op_type} (graph op, not a kernel)")).or_default() += 1;
            continue;
        }
        if !KERNEL_OP_TYPES.contains(&op_type.as_str()) {
            failures.push(format!("{name}: operator {op_type} is neither a kernel nor a known graph op"));
            continue;
        }
        let case = match load_case(dir) {
            Ok(case) => case,
            Err(e) => {
                failures.push(format!("{name}: cannot load: {e}"));
                continue;
            }
        };
        match check_case(&case) {
            Ok(()) => *ran.entry(op_type).or_default() += 1,
            Err(e) => failures.push(format!("{name} ({op_type}): {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} {suite} cases failed:\n{}", failures.len(), dirs.len(), failures.join("\n"));
    eprintln!("{suite}: {ran:?}");
    ran
}

#[test]
fn onnx_node_cases() {
    let ran = run_suite("onnx-node");
    for op in ["Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "LRN", "Gemm", "Softmax", "Relu", "Concat"] {
        assert!(ran.get(op).copied().unwrap_or(0) >= 1, "no {op} case ran: {ran:?}");
    }
    assert_eq!(ran.get("(unsupported, rejected)"), Some(&3));
}

#[test]
fn onnx_pytorch_converted_cases() {
    let ran = run_suite("onnx-pytorch-converted");
    for op in ["Conv", "MaxPool", "AveragePool", "Gemm", "Softmax", "Relu", "Concat"] {
        assert!(ran.get(op).copied().unwrap_or(0) >= 1, "no {op} case ran: {ran:?}");
    }
    assert_eq!(ran.get("(unsupported, rejected)"), Some(&3));
}

/// The same cases through the importer as whole models: the first graph input is the image
/// batch, the others (weights, in these cases) are fed as constants. Graphs the importer does not
/// take (no 4-D image input, an operator it folds only on constants) must say so as
/// "unsupported"; every other case must match ONNX's expected output.
fn run_suite_as_models(suite: &str) -> usize {
    use googlenet::engine::Engine;
    use googlenet::onnx::import::import_model;
    use googlenet::onnx::tensor::read_tensor_file;
    use googlenet::plan::{Plan, PlanOptions};
    use googlenet::reference::run_reference;

    let (gpu, pipelines) = common::gpu();
    let mut ran = 0;
    let mut failures = Vec::new();
    for dir in case_dirs(&common::conformance_dir().join(suite)).unwrap() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let model = read_model(&dir.join("model.onnx")).unwrap();
        let graph_inputs: Vec<String> = model.graph.as_ref().unwrap().input.iter().map(|i| i.name.clone()).collect();
        let data = dir.join("test_data_set_0");
        let tensor = |i: usize| read_tensor_file(&data.join(format!("input_{i}.pb")));
        let feeds = (1..graph_inputs.len()).filter_map(|i| tensor(i).ok().map(|t| (graph_inputs[i].clone(), t))).collect();
        let imported = import_model(&model, Some(&dir), feeds);
        let outcome = imported.and_then(|graph| {
            let input = tensor(0)?;
            let plan = Plan::build(&graph, input.dims[0], &PlanOptions::default())?;
            let gpu_out = Engine::new(gpu, pipelines, plan)?.run(&input.data)?.remove(0).1;
            let reference = run_reference(&graph, &input)?.remove(&graph.outputs[0]).expect("the output is computed");
            Ok((gpu_out, reference))
        });
        match outcome {
            Ok((gpu_out, reference)) => {
                let expected = read_tensor_file(&data.join("output_0.pb")).unwrap();
                for (what, got) in [("GPU", &gpu_out), ("CPU reference", &reference)] {
                    if let Err(e) = within_onnx_tolerance(&got.data, &expected.data) {
                        failures.push(format!("{name} ({what}): {e}"));
                    }
                }
                ran += 1;
            }
            Err(Error::Unsupported { .. }) => {}
            Err(Error::File { message, .. }) if message.contains("unsupported") => {}
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} {suite} models failed:\n{}", failures.len(), failures.join("\n"));
    eprintln!("{suite}: {ran} cases ran as whole models");
    ran
}

#[test]
fn node_cases_as_whole_models() {
    assert!(run_suite_as_models("onnx-node") >= 30);
    assert!(run_suite_as_models("onnx-pytorch-converted") >= 8);
}
