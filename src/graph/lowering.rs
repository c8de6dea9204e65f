//! Graph op specs to the kernel shapes that compute them (whole buffers; the planner then sets
//! channel slices).

use super::{ConvSpec, LrnSpec, PoolSpec};
use crate::geometry::ChannelSlice;
use crate::ops::{Conv2d, Lrn, Pool2d, PoolKind};

impl ConvSpec {
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
            pool_input: false,
            k_part: None,
            input: ChannelSlice::whole(c),
            output: ChannelSlice::whole(out_channels),
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
