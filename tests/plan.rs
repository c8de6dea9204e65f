//! The planner's invariants, on the built-in GoogLeNet and on small graphs (no GPU needed).

use std::collections::HashMap;
use std::path::Path;

use googlenet::geometry::Pads;
use googlenet::gpu::WeightPrecision;
use googlenet::graph::{ConvSpec, Graph, Node, Op, PoolSpec};
use googlenet::models::googlenet::{googlenet, Options, MODULES};
use googlenet::onnx::import::import_onnx;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::tensor::Tensor;

fn builtin(batch: usize, aux: bool) -> Plan {
    Plan::build(&googlenet(Options { aux, ..Options::default() }), batch, &PlanOptions::default()).expect("plans")
}

#[test]
fn every_inception_module_runs_in_two_waves() {
    for plan in [builtin(1, false), builtin(2, true)] {
        assert_eq!(plan.modules.len(), MODULES.len());
        for module in &plan.modules {
            assert_eq!(module.dispatches.len(), 2, "{}: {} dispatches", module.name, module.dispatches.len());
            // One barrier: the 3x3 and 5x5 convs read the reductions the first wave writes.
            assert!(plan.barriers_inside(module) <= 2, "{}: {} barriers", module.name, plan.barriers_inside(module));
            assert_eq!(plan.barriers_inside(module), 1, "{}", module.name);
        }
    }
}

#[test]
fn no_concat_is_copied() {
    let plan = builtin(1, true);
    assert!(plan.dispatches.iter().all(|d| !d.kernel.kernel_name().starts_with("channel affine")));
}

/// Each tensor's channels are written exactly once (concat outputs by their four branches).
#[test]
fn slices_cover_each_concat_output_exactly_once() {
    let plan = builtin(2, false);
    let mut written: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut writers: HashMap<usize, usize> = HashMap::new();
    for d in &plan.dispatches {
        for (view, channels) in &d.writes {
            let total = plan.tensors[view.tensor].dims[1];
            assert_eq!(view.slice.total, total, "{}", plan.tensors[view.tensor].name);
            let count = written.entry(view.tensor).or_insert_with(|| vec![0; total]);
            (view.slice.offset..view.slice.offset + channels).for_each(|c| count[c] += 1);
            *writers.entry(view.tensor).or_default() += 1;
        }
    }
    for (tensor, count) in &written {
        assert!(count.iter().all(|&c| c == 1), "{}: channel write counts {count:?}", plan.tensors[*tensor].name);
    }
    for (name, _) in MODULES {
        let output = plan.tensors.iter().position(|t| t.name == format!("{name}/output")).expect("module output tensor");
        assert_eq!(writers[&output], 4, "{name}: four branches write its output");
    }
}

#[test]
fn liveness_never_shares_a_buffer_between_live_tensors() {
    for plan in [builtin(1, false), builtin(3, true)] {
        for a in 0..plan.tensors.len() {
            for b in a + 1..plan.tensors.len() {
                let (Some(ba), Some(bb)) = (plan.buffer_of[a], plan.buffer_of[b]) else { continue };
                if ba != bb {
                    continue;
                }
                let (fa, la) = plan.lifetimes[a].unwrap();
                let (fb, lb) = plan.lifetimes[b].unwrap();
                assert!(la < fb || lb < fa, "{} [{fa}..{la}] and {} [{fb}..{lb}] share buffer {ba}", plan.tensors[a].name, plan.tensors[b].name);
            }
            if let Some(buffer) = plan.buffer_of[a] {
                assert!(plan.buffer_sizes[buffer] >= plan.tensors[a].len());
            }
        }
        let (buffers, tensors) = plan.memory();
        assert!(buffers * 2 < tensors, "buffers take {buffers} bytes of {tensors}");
    }
}

#[test]
fn outputs_and_kept_values_stay_readable() {
    let graph = googlenet(Options::default());
    let keep = vec!["inception_3a/output".to_string(), "inception_5b/output".to_string()];
    let plan = Plan::build(&graph, 1, &PlanOptions { keep, ..Default::default() }).unwrap();
    for output in &plan.outputs {
        let (_, last) = plan.lifetimes[output.view.tensor].unwrap();
        assert_eq!(last, plan.dispatches.len(), "{} must outlive the last dispatch", output.name);
    }
}

