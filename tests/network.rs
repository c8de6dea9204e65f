//! The whole GoogLeNet on the GPU against the CPU reference network, module by module.

mod common;

use googlenet::engine::Engine;
use googlenet::models::googlenet::{googlenet, Options, AUX_OUTPUTS, MODULES, OUTPUT};
use googlenet::gpu::WeightPrecision;
use googlenet::ops::WinogradTile;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::reference::run_reference;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;
use googlenet::verify::{check_network, check_plan, check_value, module_outputs, NETWORK_RTOL, NETWORK_RTOL_F16_WEIGHTS};

fn random_images(batch: usize, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    Tensor::new(vec![batch, 3, 224, 224], rng.symmetric_vec(batch * 3 * 224 * 224))
}

#[test]
fn batch_1_agrees_with_the_reference_in_every_module() {
    let (gpu, pipelines) = common::gpu();
    let graph = googlenet(Options::default());
    let check = check_network(gpu, pipelines, &graph, &random_images(1, 1)).unwrap();
    assert_eq!(check.values.len(), MODULES.len() + 1);
    assert!(check.passed, "{:#?}", check);
    assert_eq!(check.values.last().unwrap().name, OUTPUT);
}

/// The aux-head network at batch 2 planned with `options`, every conv in `variant` (where it
/// fits and the adapter runs it).
fn plan_in_variant(graph: &googlenet::graph::Graph, options: &PlanOptions, variant: &str) -> Plan {
    let (gpu, _) = common::gpu();
    let mut plan = Plan::build(graph, 2, options).unwrap();
    let mut convs = 0;
    for dispatch in &mut plan.dispatches {
        if let Some(chosen) = dispatch.kernel.variants().into_iter().find(|v| v.variant_name() == variant && v.runs_on(gpu)) {
            dispatch.kernel = chosen;
            convs += 1;
        }
    }
    assert!(convs > 20, "{convs} conv dispatches");
    plan
}

/// The network planned with separate pools and Winograd 3x3 convs (`tile`), every conv in
/// `variant`, against the reference.
fn check_separate_pools_and_winograd(variant: &str, tile: WinogradTile) {
    let (gpu, pipelines) = common::gpu();
    let graph = googlenet(Options { aux: true, ..Options::default() });
    let options = PlanOptions { keep: module_outputs(&graph), separate_pools: true, winograd: Some(tile), ..Default::default() };
    let plan = plan_in_variant(&graph, &options, variant);
    let own_pool = |d: &googlenet::plan::Dispatch| d.kernel.kernel_name() == "max pool" && d.nodes == ["inception_3a/pool"];
    assert!(plan.dispatches.iter().any(own_pool), "the pools run on their own");
    // conv2/3x3 (56x56) and the 3x3 convs of modules 3 (28x28) and 4 (14x14); those of module 5
    // (7x7) run directly. F(4x4) where the image is 28x28 or larger, F(2x2) below.
    let outputs: Vec<String> = plan.dispatches.iter().filter(|d| d.kernel.kernel_name() == "winograd output").map(|d| d.kernel.describe()).collect();
    assert_eq!(outputs.len(), 8, "{outputs:?}");
    let f4 = outputs.iter().filter(|shape| shape.starts_with("F4 ")).count();
    assert_eq!(f4, if tile == WinogradTile::F4 { 3 } else { 0 }, "{outputs:?}");
    let check = check_plan(gpu, pipelines, &graph, plan, &random_images(2, 3)).unwrap();
    assert!(check.passed, "{:#?}", check);
}

/// The network planned with convs split along K (and `winograd`), every conv in `variant`,
/// against the reference.
fn check_split_k(variant: &str, winograd: Option<WinogradTile>) {
    let (gpu, pipelines) = common::gpu();
    let graph = googlenet(Options { aux: true, ..Options::default() });
    let options = PlanOptions { keep: module_outputs(&graph), split_k: true, winograd, ..Default::default() };
    let plan = plan_in_variant(&graph, &options, variant);
    // Each split conv's sum is one dispatch; its parts share one with the convs beside them.
    let sums: Vec<&googlenet::plan::Dispatch> = plan.dispatches.iter().filter(|d| d.kernel.kernel_name().starts_with("split-K sum")).collect();
    assert!(sums.len() >= 10, "{} convs split", sums.len());
    let parts_of = |conv: &str| plan.dispatches.iter().filter(|d| d.nodes.iter().filter(|n| *n == conv).count() > 1).count();
    assert_eq!(parts_of("inception_5b/3x3"), 1, "inception_5b/3x3's parts run in one dispatch");
    let check = check_plan(gpu, pipelines, &graph, plan, &random_images(2, 4)).unwrap();
    assert!(check.passed, "{:#?}", check);
}

/// The network with f16 weights, every conv in `variant`, against the f32 reference: within the
/// f16 tolerance, and further off than f32 weights come (so the weights were rounded).
fn check_f16_weights(variant: &str, winograd: Option<WinogradTile>) {
    let (gpu, pipelines) = common::gpu();
    let graph = googlenet(Options { aux: true, ..Options::default() });
    let options = PlanOptions { keep: module_outputs(&graph), weights: WeightPrecision::F16, winograd, ..Default::default() };
    let plan = plan_in_variant(&graph, &options, variant);
    let check = check_plan(gpu, pipelines, &graph, plan, &random_images(2, 5)).unwrap();
    assert!(check.passed, "{:#?}", check);
    assert_eq!(check.rtol, NETWORK_RTOL_F16_WEIGHTS);
    let output = check.values.iter().find(|v| v.name == OUTPUT).unwrap();
    assert!(output.max_rel_err > NETWORK_RTOL, "{output:?}");
}

