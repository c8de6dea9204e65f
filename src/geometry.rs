//! Shapes shared by the ops: channel slices of a concat buffer, per-side padding, window sizes.

use crate::error::{Error, Result};

/// Which channels of an NCHW buffer an op reads or writes: `offset .. offset + count` out of
/// `total`. A concat output is one buffer; each producer writes its own slice of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelSlice {
    pub offset: usize,
    pub total: usize,
}

impl ChannelSlice {
    /// The whole buffer: the op's channels are all of its channels.
    pub fn whole(channels: usize) -> Self {
        ChannelSlice { offset: 0, total: channels }
    }

    /// The op's channels from `offset` of a buffer of `total` channels.
    pub fn at(offset: usize, total: usize) -> Self {
        ChannelSlice { offset, total }
    }

    pub fn check(&self, op: &str, what: &str, channels: usize) -> Result<()> {
        if self.offset + channels > self.total {
            return Err(Error::shape(
                op,
                format!(
                    "{what} channels {}..{} do not fit in a buffer of {} channels",
                    self.offset,
                    self.offset + channels,
                    self.total
                ),
            ));
        }
        Ok(())
    }
}

/// Padding per side, so asymmetric pads (ONNX `pads`, SAME_UPPER/SAME_LOWER) are exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pads {
    pub top: usize,
    pub left: usize,
    pub bottom: usize,
    pub right: usize,
}

impl Pads {
    pub fn uniform(p: usize) -> Self {
        Pads { top: p, left: p, bottom: p, right: p }
    }

    pub fn new(top: usize, left: usize, bottom: usize, right: usize) -> Self {
        Pads { top, left, bottom, right }
    }
}

/// Output length of a sliding window along one axis.
///
/// Floor mode counts the windows that fit in the padded input. Ceil mode also counts a last
/// partial window, but only if it starts inside the input or its leading pad (Caffe, PyTorch and
/// ONNX all drop a window that would start in the trailing pad).
pub fn window_output_len(
    input: usize,
    kernel: usize,
    stride: usize,
    pad_begin: usize,
    pad_end: usize,
    ceil_mode: bool,
) -> Option<usize> {
    let padded = input + pad_begin + pad_end;
    if stride == 0 || kernel == 0 || padded < kernel {
        return None;
    }
    let span = padded - kernel;
    if !ceil_mode {
        return Some(span / stride + 1);
    }
    let mut len = span.div_ceil(stride) + 1;
    if (len - 1) * stride >= input + pad_begin {
        len -= 1;
    }
    Some(len)
}

/// Flat index of element (image, channel, pixel) in an NCHW buffer read through a slice.
pub fn nchw_index(slice: ChannelSlice, pixels: usize, image: usize, channel: usize, pixel: usize) -> usize {
    (image * slice.total + slice.offset + channel) * pixels + pixel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn googlenet_pools_in_ceil_and_floor_mode() {
        // BVLC GoogLeNet (ceil mode): 112 -> 56 -> 28 -> 14 -> 7.
        assert_eq!(window_output_len(112, 3, 2, 0, 0, true), Some(56));
        assert_eq!(window_output_len(14, 3, 2, 0, 0, true), Some(7));
        // The ONNX model zoo (floor mode): 112 -> 55 -> 27 -> 13 -> 6.
        assert_eq!(window_output_len(112, 3, 2, 0, 0, false), Some(55));
        assert_eq!(window_output_len(13, 3, 2, 0, 0, false), Some(6));
    }

    #[test]
    fn ceil_mode_drops_a_window_that_starts_in_the_trailing_pad() {
        // 3 wide, trailing pad 1, kernel 1 stride 2: a third window would start at 4, inside
        // the trailing pad, so only two windows exist.
        assert_eq!(window_output_len(3, 1, 2, 0, 1, true), Some(2));
        assert_eq!(window_output_len(4, 3, 2, 1, 1, true), Some(3));
        assert_eq!(window_output_len(2, 3, 1, 0, 0, false), None);
    }
}
