//! Small graphs through the planner and the GPU engine against the CPU reference: the rewrites
//! (BatchNorm and constant folding, ReLU and residual fusion, pooled-input fusion, grouped convs,
//! channel shuffles, slices, copies) must not change results.

mod common;

use googlenet::engine::Engine;
use googlenet::geometry::Pads;
use googlenet::graph::{AffineSpec, BatchNormSpec, ConvSpec, FcSpec, Graph, LrnSpec, Node, Op, PoolSpec};
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
        group: 1,
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

fn grouped_conv(rng: &mut Rng, in_c: usize, out_c: usize, kernel: usize, stride: usize, group: usize) -> Op {
    let Op::Conv(spec) = conv(rng, in_c / group, out_c, kernel, stride) else { unreachable!() };
    Op::Conv(ConvSpec { group, ..spec })
}

fn scale(rng: &mut Rng, channels: usize) -> Op {
    Op::Affine(AffineSpec { scale: rng.symmetric_vec(channels).iter().map(|v| 1.0 + 0.5 * v).collect(), shift: rng.symmetric_vec(channels) })
}

/// The kernel names of the plan's dispatches, in order.
fn kernels_of(graph: &Graph, batch: usize) -> Vec<&'static str> {
    Plan::build(graph, batch, &PlanOptions::default()).unwrap().dispatches.iter().map(|d| d.kernel.kernel_name()).collect()
}

fn check(graph: &Graph, batch: usize) {
    check_with(graph, batch, &PlanOptions::default());
}

