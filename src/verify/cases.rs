//! The kernel sweep: shapes chosen to break tiling and indexing. Widths that are not multiples of
//! any tile (1, 3, 7, 13, 17, 55, 56), channel counts not multiples of 4, batch 1 and 3, stride 1
//! and 2, symmetric and asymmetric pads, ceil and floor pooling, and reads and writes through
//! channel slices of larger buffers (whose other channels must keep their NaN sentinel).

use crate::geometry::{ChannelSlice, Pads};
use crate::gpu::Gpu;
use crate::graph::PoolSpec;
use crate::ops::{
    ChannelAffine, Conv2d, ConvGroup, FullyConnected, Kernel, Lrn, OutputSlot, Pool2d, PoolKind, Softmax, WinogradInput,
    WinogradOutput, WinogradTiles,
};

fn slice(offset: usize, total: usize) -> ChannelSlice {
    ChannelSlice { offset, total }
}

fn pads(top: usize, left: usize, bottom: usize, right: usize) -> Pads {
    Pads { top, left, bottom, right }
}

fn conv_cases() -> Vec<Conv2d> {
    let mut cases = vec![
        Conv2d::simple(1, 3, 7, 7, 5, 3, 1, 1),
        Conv2d::simple(3, 5, 13, 13, 7, 3, 2, 1),
        Conv2d::simple(1, 3, 56, 56, 64, 7, 2, 3),
        Conv2d::simple(3, 17, 17, 17, 33, 5, 1, 2),
        Conv2d::simple(1, 13, 55, 56, 70, 3, 1, 1),
        Conv2d::simple(1, 4, 3, 3, 6, 3, 1, 0),
        Conv2d::simple(3, 3, 1, 1, 5, 3, 1, 1),
        Conv2d::simple(1, 7, 13, 13, 9, 1, 2, 0),
        Conv2d::simple(3, 2, 17, 13, 3, 5, 3, 0),
    ];
    let mut asymmetric = Conv2d::simple(1, 6, 13, 11, 9, 3, 2, 0);
    asymmetric.pads = pads(0, 1, 2, 1);
    cases.push(asymmetric);
    let mut tall = Conv2d::simple(3, 5, 7, 17, 11, 3, 1, 0);
    (tall.kernel_h, tall.stride_w, tall.pads) = (5, 2, pads(2, 0, 1, 1));
    cases.push(tall);
    let mut sliced = Conv2d::simple(3, 5, 13, 13, 12, 3, 1, 1);
    (sliced.input, sliced.output, sliced.relu) = (slice(3, 10), slice(5, 20), true);
    cases.push(sliced);
    cases
}

fn pointwise_cases() -> Vec<Conv2d> {
    let mut cases = vec![
        Conv2d::simple(1, 3, 1, 1, 5, 1, 1, 0),
        Conv2d::simple(3, 17, 13, 13, 70, 1, 1, 0),
        Conv2d::simple(2, 192, 28, 28, 96, 1, 1, 0),
        Conv2d::simple(1, 130, 7, 7, 3, 1, 1, 0),
    ];
    let mut relu = Conv2d::simple(1, 64, 56, 56, 130, 1, 1, 0);
    relu.relu = true;
    cases.push(relu);
    let mut sliced = Conv2d::simple(3, 13, 7, 7, 64, 1, 1, 0);
    (sliced.input, sliced.output, sliced.relu) = (slice(7, 40), slice(64, 256), true);
    cases.push(sliced);
    // Pixel counts that are multiples of 4 (the vec4 loader's), off its 32-column tile.
    cases.push(Conv2d::simple(3, 13, 4, 7, 33, 1, 1, 0));
    cases.push(Conv2d::simple(1, 130, 2, 2, 17, 1, 1, 0));
    let mut sliced_quads = Conv2d::simple(2, 17, 6, 6, 70, 1, 1, 0);
    (sliced_quads.input, sliced_quads.output, sliced_quads.relu) = (slice(5, 30), slice(3, 80), true);
    cases.push(sliced_quads);
    cases
}

fn with_slices(mut conv: Conv2d, input: ChannelSlice, output: ChannelSlice) -> Conv2d {
    (conv.input, conv.output, conv.relu) = (input, output, true);
    conv
}