#[test]
fn f16_weights_on_the_tiled_kernels_agree_with_the_reference() {
    // Stored as f16 pairs: what a GPU runs.
    check_f16_weights("tiled", None);
}

#[test]
fn f16_weights_with_winograd_f4_on_the_subgroup_kernels_agree_with_the_reference() {
    // Rounded, held as f32: the transformed weights of the Winograd GEMMs too.
    check_f16_weights("subgroup", Some(WinogradTile::F4));
}

#[test]
fn split_k_on_the_tiled_kernels_agrees_with_the_reference() {
    // Direct 3x3 convs and pooled projections, split too.
    check_split_k("tiled", None);
}

#[test]
fn split_k_with_winograd_f4_on_the_subgroup_kernels_agrees_with_the_reference() {
    check_split_k("subgroup", Some(WinogradTile::F4));
}

#[test]
fn split_k_with_winograd_f4_on_the_blocked_kernels_agrees_with_the_reference() {
    check_split_k("blocked", Some(WinogradTile::F4));
}

#[test]
fn separate_pools_and_winograd_on_the_subgroup_kernels_agree_with_the_reference() {
    // The kernels lavapipe tunes to.
    check_separate_pools_and_winograd("subgroup", WinogradTile::F2);
}

#[test]
fn separate_pools_and_winograd_f4_on_the_subgroup_kernels_agree_with_the_reference() {
    check_separate_pools_and_winograd("subgroup", WinogradTile::F4);
}

#[test]
fn separate_pools_and_winograd_f4_on_the_subgroup_texture_kernels_agree_with_the_reference() {
    // Every 1x1 conv and Winograd GEMM whose pixel count is a multiple of 4 reads its input
    // through a texture copied from its buffer; the rest keep their variant.
    check_separate_pools_and_winograd("subgroup-texture", WinogradTile::F4);
}

#[test]
fn separate_pools_and_winograd_on_the_blocked_kernels_agree_with_the_reference() {
    // What a browser runs on a CPU-like adapter (no subgroups there).
    check_separate_pools_and_winograd("blocked", WinogradTile::F2);
}

#[test]
fn separate_pools_and_winograd_f4_on_the_blocked_kernels_agree_with_the_reference() {
    check_separate_pools_and_winograd("blocked", WinogradTile::F4);
}

#[test]
fn separate_pools_and_winograd_on_the_tiled_kernels_agree_with_the_reference() {
    check_separate_pools_and_winograd("tiled", WinogradTile::F2);
}

#[test]
fn separate_pools_and_winograd_f4_on_the_tiled_kernels_agree_with_the_reference() {
    check_separate_pools_and_winograd("tiled", WinogradTile::F4);
}

#[test]
fn batch_2_with_auxiliary_classifiers_agrees_with_the_reference() {
    let (gpu, pipelines) = common::gpu();
    let graph = googlenet(Options { aux: true, ..Options::default() });
    let input = random_images(2, 2);
    let check = check_network(gpu, pipelines, &graph, &input).unwrap();
    assert!(check.passed, "{:#?}", check);
    let names: Vec<&str> = check.values.iter().map(|v| v.name.as_str()).collect();
    for output in [OUTPUT, AUX_OUTPUTS[0], AUX_OUTPUTS[1]] {
        assert!(names.contains(&output), "{output} missing from {names:?}");
    }
    let engine = Engine::new(gpu, pipelines, Plan::build(&graph, 2, &PlanOptions::default()).unwrap()).unwrap();
    for (name, probabilities) in engine.run(&input.data).unwrap() {
        assert_eq!(probabilities.dims, [2, 1000], "{name}");
        for row in probabilities.data.chunks(1000) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{name} rows sum to 1");
        }
    }
}

#[test]
fn a_wrong_module_is_named() {
    let (gpu, pipelines) = common::gpu();
    let graph = googlenet(Options::default());
    let input = random_images(1, 3);
    let mut plan = Plan::build(&graph, 1, &PlanOptions { keep: module_outputs(&graph), ..Default::default() }).unwrap();
    // Perturb one weight of inception 4c's 3x3 and 5x5 dispatch on the GPU side only.
    let broken = plan.dispatches.iter().position(|d| d.nodes.iter().any(|n| n == "inception_4c/3x3")).unwrap();
    plan.dispatches[broken].constants[0][0] += 0.5;
    let outputs = Engine::new(gpu, pipelines, plan).unwrap().run(&input.data).unwrap();
    let reference = run_reference(&graph, &input).unwrap();
    let failing: Vec<&str> = outputs
        .iter()
        .filter(|(name, t)| !check_value(name, t, &reference[name], NETWORK_RTOL).passed)
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(failing.contains(&"inception_4c/output"), "{failing:?}");
    assert!(!failing.contains(&"inception_4b/output"), "{failing:?}");
}
