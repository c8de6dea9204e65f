//! Each kernel at GoogLeNet's real layer shapes (batch 1, 224x224 input; the ops GoogLeNet has
//! none of at the shapes of the nets that have them: depthwise convs at MobileNet's, the
//! average-pooled projection at Inception v3's, residual adds at ResNet-50's, grouped convs at
//! AlexNet's, channel shuffles at ShuffleNet's), GPU (every variant this adapter offers) and CPU
//! reference side by side. Throughput is in multiply-adds (or window elements) per second.
//!
//! On a software Vulkan device the GPU numbers are CPU-bound: compare the two columns of one
//! run, not runs on different machines.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use googlenet::gpu::{Gpu, Pipelines, Prepared};
use googlenet::geometry::ChannelSlice;
use googlenet::ops::{
    gpu_inputs, winograd_gemms, ChannelAffine, Conv2d, ConvGroup, DepthwiseConv2d, FullyConnected, Kernel, Lrn, OutputSlot, Pool2d, PoolKind, Softmax, WinogradInput, WinogradOutput, WinogradTile, WinogradTiles,
};
use googlenet::verify::random_inputs;

/// A conv with its ReLU fused, as GoogLeNet runs every conv.
fn conv_relu(in_channels: usize, size: usize, out_channels: usize, kernel: usize, stride: usize) -> Box<dyn Kernel> {
    let mut conv = Conv2d::simple(1, in_channels, size, size, out_channels, kernel, stride, kernel / 2);
    conv.relu = true;
    Box::new(ConvGroup::single(conv))
}

/// A 1x1 conv with its ReLU fused that pools its input 3x3, stride 1, pad 1 on the fly: an
/// inception module's pool branch in one kernel.
fn pooled_conv_relu(pool: PoolKind, in_channels: usize, size: usize, out_channels: usize) -> Box<dyn Kernel> {
    let mut conv = Conv2d::simple(1, in_channels, size, size, out_channels, 1, 1, 0);
    (conv.relu, conv.pool_input) = (true, Some(pool));
    Box::new(ConvGroup::single(conv))
}

/// A depthwise 3x3 conv with its ReLU fused, as MobileNet runs them.
fn depthwise_relu(channels: usize, size: usize, stride: usize) -> Box<dyn Kernel> {
    let mut conv = DepthwiseConv2d::simple(1, channels, 1, size, size, 3, stride, 1);
    conv.relu = true;
    Box::new(conv)
}

/// ResNet-50's last 1x1 conv of a 56x56 bottleneck, adding the shortcut in its epilogue.
fn residual_conv() -> Box<dyn Kernel> {
    let conv = Conv2d { relu: true, residual: Some(ChannelSlice::whole(256)), ..Conv2d::simple(1, 64, 56, 56, 256, 1, 1, 0) };
    Box::new(ConvGroup::single(conv))
}

/// AlexNet's conv2: 5x5, two groups of 48 input and 128 output channels, one dispatch.
fn grouped_conv() -> Box<dyn Kernel> {
    let group = |i: usize| {
        let conv = Conv2d { relu: true, ..Conv2d::simple(1, 48, 27, 27, 128, 5, 1, 2) };
        (Conv2d { input: ChannelSlice::at(48 * i, 96), output: ChannelSlice::at(128 * i, 256), ..conv }, OutputSlot::First)
    };
    Box::new(ConvGroup::new(vec![group(0), group(1)]))
}

fn conv2_tiles(tile: WinogradTile) -> WinogradTiles {
    WinogradTiles { batch: 1, height: 56, width: 56, tile }
}