fn conv(name: &str, input: &str, in_c: usize, out_c: usize, kernel: usize) -> Node {
    let spec = ConvSpec {
        weight: Tensor::new(vec![out_c, in_c, kernel, kernel], vec![0.1; out_c * in_c * kernel * kernel]),
        bias: vec![0.0; out_c],
        stride: [1, 1],
        pads: Pads::uniform(kernel / 2),
        group: 1,
    };
    Node { name: name.into(), op: Op::Conv(spec), inputs: vec![input.into()], output: name.into() }
}

fn node(name: &str, op: Op, inputs: &[&str]) -> Node {
    Node { name: name.into(), op, inputs: inputs.iter().map(|s| s.to_string()).collect(), output: name.into() }
}

fn graph(nodes: Vec<Node>, output: &str) -> Graph {
    Graph { input: "x".into(), input_chw: [8, 9, 9], nodes, outputs: vec![output.into()] }
}

#[test]
fn f16_weights_refuse_a_weight_beyond_f16_range_naming_the_node() {
    let mut big = conv("big", "x", 8, 4, 3);
    let Op::Conv(spec) = &mut big.op else { unreachable!() };
    spec.weight.data[5] = 1e5;
    let g = graph(vec![conv("small", "x", 8, 8, 1), big], "big");
    assert!(Plan::build(&g, 1, &PlanOptions::default()).is_ok(), "f32 holds it");
    let error = Plan::build(&g, 1, &PlanOptions { weights: WeightPrecision::F16, ..Default::default() }).err().expect("f16 cannot").to_string();
    assert!(error.contains("big") && error.contains("f16") && error.contains("100000"), "{error}");
}

#[test]
fn a_small_inception_module_is_found_and_grouped() {
    let pool = PoolSpec { kernel: [3, 3], stride: [1, 1], pads: Pads::uniform(1), ceil_mode: false, count_include_pad: false };
    let g = graph(
        vec![
            conv("a", "x", 8, 4, 1),
            conv("b_reduce", "x", 8, 3, 1),
            conv("b", "b_reduce", 3, 5, 3),
            conv("c_reduce", "x", 8, 2, 1),
            conv("c", "c_reduce", 2, 6, 5),
            node("p", Op::MaxPool(pool), &["x"]),
            conv("p_proj", "p", 8, 7, 1),
            node("cat", Op::Concat, &["a", "b", "c", "p_proj"]),
        ],
        "cat",
    );
    let plan = Plan::build(&g, 2, &PlanOptions::default()).unwrap();
    assert_eq!(plan.dispatches.len(), 2);
    assert_eq!(plan.modules.len(), 1);
    assert_eq!(plan.barriers_inside(&plan.modules[0]), 1);
    assert_eq!(plan.dispatches[0].kernel.kernel_name(), "conv 1x1 group");
    assert_eq!(plan.dispatches[1].kernel.kernel_name(), "conv kxk group");
    // The two reductions share one stacked tensor, which the second dispatch reads.
    let stacked = plan.dispatches[1].input;
    assert_eq!(plan.tensors[stacked].dims[1], 3 + 2);
}

#[test]
fn a_chain_is_not_grouped_and_a_concat_of_the_input_is_copied_and_is_a_module() {
    let g = graph(vec![conv("a", "x", 8, 4, 3), conv("b", "a", 4, 4, 1), node("cat", Op::Concat, &["x", "b"])], "cat");
    let plan = Plan::build(&g, 1, &PlanOptions::default()).unwrap();
    let kernels: Vec<&str> = plan.dispatches.iter().map(|d| d.kernel.kernel_name()).collect();
    assert_eq!(kernels.iter().filter(|k| k.starts_with("conv")).count(), 2);
    assert!(kernels.contains(&"channel affine"), "the graph input has no producer to write its slice: {kernels:?}");
    // The input fans out to the conv chain and, as it is, to the concat: a module of two
    // branches (a DenseNet layer's shape).
    assert_eq!(plan.modules.len(), 1);
    assert_eq!(plan.modules[0].branches, 2);
}

#[test]
fn shapes_that_do_not_fit_name_the_node() {
    let g = graph(vec![conv("a", "x", 8, 4, 3), conv("b", "a", 5, 4, 1)], "b");
    let err = Plan::build(&g, 1, &PlanOptions::default()).err().expect("a channel mismatch is refused").to_string();
    assert!(err.contains("`b`") && err.contains("input channels"), "{err}");
}

#[test]
fn an_empty_tensor_is_refused_before_lowering() {
    let g = graph(vec![conv("a", "x", 8, 0, 1)], "a");
    let err = Plan::build(&g, 1, &PlanOptions::default()).err().expect("zero output channels are refused").to_string();
    assert!(err.contains("empty tensor"), "{err}");
}