/// Convs sharing a dispatch the way an inception module's branches do: the three 1x1 convs and
/// the pooled 1x1 projection that read the module input, writing the concat buffer and a scratch
/// buffer of stacked reductions; then the 3x3 and 5x5 convs that read that scratch buffer.
fn conv_group_cases() -> Vec<ConvGroup> {
    use OutputSlot::{First, Second};
    let one = |out, input, output| with_slices(Conv2d::simple(3, 13, 7, 7, out, 1, 1, 0), input, output);
    let mut projection = one(11, slice(0, 13), slice(5, 20));
    projection.pool_input = true;
    let inception_1x1 = ConvGroup::new(vec![
            (one(5, slice(0, 13), slice(0, 20)), First),
            (one(70, slice(0, 13), slice(0, 73)), Second),
            (one(3, slice(0, 13), slice(70, 73)), Second),
            (projection, First),
    ]);
    let three = with_slices(Conv2d::simple(3, 70, 7, 7, 9, 3, 1, 1), slice(0, 73), slice(2, 20));
    let five = with_slices(Conv2d::simple(3, 3, 7, 7, 4, 5, 1, 2), slice(70, 73), slice(11, 20));
    let inception_kxk = ConvGroup::new(vec![(three, First), (five, First)]);
    let strided = with_slices(Conv2d::simple(1, 6, 13, 13, 5, 3, 2, 1), slice(0, 6), slice(0, 5));
    let unstrided = with_slices(Conv2d::simple(1, 6, 13, 13, 67, 3, 1, 1), slice(0, 6), slice(0, 67));
    let mixed_sizes = ConvGroup::new(vec![(unstrided, First), (strided, Second)]);
    let mut pooled = with_slices(Conv2d::simple(1, 17, 13, 11, 9, 1, 1, 0), slice(4, 23), slice(1, 12));
    pooled.pool_input = true;
    // The first wave of a module with a separate pool, at a pixel count that is a multiple of 4.
    let quads = |out, output| with_slices(Conv2d::simple(3, 13, 6, 2, out, 1, 1, 0), slice(2, 15), output);
    let separate_pool_1x1 = ConvGroup::new(vec![
        (quads(5, slice(0, 20)), First),
        (quads(70, slice(0, 73)), Second),
        (quads(3, slice(70, 73)), Second),
    ]);
    vec![inception_1x1, inception_kxk, mixed_sizes, ConvGroup::single(pooled), separate_pool_1x1]
}

fn pool_cases(kind: PoolKind) -> Vec<Pool2d> {
    let mut cases = vec![
        Pool2d::simple(kind, 1, 3, 56, 56, 3, 2, 0, true),
        Pool2d::simple(kind, 3, 5, 56, 56, 3, 2, 0, false),
        Pool2d::simple(kind, 1, 5, 14, 14, 3, 2, 0, true),
        Pool2d::simple(kind, 3, 7, 13, 13, 3, 1, 1, false),
        Pool2d::simple(kind, 2, 3, 17, 17, 3, 2, 1, true),
        Pool2d::simple(kind, 3, 3, 1, 1, 3, 1, 1, false),
        Pool2d::simple(kind, 3, 5, 14, 14, 5, 3, 0, false),
        Pool2d::simple(kind, 3, 13, 7, 7, 7, 1, 0, false),
        Pool2d::simple(kind, 1, 2, 55, 55, 3, 2, 0, true),
    ];
    let mut asymmetric = Pool2d::simple(kind, 1, 3, 7, 7, 2, 2, 0, false);
    asymmetric.pads = pads(0, 1, 1, 0);
    cases.push(asymmetric);
    let mut sliced = Pool2d::simple(kind, 3, 7, 13, 13, 3, 1, 1, false);
    (sliced.input, sliced.output) = (slice(2, 9), slice(4, 20));
    cases.push(sliced);
    cases
}

fn average_cases() -> Vec<Pool2d> {
    let mut cases = pool_cases(PoolKind::Average { count_include_pad: false });
    let include = PoolKind::Average { count_include_pad: true };
    cases.push(Pool2d::simple(include, 1, 4, 13, 13, 3, 1, 1, false));
    cases.push(Pool2d::simple(include, 2, 3, 17, 17, 3, 2, 1, true));
    let mut asymmetric = Pool2d::simple(include, 1, 3, 7, 7, 3, 2, 0, true);
    asymmetric.pads = pads(1, 0, 0, 2);
    cases.push(asymmetric);
    // torchvision's auxiliary heads: 14x14 to 4x4, windows of 4 at irregular starts 0, 3, 7, 10.
    cases.push(PoolSpec::adaptive([4, 4], [2, 5, 14, 14]));
    let mut sliced = PoolSpec::adaptive([3, 2], [1, 4, 7, 13]);
    (sliced.input, sliced.output) = (slice(1, 6), slice(2, 9));
    cases.push(sliced);
    cases
}

