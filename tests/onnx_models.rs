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
