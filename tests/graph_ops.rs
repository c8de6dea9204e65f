//! Small graphs through the planner and the GPU engine against the CPU reference: the rewrites
//! (BatchNorm folding, ReLU fusion, pooled-input fusion, slices, copies) must not change results.

mod common;

use googlenet::engine::Engine;
use googlenet::geometry::Pads;
use googlenet::graph::{BatchNormSpec, ConvSpec, FcSpec, Graph, LrnSpec, Node, Op, PoolSpec};
use googlenet::plan::{Plan, PlanOptions};
use googlenet::reference::run_reference;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;
use googlenet::verify::{check_value, NETWORK_RTOL};

fn node(name: &str, op: Op, inputs: &[&str]) -> Node {
    Node { name: name.into(), op, inputs: inputs.iter().map(|s| s.to_string()).collect(), output: name.into() }
}

fn conv(rng: &mut Rng, in_c: usize, out_c: usize, kernel: usize, stride: usize) -> Op {
    let n = out_c * in_c * kernel * kernel;
    Op::Conv(ConvSpec {
        weight: Tensor::new(vec![out_c, in_c, kernel, kernel], rng.symmetric_vec(n)),
        bias: rng.symmetric_vec(out_c),
        stride: [stride; 2],
        pads: Pads::uniform(kernel / 2),
    })
}

fn pool(kernel: usize, stride: usize, pad: usize, ceil_mode: bool, count_include_pad: bool) -> PoolSpec {
    PoolSpec { kernel: [kernel; 2], stride: [stride; 2], pads: Pads::uniform(pad), ceil_mode, count_include_pad }
}

fn batch_norm(rng: &mut Rng, channels: usize) -> BatchNormSpec {
    BatchNormSpec {
        scale: rng.symmetric_vec(channels).iter().map(|v| 1.0 + 0.5 * v).collect(),
        shift: rng.symmetric_vec(channels),
        mean: rng.symmetric_vec(channels),
        var: rng.symmetric_vec(channels).iter().map(|v| 1.0 + 0.9 * v).collect(),
        epsilon: 1e-3,
    }
}

fn check(graph: &Graph, batch: usize) {
    let (gpu, pipelines) = common::gpu();
    let [c, h, w] = graph.input_chw;
    let input = Tensor::new(vec![batch, c, h, w], Rng::new(5).symmetric_vec(batch * c * h * w));
    let plan = Plan::build(graph, batch, &PlanOptions::default()).unwrap();
    let outputs = Engine::new(gpu, pipelines, plan).unwrap().run(&input.data).unwrap();
    let reference = run_reference(graph, &input).unwrap();
    for (name, tensor) in &outputs {
        let result = check_value(name, tensor, &reference[name], NETWORK_RTOL);
        assert!(result.passed, "{result:?}");
    }
}

#[test]
fn batch_norm_relu_pools_lrn_and_a_classifier() {
    let mut rng = Rng::new(9);
    let bn = batch_norm(&mut rng, 6);
    let graph = Graph {
        input: "x".into(),
        input_chw: [3, 17, 17],
        nodes: vec![
            node("conv", conv(&mut rng, 3, 6, 3, 2), &["x"]),
            node("bn", Op::BatchNorm(bn), &["conv"]),
            node("relu", Op::Relu, &["bn"]),
            node("pool", Op::MaxPool(pool(3, 2, 0, true, false)), &["relu"]),
            node("lrn", Op::Lrn(LrnSpec { size: 5, alpha: 1e-2, beta: 0.75, bias: 1.0 }), &["pool"]),
            node("avg", Op::AvgPool(pool(3, 1, 1, false, true)), &["lrn"]),
            node("gap", Op::GlobalAvgPool, &["avg"]),
            node("flat", Op::Flatten, &["gap"]),
            node("fc", Op::Fc(FcSpec { weight: Tensor::new(vec![10, 6], rng.symmetric_vec(60)), bias: rng.symmetric_vec(10) }), &["flat"]),
            node("drop", Op::Identity, &["fc"]),
            node("prob", Op::Softmax, &["drop"]),
        ],
        outputs: vec!["prob".into(), "relu".into()],
    };
    check(&graph, 3);
}

#[test]
fn a_relu_read_twice_a_concat_of_the_input_and_a_pooled_projection() {
    let mut rng = Rng::new(10);
    let graph = Graph {
        input: "x".into(),
        input_chw: [5, 13, 11],
        nodes: vec![
            // A BatchNorm no conv precedes (an input normalisation): a per-channel affine kernel.
            node("norm", Op::BatchNorm(batch_norm(&mut rng, 5)), &["x"]),
            node("conv", conv(&mut rng, 5, 7, 3, 1), &["norm"]),
            // Read by two nodes, so not fused into the conv.
            node("relu", Op::Relu, &["conv"]),
            node("pool", Op::MaxPool(pool(3, 1, 1, false, false)), &["relu"]),
            node("proj", conv(&mut rng, 7, 4, 1, 1), &["pool"]),
            node("other", conv(&mut rng, 7, 3, 5, 1), &["relu"]),
            // Reads another input of the same concat.
            node("again", conv(&mut rng, 7, 2, 1, 1), &["conv"]),
            node("cat", Op::Concat, &["x", "proj", "other", "conv", "again"]),
        ],
        outputs: vec!["cat".into()],
    };
    check(&graph, 2);
}

#[test]
fn a_concat_that_takes_one_value_twice() {
    let mut rng = Rng::new(11);
    let graph = Graph {
        input: "x".into(),
        input_chw: [4, 9, 9],
        nodes: vec![
            node("conv", conv(&mut rng, 4, 3, 3, 1), &["x"]),
            node("twice", Op::Concat, &["conv", "conv"]),
            // An inception-like module with one branch taken twice, once through an alias.
            node("b1", conv(&mut rng, 6, 5, 1, 1), &["twice"]),
            node("b2", conv(&mut rng, 6, 2, 3, 1), &["twice"]),
            node("b1_again", Op::Identity, &["b1"]),
            node("module", Op::Concat, &["b1", "b2", "b1_again"]),
            node("input_twice", Op::Concat, &["x", "x"]),
        ],
        outputs: vec!["module".into(), "input_twice".into()],
    };
    check(&graph, 2);
}
