//! Modules of every shape in the family's small models (`tests/data/family`, and the zoo-style
//! GoogLeNet): found by the one definition (a fan-out and the Concat or residual Sum where its
//! branches meet), each with its branch count; on the plan a GPU gets, each module runs in as many
//! waves as its critical path (the longest chain of dispatches that depend on each other), but
//! where two independent dispatches of one level use one buffer and one writes it (a bare pool
//! branch writing the concat beside a conv: wgpu tracks whole buffers), which costs one wave and
//! which the plan names. Both the GPU plan and the CPU-like plan compute the reference's result.

mod common;

use googlenet::engine::Engine;
use googlenet::npy::read_f32;
use googlenet::onnx::import::import_onnx;
use googlenet::plan::{Plan, PlanOptions, PlanTarget};
use googlenet::reference::run_reference;
use googlenet::verify::{check_value, NETWORK_RTOL};

fn model(name: &str) -> (googlenet::graph::Graph, googlenet::Tensor) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let path = |suffix: &str| if name.starts_with("googlenet") { dir.join(format!("{name}{suffix}")) } else { dir.join("family").join(format!("{name}{suffix}")) };
    let input = if name.starts_with("googlenet") { read_f32(&dir.join("input.npy")) } else { read_f32(&path(".input.npy")) };
    (import_onnx(&path(".onnx")).unwrap(), input.unwrap())
}

fn plan_for(graph: &googlenet::graph::Graph, batch: usize, target: PlanTarget) -> Plan {
    Plan::build(graph, batch, &PlanOptions { target: Some(target), ..Default::default() }).unwrap()
}

/// Each model's modules' branch counts, in graph order.
const MODULES: &[(&str, &[usize])] = &[
    ("googlenet_zoo", &[4; 9]),
    ("bn_inception", &[4, 4]),
    // Mixed_5b, a reduction (its pool branch bare), Mixed_6b (1x7 / 7x1), Mixed_7b (forked
    // branches meeting in their own concat inside the module's).
    ("inception_v3_modules", &[4, 3, 4, 4]),
    // Inception-A, Reduction-A, Inception-C (forked branches meeting in the module's concat).
    ("inception_v4_modules", &[4, 3, 4]),
    // Two blocks: three branches and the shortcut, meeting in the residual Sum.
    ("inception_resnet", &[4, 4]),
    ("resnet_bottleneck", &[2, 2]),
];

#[test]
fn every_module_is_found_with_its_branches() {
    for &(name, branches) in MODULES {
        let (graph, input) = model(name);
        let plan = plan_for(&graph, input.dims[0], PlanTarget::Gpu);
        let found: Vec<usize> = plan.modules.iter().map(|m| m.branches).collect();
        assert_eq!(found, branches, "{name}: {:?}", plan.modules.iter().map(|m| &m.name).collect::<Vec<_>>());
    }
}

#[test]
fn on_the_gpu_plan_every_module_runs_in_its_critical_path() {
    for &(name, _) in MODULES {
        let (graph, input) = model(name);
        let plan = plan_for(&graph, input.dims[0], PlanTarget::Gpu);
        for module in &plan.modules {
            let (waves, critical) = (plan.module_waves(module), plan.critical_path(module));
            let pairs = plan.serialized_pairs(module);
            // Only a bare pool branch beside a conv of its level may cost a wave, and the plan says so.
            let pool_pairs = pairs.iter().all(|&(a, b, _)| [a, b].iter().any(|&d| plan.dispatches[d].kernel.kernel_name().contains("pool")));
            assert!(pool_pairs, "{name} {}: {pairs:?}", module.name);
            let expected = critical + usize::from(!pairs.is_empty());
            assert_eq!(waves, expected, "{name} {}: {} waves, critical path {critical}, serialized {pairs:?}\n{}", module.name, waves, plan.report());
        }
    }
}

#[test]
fn the_gpu_and_cpu_plans_compute_the_reference_result() {
    let (gpu, pipelines) = common::gpu();
    for &(name, _) in MODULES {
        let (graph, input) = model(name);
        let reference = run_reference(&graph, &input).unwrap();
        for target in [PlanTarget::Gpu, PlanTarget::CpuLike] {
            let plan = plan_for(&graph, input.dims[0], target);
            for (value, got) in Engine::new(gpu, pipelines, plan).unwrap().run(&input.data).unwrap() {
                let check = check_value(&value, &got, &reference[&value], NETWORK_RTOL);
                assert!(check.passed, "{name} {target:?}: {check:?}");
            }
        }
    }
}

/// `verify`'s module-by-module check keeps each module's output, also where a residual Sum would
/// otherwise be folded into the conv before it: the kept value stays a value of its own.
#[test]
fn every_module_output_can_be_kept_and_checked() {
    let (gpu, pipelines) = common::gpu();
    for &(name, _) in MODULES {
        let (graph, input) = model(name);
        let check = googlenet::verify::check_network(gpu, pipelines, &graph, &input).unwrap();
        assert!(check.passed, "{name}: {check:?}");
        assert_eq!(check.values.len(), MODULES.iter().find(|m| m.0 == name).unwrap().1.len() + graph.outputs.len(), "{name}");
    }
}
