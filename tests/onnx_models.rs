//! Whole ONNX models through the importer, the planner and the GPU engine.

mod common;

use std::collections::HashMap;

use googlenet::engine::Engine;
use googlenet::onnx::import::import_onnx;
use googlenet::onnx::tensor::read_tensor_file;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;

#[test]
fn the_model_zoo_googlenet_imports_plans_concurrently_and_runs() {
    let dir = common::conformance_dir().join("onnx-model-zoo/inception_v1_light");
    let graph = import_onnx(&dir.join("model.onnx")).unwrap();
    assert_eq!(graph.input_chw, [3, 224, 224]);
    let plan = Plan::build(&graph, 1, &PlanOptions::default()).unwrap();
    assert_eq!(plan.modules.len(), 9, "the nine inception modules are found by shape");
    for module in &plan.modules {
        assert_eq!(module.dispatches.len(), 2, "{}", module.name);
        assert_eq!(plan.barriers_inside(module), 1, "{}", module.name);
    }
    let (gpu, pipelines) = common::gpu();
    let input = Tensor::new(vec![1, 3, 224, 224], Rng::new(4).symmetric_vec(3 * 224 * 224));
    let outputs: HashMap<String, Tensor> = Engine::new(gpu, pipelines, plan).unwrap().run(&input.data).unwrap().into_iter().collect();
    let expected = read_tensor_file(&dir.join("output_0.pb")).unwrap();
    let got = &outputs[&graph.outputs[0]];
    assert_eq!(got.dims, expected.dims);
    for (g, e) in got.data.iter().zip(&expected.data) {
        assert!((g - e).abs() <= 1e-7 + 1e-3 * e.abs(), "got {g}, expected {e}");
    }
}

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// GPU output of `graph` on the test images, against onnxruntime's output for the same file:
/// the same top-5 and a max error under 1e-4 of the output's largest magnitude.
fn agrees_with_onnxruntime(graph: &googlenet::graph::Graph, expected: &str) {
    let (gpu, pipelines) = common::gpu();
    let input = googlenet::npy::read_f32(&data("input.npy")).unwrap();
    let expected = googlenet::npy::read_f32(&data(expected)).unwrap();
    let plan = Plan::build(graph, input.dims[0], &PlanOptions::default()).unwrap();
    let outputs = Engine::new(gpu, pipelines, plan).unwrap().run(&input.data).unwrap();
    let (_, got) = &outputs[0];
    let check = googlenet::verify::check_value("output", got, &expected, googlenet::verify::NETWORK_RTOL);
    assert!(check.max_rel_err < 1e-4, "{check:?}");
    assert_eq!(googlenet::verify::top_k(got, 5).iter().map(|r| r.iter().map(|c| c.0).collect::<Vec<_>>()).collect::<Vec<_>>(),
               googlenet::verify::top_k(&expected, 5).iter().map(|r| r.iter().map(|c| c.0).collect::<Vec<_>>()).collect::<Vec<_>>());
}

#[test]
fn a_zoo_style_googlenet_matches_onnxruntime() {
    let graph = import_onnx(&data("googlenet_zoo.onnx")).unwrap();
    agrees_with_onnxruntime(&graph, "googlenet_zoo.expected.npy");
}

#[test]
fn a_torchvision_style_onnx_googlenet_matches_onnxruntime() {
    let graph = import_onnx(&data("googlenet_torchvision.onnx")).unwrap();
    let plan = Plan::build(&graph, 1, &PlanOptions::default()).unwrap();
    assert_eq!(plan.modules.len(), 9);
    assert!(plan.modules.iter().all(|m| plan.barriers_inside(m) == 1));
    agrees_with_onnxruntime(&graph, "googlenet_torchvision.expected.npy");
}

#[test]
fn a_torchvision_state_dict_matches_onnxruntime_on_the_same_weights() {
    use googlenet::models::torchvision::{from_state_dict, OUTPUT};
    use googlenet::state_dict::StateDict;
    let mut dict = StateDict::read(&data("googlenet_torchvision.safetensors")).unwrap();
    let graph = from_state_dict(&mut dict, false).unwrap();
    // Logits, as PyTorch's `model(x)` and the ONNX export give.
    assert_eq!(graph.outputs, [OUTPUT]);
    agrees_with_onnxruntime(&graph, "googlenet_torchvision.expected.npy");
}