#[test]
fn separate_pools_add_a_pool_dispatch_per_module() {
    let graph = googlenet(Options::default());
    let plan = Plan::build(&graph, 1, &PlanOptions { separate_pools: true, ..Default::default() }).unwrap();
    for module in &plan.modules {
        let kernels: Vec<&str> = module.dispatches.iter().map(|&d| plan.dispatches[d].kernel.kernel_name()).collect();
        assert_eq!(kernels.iter().filter(|&&k| k == "max pool").count(), 1, "{}: {kernels:?}", module.name);
        for &d in &module.dispatches {
            assert!(!plan.dispatches[d].kernel.describe().contains("pooled-input"), "{}: a conv still pools", module.name);
        }
    }
}

/// The average pools 3x3/1/1 of `graph` whose only reader is an ungrouped 1x1 conv: an Inception
/// v3 or v4 module's pool branch.
fn pool_branches(graph: &Graph) -> Vec<&str> {
    let pointwise = |node: &Node| matches!(&node.op, Op::Conv(c) if c.weight.dims[2..] == [1, 1] && c.stride == [1, 1] && c.pads == Pads::default() && c.group == 1);
    graph
        .nodes
        .iter()
        .filter(|n| matches!(&n.op, Op::AvgPool(p) if p.kernel == [3, 3] && p.stride == [1, 1] && p.pads == Pads::uniform(1)))
        .filter(|n| graph.use_count(&n.output) == 1 && graph.consumers(&n.output).all(pointwise))
        .map(|n| n.name.as_str())
        .collect()
}

#[test]
fn inception_v3_and_v4_pool_branches_run_inside_their_1x1_convs() {
    // torchvision's v3 counts the pads in its averages, timm's v4 does not.
    for (model, count_include_pad) in [("inception_v3_modules", true), ("inception_v4_modules", false)] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/family/{model}.onnx"));
        let graph = import_onnx(&path).expect("imports");
        let branches = pool_branches(&graph);
        assert!(!branches.is_empty(), "{model} has a pool branch");
        let plan = Plan::build(&graph, 2, &PlanOptions::default()).unwrap();
        for pool in branches {
            let computing: Vec<_> = plan.dispatches.iter().filter(|d| d.nodes.iter().any(|n| n == pool)).collect();
            assert_eq!(computing.len(), 1, "{model}: {pool} is computed by {} dispatches", computing.len());
            let kernel = &computing[0].kernel;
            assert!(kernel.kernel_name().starts_with("conv 1x1"), "{model}: {pool} runs as {}", kernel.kernel_name());
            let description = kernel.describe();
            assert!(description.contains("pooled-input avg"), "{model}: {pool} in {description}");
            assert_eq!(description.contains("count_include_pad"), count_include_pad, "{model}: {pool} in {description}");
        }
    }
}

#[test]
fn a_pool_stays_a_dispatch_before_a_grouped_conv_or_one_adding_a_residual() {
    let window = |count_include_pad| PoolSpec { kernel: [3, 3], stride: [1, 1], pads: Pads::uniform(1), ceil_mode: false, count_include_pad };
    // Two groups of 4 of the 8 channels: one conv step per group, both reading the pool.
    let mut grouped = conv("grouped", "p_grouped", 4, 4, 1);
    let Op::Conv(spec) = &mut grouped.op else { unreachable!() };
    spec.group = 2;
    let g = graph(
        vec![
            node("p_grouped", Op::MaxPool(window(false)), &["x"]),
            grouped,
            node("p_residual", Op::AvgPool(window(true)), &["x"]),
            conv("residual", "p_residual", 8, 8, 1),
            node("sum", Op::Sum, &["residual", "x"]),
            node("p_fused", Op::AvgPool(window(false)), &["x"]),
            conv("fused", "p_fused", 8, 4, 1),
            node("cat", Op::Concat, &["grouped", "sum", "fused"]),
        ],
        "cat",
    );
    let plan = Plan::build(&g, 1, &PlanOptions::default()).unwrap();
    let pools: Vec<&str> = plan.dispatches.iter().filter(|d| d.kernel.kernel_name().ends_with(" pool")).flat_map(|d| d.nodes.iter().map(String::as_str)).collect();
    assert_eq!(pools, ["p_grouped", "p_residual"]);
    let fused = plan.dispatches.iter().find(|d| d.nodes.iter().any(|n| n == "p_fused")).expect("computed");
    assert!(fused.kernel.describe().contains("pooled-input avg"), "{}", fused.kernel.describe());
}