fn check_with(graph: &Graph, batch: usize, options: &PlanOptions) {
    let (gpu, pipelines) = common::gpu();
    let [c, h, w] = graph.input_chw;
    let input = Tensor::new(vec![batch, c, h, w], Rng::new(5).symmetric_vec(batch * c * h * w));
    let plan = Plan::build(graph, batch, options).unwrap();
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
fn residual_blocks_add_in_the_conv_epilogue() {
    let mut rng = Rng::new(11);
    let graph = Graph {
        input: "x".into(),
        input_chw: [6, 11, 9],
        nodes: vec![
            // A ResNet bottleneck with a strided projection shortcut: conv, BN, + shortcut, ReLU.
            node("reduce", conv(&mut rng, 6, 4, 1, 1), &["x"]),
            node("reduce_relu", Op::Relu, &["reduce"]),
            node("spatial", conv(&mut rng, 4, 4, 3, 2), &["reduce_relu"]),
            node("expand", conv(&mut rng, 4, 10, 1, 1), &["spatial"]),
            node("expand_bn", Op::BatchNorm(batch_norm(&mut rng, 10)), &["expand"]),
            node("shortcut", conv(&mut rng, 6, 10, 1, 2), &["x"]),
            node("shortcut_bn", Op::BatchNorm(batch_norm(&mut rng, 10)), &["shortcut"]),
            node("add", Op::Sum, &["expand_bn", "shortcut_bn"]),
            node("block", Op::Relu, &["add"]),
            // An Inception-ResNet block: branches, a concat, a 1x1 conv scaled and added to the
            // block input, ReLU.
            node("b0", conv(&mut rng, 10, 3, 1, 1), &["block"]),
            node("b1", conv(&mut rng, 10, 5, 3, 1), &["block"]),
            node("cat", Op::Concat, &["b0", "b1"]),
            node("up", conv(&mut rng, 8, 10, 1, 1), &["cat"]),
            node("scaled", Op::Affine(AffineSpec { scale: vec![0.17; 10], shift: vec![0.0; 10] }), &["up"]),
            node("residual", Op::Sum, &["block", "scaled"]),
            node("out", Op::Relu, &["residual"]),
        ],
        outputs: vec!["out".into()],
    };
    let kernels = kernels_of(&graph, 2);
    assert!(kernels.iter().all(|k| k.starts_with("conv")), "every add, scale and ReLU rides on a conv: {kernels:?}");
    check(&graph, 2);
}

#[test]
fn sums_no_conv_absorbs_and_pre_activation_maps() {
    let mut rng = Rng::new(12);
    let graph = Graph {
        input: "x".into(),
        input_chw: [5, 8, 7],
        nodes: vec![
            node("a", Op::MaxPool(pool(3, 1, 1, false, false)), &["x"]),
            node("b", Op::AvgPool(pool(3, 1, 1, false, true)), &["x"]),
            // Three inputs: two adds, the second with the ReLU.
            node("sum3", Op::Sum, &["a", "b", "x"]),
            node("sum3_relu", Op::Relu, &["sum3"]),
            // DenseNet's pre-activation: BN, Scale (Mul, Add), ReLU, then a padded conv: one
            // affine step (folding into the conv would be wrong at its zero-padded border).
            node("bn", Op::BatchNorm(batch_norm(&mut rng, 5)), &["sum3_relu"]),
            node("scale", scale(&mut rng, 5), &["bn"]),
            node("relu", Op::Relu, &["scale"]),
            node("conv", conv(&mut rng, 5, 4, 3, 1), &["relu"]),
            node("dense", Op::Concat, &["sum3_relu", "conv"]),
            // The same value twice in a Sum.
            node("twice", Op::Sum, &["dense", "dense"]),
        ],
        outputs: vec!["twice".into()],
    };
    let kernels = kernels_of(&graph, 3);
    assert_eq!(kernels.iter().filter(|k| k.starts_with("residual add")).count(), 3, "{kernels:?}");
    assert_eq!(kernels.iter().filter(|k| **k == "channel affine + relu").count(), 1, "{kernels:?}");
    check(&graph, 3);
}

#[test]
fn grouped_and_depthwise_convs_and_channel_shuffles() {
    let mut rng = Rng::new(13);
    let graph = Graph {
        input: "x".into(),
        input_chw: [8, 9, 11],
        nodes: vec![
            // AlexNet's group 2, then ShuffleNet's group-4 1x1 conv, BN and ReLU folded in.
            node("g2", grouped_conv(&mut rng, 8, 12, 3, 1, 2), &["x"]),
            node("g4", grouped_conv(&mut rng, 12, 16, 1, 1, 4), &["g2"]),
            node("g4_bn", Op::BatchNorm(batch_norm(&mut rng, 16)), &["g4"]),
            node("g4_relu", Op::Relu, &["g4_bn"]),
            // A shuffle read by a depthwise conv: a step of its own.
            node("shuffle", Op::ChannelShuffle { groups: 4 }, &["g4_relu"]),
            node("dw", grouped_conv(&mut rng, 16, 16, 3, 2, 16), &["shuffle"]),
            node("dw_bn", Op::BatchNorm(batch_norm(&mut rng, 16)), &["dw"]),
            // A depthwise conv with a channel multiplier.
            node("dw2", grouped_conv(&mut rng, 16, 32, 5, 1, 16), &["dw_bn"]),
            // A shuffle read by an ordinary conv: its weight columns permuted instead.
            node("shuffle2", Op::ChannelShuffle { groups: 8 }, &["dw2"]),
            node("mix", conv(&mut rng, 32, 6, 1, 1), &["shuffle2"]),
            node("gap", Op::GlobalAvgPool, &["mix"]),
            node("rows", Op::Reshape { dims: vec![6] }, &["gap"]),
            node("fc", Op::Fc(FcSpec { weight: Tensor::new(vec![3, 6], rng.symmetric_vec(18)), bias: rng.symmetric_vec(3) }), &["rows"]),
            node("image", Op::Reshape { dims: vec![3, 1, 1] }, &["fc"]),
        ],
        outputs: vec!["image".into(), "g4_relu".into()],
    };
    let kernels = kernels_of(&graph, 2);
    assert_eq!(kernels.iter().filter(|k| **k == "channel shuffle").count(), 1, "{kernels:?}");
    assert_eq!(kernels.iter().filter(|k| **k == "depthwise conv").count(), 2, "{kernels:?}");
    check(&graph, 2);
}

#[test]
fn a_fully_connected_weight_past_one_binding_is_split_along_its_outputs() {
    let mut rng = Rng::new(14);
    // 600 x 640 floats: 1.5 MiB, against a binding limit lowered to 1 MiB (409 rows a part).
    let fc = FcSpec { weight: Tensor::new(vec![600, 640], rng.symmetric_vec(600 * 640)), bias: rng.symmetric_vec(600) };
    let graph = Graph {
        input: "x".into(),
        input_chw: [10, 8, 8],
        nodes: vec![
            node("flat", Op::Flatten, &["x"]),
            node("fc", Op::Fc(fc), &["flat"]),
            node("relu", Op::Relu, &["fc"]),
            node("prob", Op::Softmax, &["relu"]),
        ],
        outputs: vec!["prob".into()],
    };
    let options = PlanOptions { max_binding_bytes: Some(1 << 20), ..Default::default() };
    let plan = Plan::build(&graph, 2, &options).unwrap();
    let parts: Vec<usize> = plan.dispatches.iter().filter(|d| d.kernel.kernel_name() == "fully connected").map(|d| d.constants[0].len() * 4).collect();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts.iter().all(|&bytes| bytes <= 1 << 20), "{parts:?}");
    check_with(&graph, 2, &options);
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
