//! Every kernel against its CPU reference over the sweep in `verify::kernel_sweep` (odd sizes,
//! channel counts off the tile, batch 1 and 3, strides, asymmetric pads, ceil and floor pools,
//! slices of larger buffers whose other channels must keep their NaN sentinel).
//!
//! Tolerances are each op's `Kernel::tolerance`: n * eps * max|output| for a sum of n terms (see
//! `ops::accumulation_tolerance`), exact for max pool, ReLU and copies.

mod common;

use googlenet::gpu::WeightPrecision;
use googlenet::geometry::{ChannelSlice, Pads};
use googlenet::ops::{Conv2d, ConvGroup, ConvVariant, DepthwiseConv2d};
use googlenet::verify::{check_op, kernel_sweep, random_inputs};

/// Whether the conv variant called `name` runs here (the subgroup ones at the adapter's width).
/// Where the adapter does not offer it the test passes saying it did not run, unless
/// `GOOGLENET_REQUIRE_VARIANTS` (comma-separated variant names; `.ci/run` names every variant
/// lavapipe and SwiftShader offer) requires it: then its absence fails.
fn offered(name: &str) -> bool {
    let (gpu, _) = common::gpu();
    if ConvVariant::offered(name, gpu) {
        return true;
    }
    let required = std::env::var("GOOGLENET_REQUIRE_VARIANTS").unwrap_or_default();
    assert!(
        !required.split(',').any(|required| required.trim() == name),
        "GOOGLENET_REQUIRE_VARIANTS requires the `{name}` conv variant, which {} does not offer",
        gpu.describe()
    );
    eprintln!("not run: {} does not offer the `{name}` conv variant", gpu.describe());
    false
}

fn sweep(kernel: &str) {
    let (gpu, kernels) = common::gpu();
    let cases: Vec<_> = kernel_sweep(gpu).into_iter().filter(|op| op.kernel_name() == kernel).collect();
    assert!(!cases.is_empty(), "the sweep has no cases for {kernel}");
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, op)| check_op(gpu, kernels, op.as_ref(), &random_inputs(op.as_ref(), 1000 + i as u64)))
        .filter(|r| !r.passed)
        .map(|r| format!("{} {}: max abs {:e} > {:e} {}", r.kernel, r.shape, r.max_abs_err, r.tolerance, r.error.unwrap_or_default()))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn conv_kxk() {
    sweep("conv kxk");
}

#[test]
fn conv_1x1() {
    sweep("conv 1x1");
}

#[test]
fn conv_1x1_groups() {
    sweep("conv 1x1 group");
}

#[test]
fn conv_kxk_groups() {
    sweep("conv kxk group");
}

// At the adapter's subgroup width: 8 on lavapipe (16 with LP_NATIVE_VECTOR_WIDTH=512), 4 on
// SwiftShader; CI requires them on both. Elsewhere they run where the adapter fixes its width.
#[test]
fn conv_kxk_subgroup() {
    if offered("subgroup") {
        sweep("conv kxk subgroup");
        sweep("conv kxk group subgroup");
    }
}

#[test]
fn conv_1x1_subgroup() {
    if offered("subgroup") {
        sweep("conv 1x1 subgroup");
        sweep("conv 1x1 group subgroup");
    }
}

#[test]
fn conv_1x1_subgroup_vec4() {
    if offered("subgroup-vec4") {
        sweep("conv 1x1 subgroup-vec4");
        sweep("conv 1x1 group subgroup-vec4");
    }
}

#[test]
fn conv_1x1_subgroup_texture() {
    if offered("subgroup-texture") {
        sweep("conv 1x1 subgroup-texture");
        sweep("conv 1x1 group subgroup-texture");
    }
}

// Every adapter runs them.
#[test]
fn conv_kxk_blocked() {
    sweep("conv kxk blocked");
    sweep("conv kxk group blocked");
}

#[test]
fn conv_1x1_blocked() {
    sweep("conv 1x1 blocked");
    sweep("conv 1x1 group blocked");
    sweep("conv 1x1 blocked-vec4");
    sweep("conv 1x1 group blocked-vec4");
}

#[test]
fn winograd_transforms() {
    sweep("winograd input");
    sweep("winograd output");
}

#[test]
fn max_pool() {
    sweep("max pool");
}