fn googlenet_layers() -> Vec<(String, Box<dyn Kernel>)> {
    let layers: Vec<(&str, Box<dyn Kernel>)> = vec![
        ("conv1 7x7/2 3->64 @224", conv_relu(3, 224, 64, 7, 2)),
        ("conv2 3x3 64->192 @56", conv_relu(64, 56, 192, 3, 1)),
        ("3a 1x1 192->64 @28", conv_relu(192, 28, 64, 1, 1)),
        ("3a 3x3 96->128 @28", conv_relu(96, 28, 128, 3, 1)),
        ("3a 5x5 16->32 @28", conv_relu(16, 28, 32, 5, 1)),
        ("4b 1x1 512->160 @14", conv_relu(512, 14, 160, 1, 1)),
        ("3a pool proj max-pooled 1x1 192->32 @28", pooled_conv_relu(PoolKind::Max, 192, 28, 32)),
        ("v3 5b pool proj avg-pooled 1x1 192->32 @35", pooled_conv_relu(PoolKind::Average { count_include_pad: true }, 192, 35, 32)),
        ("pool1 max 3x3/2 ceil 64 @112", Box::new(Pool2d::simple(PoolKind::Max, 1, 64, 112, 112, 3, 2, 0, true))),
        ("3a pool max 3x3/1 192 @28", Box::new(Pool2d::simple(PoolKind::Max, 1, 192, 28, 28, 3, 1, 1, false))),
        ("lrn1 64 @56", Box::new(Lrn::googlenet(1, 64, 56, 56))),
        (
            "avg pool 7x7 1024",
            Box::new(Pool2d::simple(PoolKind::Average { count_include_pad: false }, 1, 1024, 7, 7, 7, 1, 0, false)),
        ),
        ("fc 1024->1000", Box::new(FullyConnected::new(1, 1024, 1000))),
        ("softmax 1000", Box::new(Softmax::rows(1, 1000))),
        ("mobilenet dw 3x3 32 @112", depthwise_relu(32, 112, 1)),
        ("mobilenet dw 3x3/2 64 @112", depthwise_relu(64, 112, 2)),
        ("mobilenet dw 3x3 512 @14", depthwise_relu(512, 14, 1)),
        ("resnet 1x1 64->256 @56 + residual", residual_conv()),
        ("resnet residual add + relu 256 @56", Box::new(ChannelAffine { residual: Some(ChannelSlice::whole(256)), ..ChannelAffine::whole([1, 256, 56, 56], true) })),
        ("alexnet conv2 5x5 2 groups 48->128 @27", grouped_conv()),
        ("shufflenet channel shuffle 4 groups 240 @28", Box::new(ChannelAffine { shuffle_groups: 4, ..ChannelAffine::whole([1, 240, 28, 28], false) })),
    ];
    let mut layers: Vec<(String, Box<dyn Kernel>)> = layers.into_iter().map(|(name, op)| (name.to_string(), op)).collect();
    // conv2's 3x3 by each Winograd algorithm: its three dispatches.
    for tile in WinogradTile::ALL {
        let tiles = conv2_tiles(tile);
        layers.push((format!("winograd {tile:?} input conv2 64 @56"), Box::new(WinogradInput { tiles, channels: 64, input: ChannelSlice::whole(64) })));
        layers.push((format!("winograd {tile:?} gemms conv2 64->192 @56"), Box::new(winograd_gemms(tiles, 64, 192))));
        let output = WinogradOutput { tiles, channels: 192, relu: true, output: ChannelSlice::whole(192) };
        layers.push((format!("winograd {tile:?} output conv2 192 @56"), Box::new(output)));
    }
    layers
}

fn kernels(c: &mut Criterion) {
    let gpu = match Gpu::new() {
        Ok(gpu) => gpu,
        Err(e) => panic!("the kernel benchmarks need a GPU adapter: {e}"),
    };
    let compiled = Pipelines::new();
    for (name, op) in googlenet_layers() {
        let inputs = random_inputs(op.as_ref(), 1);
        let input_refs: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
        let mut outputs: Vec<Vec<f32>> = op.output_lens().into_iter().map(|len| vec![0.0; len]).collect();
        let output_refs: Vec<&[f32]> = outputs.iter().map(Vec::as_slice).collect();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(op.work() as u64));
        group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
        let mut variants: Vec<Box<dyn Kernel>> = op.variants().into_iter().filter(|v| v.runs_on(&gpu)).collect();
        if variants.is_empty() {
            variants.push(op);
        }
        for variant in &variants {
            let packed = gpu_inputs(variant.as_ref(), &input_refs);
            let packed_refs: Vec<&[f32]> = packed.iter().map(Vec::as_slice).collect();
            let prepared = Prepared::new(&gpu, &compiled, &variant.launch(), &packed_refs, &output_refs).expect("launch prepares");
            group.bench_function(format!("gpu {}", variant.variant_name()), |b| b.iter(|| prepared.run(&gpu).expect("kernel runs")));
        }
        let op = &variants[0];
        group.bench_function("cpu reference", |b| b.iter(|| op.reference(&input_refs, &mut outputs)));
        group.finish();
    }
}

criterion_group!(benches, kernels);
criterion_main!(benches);