fn lrn_cases() -> Vec<Lrn> {
    let mut cases = vec![Lrn::googlenet(1, 64, 56, 56), Lrn::googlenet(3, 3, 7, 7)];
    let mut even = Lrn::googlenet(3, 13, 7, 7);
    (even.size, even.alpha, even.beta, even.bias) = (4, 0.5, 0.6, 2.0);
    cases.push(even);
    let mut sliced = Lrn::googlenet(3, 7, 13, 13);
    (sliced.size, sliced.alpha, sliced.input, sliced.output) = (3, 0.9, slice(1, 8), slice(5, 12));
    cases.push(sliced);
    cases
}

fn fully_connected_cases() -> Vec<FullyConnected> {
    let mut cases = vec![FullyConnected::new(1, 1024, 1000), FullyConnected::new(3, 17, 33)];
    let mut relu = FullyConnected::new(3, 1024, 130);
    relu.relu = true;
    cases.push(relu);
    // Rows of a length that is not a multiple of 4 (the `rows` variant cannot take them).
    cases.push(FullyConnected::new(5, 13, 7));
    cases
}

fn winograd_tiles(batch: usize, height: usize, width: usize) -> WinogradTiles {
    WinogradTiles { batch, height, width }
}

fn winograd_input_cases() -> Vec<WinogradInput> {
    vec![
        WinogradInput { tiles: winograd_tiles(1, 7, 7), channels: 5, input: slice(0, 5) },
        WinogradInput { tiles: winograd_tiles(3, 13, 10), channels: 6, input: slice(2, 10) },
        WinogradInput { tiles: winograd_tiles(2, 1, 1), channels: 3, input: slice(0, 3) },
        WinogradInput { tiles: winograd_tiles(1, 56, 55), channels: 4, input: slice(0, 4) },
    ]
}

fn winograd_output_cases() -> Vec<WinogradOutput> {
    vec![
        WinogradOutput { tiles: winograd_tiles(1, 7, 7), channels: 5, relu: false, output: slice(0, 5) },
        WinogradOutput { tiles: winograd_tiles(3, 13, 10), channels: 6, relu: true, output: slice(3, 11) },
        WinogradOutput { tiles: winograd_tiles(2, 1, 1), channels: 3, relu: true, output: slice(0, 3) },
        WinogradOutput { tiles: winograd_tiles(1, 56, 55), channels: 4, relu: false, output: slice(1, 5) },
    ]
}

fn softmax_cases() -> Vec<Softmax> {
    vec![
        Softmax::rows(1, 1000),
        Softmax::rows(3, 7),
        Softmax::rows(2, 1),
        Softmax { outer: 2, len: 5, inner: 3 },
        Softmax { outer: 1, len: 130, inner: 17 },
    ]
}

fn copy_cases() -> Vec<ChannelAffine> {
    let relu = ChannelAffine { batch: 3, channels: 5, pixels: 49, relu: true, input: slice(0, 5), output: slice(0, 5) };
    let concat_input = ChannelAffine { batch: 3, channels: 5, pixels: 13, relu: false, input: slice(2, 9), output: slice(7, 17) };
    vec![relu, concat_input]
}

fn boxed<T: Kernel + 'static>(ops: Vec<T>) -> impl Iterator<Item = Box<dyn Kernel>> {
    ops.into_iter().map(|op| Box::new(op) as Box<dyn Kernel>)
}

/// Every kernel case that `verify` and the tests run on `gpu`, in each variant of its kernel that
/// fits it and that the adapter offers.
pub fn kernel_sweep(gpu: &Gpu) -> Vec<Box<dyn Kernel>> {
    kernel_cases().into_iter().filter(|op| op.runs_on(gpu)).collect()
}

/// Every kernel case in every variant that fits it, whatever runs it (for checks without a device).
pub fn kernel_cases() -> Vec<Box<dyn Kernel>> {
    let mut ops = Vec::new();
    let convs: Vec<ConvGroup> = conv_cases().into_iter().chain(pointwise_cases()).map(ConvGroup::single).chain(conv_group_cases()).collect();
    ops.extend(boxed(convs));
    ops.extend(boxed(pool_cases(PoolKind::Max)));
    ops.extend(boxed(average_cases()));
    ops.extend(boxed(lrn_cases()));
    ops.extend(boxed(fully_connected_cases()));
    ops.extend(boxed(softmax_cases()));
    ops.extend(boxed(copy_cases()));
    ops.extend(boxed(winograd_input_cases()));
    ops.extend(boxed(winograd_output_cases()));
    let mut variants: Vec<Box<dyn Kernel>> = Vec::new();
    for op in ops {
        match op.variants() {
            none if none.is_empty() => variants.push(op),
            some => variants.extend(some),
        }
    }
    variants
}