#[test]
fn avg_pool() {
    sweep("avg pool");
}

#[test]
fn lrn() {
    sweep("lrn");
}

#[test]
fn fully_connected() {
    sweep("fully connected");
}

#[test]
fn softmax() {
    sweep("softmax");
}

#[test]
fn channel_affine() {
    sweep("channel affine");
    sweep("channel affine + relu");
}

#[test]
fn residual_add_and_channel_shuffle() {
    sweep("residual add");
    sweep("residual add + relu");
    sweep("channel shuffle");
}

#[test]
fn depthwise_conv() {
    sweep("depthwise conv");
}

#[test]
fn depthwise_conv_reads_only_its_input_slice() {
    // The input's other channels hold NaN: a read outside the op's channels reaches an output.
    let (gpu, kernels) = common::gpu();
    let mut conv = DepthwiseConv2d::simple(3, 4, 2, 9, 10, 3, 2, 0);
    (conv.pads, conv.input, conv.output) = (Pads::new(2, 1, 0, 3), ChannelSlice::at(3, 9), ChannelSlice::at(2, 11));
    let mut inputs = random_inputs(&conv, 7);
    let pixels = conv.in_h * conv.in_w;
    for (channel, values) in inputs[0].chunks_mut(pixels).enumerate() {
        if !(3..7).contains(&(channel % 9)) {
            values.fill(f32::NAN);
        }
    }
    let result = check_op(gpu, kernels, &conv, &inputs);
    assert!(result.passed, "{result:?}");
}

/// A 1x1 conv with one input channel over the pixels [1, -2]: each output is one weight times
/// an exact factor, so the f16 weights must come back exactly as the reference rounds them.
fn f16_weights_decode_exactly(weights: &[f32]) {
    let (gpu, pipelines) = common::gpu();
    let conv = Conv2d::simple(1, 1, 1, 2, weights.len(), 1, 1, 0);
    let op = ConvGroup::single(conv).with_weights(WeightPrecision::F16);
    let result = check_op(gpu, pipelines, &op, &[vec![1.0, -2.0], weights.to_vec(), vec![0.0; weights.len()], vec![0.0]]);
    assert!(result.passed && result.max_abs_err == 0.0, "{result:?}");
}

#[test]
fn f16_weights_decode_exactly_in_the_tiled_kernels() {
    // Zeros, subnormals (the smallest, 2^-24), the smallest normal, values that round; then
    // large ones apart, so that the tolerance (relative to the largest output) stays tiny.
    f16_weights_decode_exactly(&[0.0, -0.0, 5.960_464_5e-8, -3.0e-6, 6.103_515_6e-5, -1.0e-9, 1.0 / 3.0, -1.5, 0.099_99]);
    f16_weights_decode_exactly(&[1000.5, -65504.0, 65519.0, 2049.0, -0.5]);
}

#[test]
fn split_k_sum() {
    sweep("split-K sum");
    sweep("split-K sum + relu");
}

#[test]
fn the_sweep_covers_every_variant() {
    // Each family reaches the sweep in every variant the adapter offers.
    let (gpu, _) = common::gpu();
    let sweep = kernel_sweep(gpu);
    let variants_of = |prefix: &str| {
        let mut names: Vec<&str> = sweep.iter().filter(|op| op.kernel_name().starts_with(prefix)).map(|op| op.variant_name()).collect();
        names.sort();
        names.dedup();
        names
    };
    assert_eq!(variants_of("fully connected"), ["reduce", "rows"]);
    // The subgroup ones where the adapter offers them; the vec4 and texture loaders are 1x1 only.
    let subgroup = offered("subgroup");
    let expected = |pointwise: bool| -> Vec<&str> {
        let all = ["blocked", "blocked-vec4", "subgroup", "subgroup-texture", "subgroup-vec4", "tiled", "tiled-16x64", "tiled-32x32"];
        let pointwise_only = |v: &str| v.ends_with("vec4") || v.ends_with("texture");
        all.into_iter().filter(|v| (subgroup || !v.starts_with("subgroup")) && (pointwise || !pointwise_only(v))).collect()
    };
    assert_eq!(variants_of("conv 1x1"), expected(true));
    assert_eq!(variants_of("conv kxk"), expected(false));
}
