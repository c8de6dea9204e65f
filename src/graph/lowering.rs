//! Graph op specs to the kernel shapes that compute them (whole buffers; the planner then sets
//! channel slices).

use super::{ConvSpec, LrnSpec, PoolSpec};
use crate::geometry::ChannelSlice;
use crate::ops::{Conv2d, DepthwiseConv2d, Lrn, Pool2d, PoolKind};

impl ConvSpec {
    /// The conv of an `[n, c, h, w]` input as one kernel shape per group: group i reads input
    /// channels `i * c / group ..` and writes its slice of the output; its weight and bias are
    /// the i-th equal part of the conv's (`group_weights`).
    pub fn group_convs(&self, [n, c, h, w]: [usize; 4], relu: bool) -> Vec<Conv2d> {
        let group = self.group.max(1);
        let (in_part, out_part) = (c / group, self.weight.dims[0] / group);
        (0..group)
            .map(|i| Conv2d {
                input: ChannelSlice { offset: i * in_part, total: c },
                output: ChannelSlice { offset: i * out_part, total: out_part * group },
                ..self.conv2d([n, in_part, h, w], relu)
            })
            .map(|conv| Conv2d { out_channels: out_part, ..conv })
            .collect()
    }

    /// Group i's part of `weight` and `bias` (the conv's own, or those with a BatchNorm folded
    /// in): the i-th of `group` equal parts of each (see `group_convs`).
    pub fn group_weights<'a>(&self, weight: &'a [f32], bias: &'a [f32], i: usize) -> (&'a [f32], &'a [f32]) {
        let group = self.group.max(1);
        let (weights, biases) = (weight.len() / group, bias.len() / group);
        (&weight[i * weights..(i + 1) * weights], &bias[i * biases..(i + 1) * biases])
    }

    /// A depthwise conv (`is_depthwise`) of an `[n, c, h, w]` input as the depthwise kernel's
    /// shape.
    pub fn depthwise(&self, [n, c, h, w]: [usize; 4], relu: bool) -> DepthwiseConv2d {
        let multiplier = self.weight.dims[0] / c;
        DepthwiseConv2d {
            batch: n,
            channels: c,
            multiplier,
            in_h: h,
            in_w: w,
            kernel_h: self.weight.dims[2],
            kernel_w: self.weight.dims[3],
            stride_h: self.stride[0],
            stride_w: self.stride[1],
            pads: self.pads,
            relu,
            input: ChannelSlice::whole(c),
            output: ChannelSlice::whole(c * multiplier),
        }
    }

    pub fn conv2d(&self, [n, c, h, w]: [usize; 4], relu: bool) -> Conv2d {
        let out_channels = self.weight.dims[0];
        Conv2d {
            batch: n,
            in_channels: c,
            in_h: h,
            in_w: w,
            out_channels,
            kernel_h: self.weight.dims[2],
            kernel_w: self.weight.dims[3],
            stride_h: self.stride[0],
            stride_w: self.stride[1],
            pads: self.pads,
            relu,
            pool_input: None,
            k_part: None,
            input: ChannelSlice::whole(c),
            output: ChannelSlice::whole(out_channels),
            residual: None,
        }
    }
}

impl PoolSpec {
    pub fn pool2d(&self, kind: PoolKind, [n, c, h, w]: [usize; 4]) -> Pool2d {
        Pool2d {
            kind,
            batch: n,
            channels: c,
            in_h: h,
            in_w: w,
            kernel_h: self.kernel[0],
            kernel_w: self.kernel[1],
            stride_h: self.stride[0],
            stride_w: self.stride[1],
            pads: self.pads,
            ceil_mode: self.ceil_mode,
            adaptive_output: None,
            input: ChannelSlice::whole(c),
            output: ChannelSlice::whole(c),
        }
    }

    /// An adaptive average pool of an `[n, c, h, w]` input to `output`.
    pub fn adaptive(output: [usize; 2], [n, c, h, w]: [usize; 4]) -> Pool2d {
        Pool2d { adaptive_output: Some(output), ..Self::global(h, w).pool2d(PoolKind::Average { count_include_pad: false }, [n, c, h, w]) }
    }

    /// The global average pool as a pool over the whole image.
    pub fn global(h: usize, w: usize) -> Self {
        PoolSpec { kernel: [h, w], stride: [1, 1], pads: Default::default(), ceil_mode: false, count_include_pad: false }
    }

    pub fn average_kind(&self) -> PoolKind {
        PoolKind::Average { count_include_pad: self.count_include_pad }
    }
}

impl LrnSpec {
    pub fn lrn(&self, [n, c, h, w]: [usize; 4]) -> Lrn {
        Lrn {
            batch: n,
            channels: c,
            height: h,
            width: w,
            size: self.size,
            alpha: self.alpha,
            beta: self.beta,
            bias: self.bias,
            input: ChannelSlice::whole(c),
            output: ChannelSlice::whole(c),
        }
    }
}

/// Dims as NCHW; rows `[N, F]` are `[N, F, 1, 1]`.
pub fn as_nchw(dims: &[usize]) -> [usize; 4] {
    match *dims {
        [n, c, h, w] => [n, c, h, w],
        [n, f] => [n, f, 1, 1],
        _ => panic!("dims {dims:?} are neither NCHW nor rows; shape inference rejects them"),
    }
}
