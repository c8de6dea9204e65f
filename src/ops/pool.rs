//! Max and average pooling, NCHW, kxk window, stride, per-side padding, ceil or floor mode.

use super::{accumulation_tolerance, Kernel};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, window_output_len, ChannelSlice, Pads};
use crate::graph::PoolSpec;
use crate::gpu::{flat_workgroups, KernelId, Launch};

/// The WGSL files of the pooling kernels (entry points `max_pool` and `avg_pool`).
pub(crate) const SHADERS: &[&str] = &["pool.wgsl"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// Padding never wins: only elements inside the image are compared.
    Max,
    /// ONNX `count_include_pad`: whether the divisor counts pad positions.
    Average { count_include_pad: bool },
}

/// Input, in binding order: input.
#[derive(Clone, Debug)]
pub struct Pool2d {
    pub kind: PoolKind,
    pub batch: usize,
    pub channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pads: Pads,
    pub ceil_mode: bool,
    /// Adaptive pooling to this output size (average only): window i covers
    /// [floor(i * in / out), ceil((i + 1) * in / out)); kernel, stride and pads are unused.
    pub adaptive_output: Option<[usize; 2]>,
    pub input: ChannelSlice,
    pub output: ChannelSlice,
}

/// Mirrors `PoolParams` in `shaders/pool.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PoolParams {
    batch: u32,
    channels: u32,
    in_h: u32,
    in_w: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_h: u32,
    out_w: u32,
    out_c_offset: u32,
    out_c_total: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    pad_bottom: u32,
    pad_right: u32,
    count_include_pad: u32,
    adaptive: u32,
}

const GROUP_SIZE: usize = 256;

/// The extent of adaptive window `out` of `outputs` over `len` inputs.
fn adaptive_span(out: usize, outputs: usize, len: usize) -> (usize, usize, usize) {
    let (begin, end) = (out * len / outputs, ((out + 1) * len).div_ceil(outputs));
    (begin, end, end - begin)
}

/// The clipped extent of one window along one axis: `[begin, end)` inside the image, and the
/// number of positions it covers in the padded image (for `count_include_pad`).
fn window_span(out: usize, stride: usize, kernel: usize, pad_begin: usize, pad_end: usize, len: usize) -> (usize, usize, usize) {
    let start = (out * stride) as isize - pad_begin as isize;
    let begin = start.max(0) as usize;
    let end = ((start + kernel as isize).max(0) as usize).min(len);
    let padded = ((start + kernel as isize).min((len + pad_end) as isize) - start) as usize;
    (begin, end, padded)
}

impl Pool2d {
    /// A pool over whole buffers with symmetric padding.
    #[allow(clippy::too_many_arguments)]
    pub fn simple(kind: PoolKind, batch: usize, channels: usize, in_h: usize, in_w: usize, kernel: usize, stride: usize, pad: usize, ceil_mode: bool) -> Self {
        Pool2d {
            kind,
            batch,
            channels,
            in_h,
            in_w,
            kernel_h: kernel,
            kernel_w: kernel,
            stride_h: stride,
            stride_w: stride,
            pads: Pads::uniform(pad),
            ceil_mode,
            adaptive_output: None,
            input: ChannelSlice::whole(channels),
            output: ChannelSlice::whole(channels),
        }
    }

    pub fn out_h(&self) -> usize {
        match self.adaptive_output {
            Some([h, _]) => h,
            None => window_output_len(self.in_h, self.kernel_h, self.stride_h, self.pads.top, self.pads.bottom, self.ceil_mode).unwrap_or(0),
        }
    }

    pub fn out_w(&self) -> usize {
        match self.adaptive_output {
            Some([_, w]) => w,
            None => window_output_len(self.in_w, self.kernel_w, self.stride_w, self.pads.left, self.pads.right, self.ceil_mode).unwrap_or(0),
        }
    }

    /// The rows (or columns) window `o` covers: [begin, end) in the image, and its padded size.
    fn span_y(&self, o: usize) -> (usize, usize, usize) {
        match self.adaptive_output {
            Some([h, _]) => adaptive_span(o, h, self.in_h),
            None => window_span(o, self.stride_h, self.kernel_h, self.pads.top, self.pads.bottom, self.in_h),
        }
    }

    fn span_x(&self, o: usize) -> (usize, usize, usize) {
        match self.adaptive_output {
            Some([_, w]) => adaptive_span(o, w, self.in_w),
            None => window_span(o, self.stride_w, self.kernel_w, self.pads.left, self.pads.right, self.in_w),
        }
    }

    fn op_name(&self) -> &'static str {
        match self.kind {
            PoolKind::Max => "MaxPool",
            PoolKind::Average { .. } => "AveragePool",
        }
    }
}

impl Kernel for Pool2d {
    fn kernel_name(&self) -> &'static str {
        match self.kind {
            PoolKind::Max => "max pool",
            PoolKind::Average { .. } => "avg pool",
        }
    }

    fn describe(&self) -> String {
        let p = self.pads;
        let include = match self.kind {
            PoolKind::Average { count_include_pad: true } => " count_include_pad",
            _ => "",
        };
        format!(
            "n{} c{} {}x{} k{}x{} s{}x{} pad t{} l{} b{} r{} {}{} in[{}/{}] out[{}/{}]",
            self.batch, self.channels, self.in_h, self.in_w, self.kernel_h, self.kernel_w, self.stride_h, self.stride_w,
            p.top, p.left, p.bottom, p.right,
            match self.adaptive_output {
                Some(_) => format!("adaptive to {}x{}", self.out_h(), self.out_w()),
                None if self.ceil_mode => "ceil".into(),
                None => "floor".into(),
            },
            include,
            self.input.offset, self.input.total, self.output.offset, self.output.total,
        )
    }

    fn check(&self) -> Result<()> {
        let op = self.op_name();
        if [self.batch, self.channels, self.in_h, self.in_w].contains(&0) {
            return Err(Error::shape(op, format!("zero-sized dimension in {}", self.describe())));
        }
        if self.out_h() == 0 || self.out_w() == 0 {
            return Err(Error::shape(op, format!("window does not fit the padded input in {}", self.describe())));
        }
        if let Some([h, w]) = self.adaptive_output
            && (h > self.in_h || w > self.in_w || self.kind == PoolKind::Max) {
                return Err(Error::shape(op, format!("adaptive average pooling to {h}x{w} (no larger than the input) only: {}", self.describe())));
            }
        if self.pads.top >= self.kernel_h || self.pads.left >= self.kernel_w || self.pads.bottom >= self.kernel_h || self.pads.right >= self.kernel_w {
            // A window made only of padding has no defined maximum.
            return Err(Error::shape(op, format!("pads must be smaller than the kernel in {}", self.describe())));
        }
        self.input.check(op, "input", self.channels)?;
        self.output.check(op, "output", self.channels)
    }

    fn input_lens(&self) -> Vec<usize> {
        vec![self.batch * self.input.total * self.in_h * self.in_w]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.batch * self.output.total * self.out_h() * self.out_w()]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [output] = outputs else { panic!("one output") };
        let [input] = inputs else { panic!("pool takes one input") };
        let (out_h, out_w) = (self.out_h(), self.out_w());
        let (in_pixels, out_pixels) = (self.in_h * self.in_w, out_h * out_w);
        for image in 0..self.batch {
            for c in 0..self.channels {
                let channel = &input[nchw_index(self.input, in_pixels, image, c, 0)..][..in_pixels];
                for oy in 0..out_h {
                    let (y0, y1, padded_rows) = self.span_y(oy);
                    for ox in 0..out_w {
                        let (x0, x1, padded_cols) = self.span_x(ox);
                        let values = (y0..y1).flat_map(|y| (x0..x1).map(move |x| channel[y * self.in_w + x]));
                        let value = match self.kind {
                            PoolKind::Max => values.fold(f32::MIN, f32::max),
                            PoolKind::Average { count_include_pad } => {
                                let count = if count_include_pad { padded_rows * padded_cols } else { (y1 - y0) * (x1 - x0) };
                                values.sum::<f32>() / count as f32
                            }
                        };
                        output[nchw_index(self.output, out_pixels, image, c, oy * out_w + ox)] = value;
                    }
                }
            }
        }
    }

    fn launch(&self) -> Launch {
        let count_include_pad = matches!(self.kind, PoolKind::Average { count_include_pad: true });
        let params = PoolParams {
            batch: self.batch as u32,
            channels: self.channels as u32,
            in_h: self.in_h as u32,
            in_w: self.in_w as u32,
            in_c_offset: self.input.offset as u32,
            in_c_total: self.input.total as u32,
            out_h: self.out_h() as u32,
            out_w: self.out_w() as u32,
            out_c_offset: self.output.offset as u32,
            out_c_total: self.output.total as u32,
            kernel_h: self.kernel_h as u32,
            kernel_w: self.kernel_w as u32,
            stride_h: self.stride_h as u32,
            stride_w: self.stride_w as u32,
            pad_top: self.pads.top as u32,
            pad_left: self.pads.left as u32,
            pad_bottom: self.pads.bottom as u32,
            pad_right: self.pads.right as u32,
            count_include_pad: count_include_pad as u32,
            adaptive: self.adaptive_output.is_some() as u32,
        };
        let kernel = match self.kind {
            PoolKind::Max => KernelId::MaxPool,
            PoolKind::Average { .. } => KernelId::AvgPool,
        };
        // One thread per 2x2 block of outputs.
        let items = self.batch * self.channels * self.out_h().div_ceil(2) * self.out_w().div_ceil(2);
        Launch::new(kernel, &params, flat_workgroups(items, GROUP_SIZE))
    }

    fn work(&self) -> usize {
        self.batch * self.channels * self.out_h() * self.out_w() * self.kernel_h * self.kernel_w
    }

    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        match self.kind {
            // A maximum is one of the inputs, exactly.
            PoolKind::Max => 0.0,
            // A sum of the window, then one division.
            PoolKind::Average { .. } => accumulation_tolerance(self.kernel_h * self.kernel_w + 1, reference),
        }
    }
}

// The kernel sweep's cases (`verify::kernel_cases`): ceil and floor outputs, per-side pads, windows larger than the image,
// adaptive windows, channel slices.

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
    asymmetric.pads = Pads::new(0, 1, 1, 0);
    cases.push(asymmetric);
    let mut sliced = Pool2d::simple(kind, 3, 7, 13, 13, 3, 1, 1, false);
    (sliced.input, sliced.output) = (ChannelSlice::at(2, 9), ChannelSlice::at(4, 20));
    cases.push(sliced);
    cases
}

fn average_cases() -> Vec<Pool2d> {
    let mut cases = pool_cases(PoolKind::Average { count_include_pad: false });
    let include = PoolKind::Average { count_include_pad: true };
    cases.push(Pool2d::simple(include, 1, 4, 13, 13, 3, 1, 1, false));
    cases.push(Pool2d::simple(include, 2, 3, 17, 17, 3, 2, 1, true));
    let mut asymmetric = Pool2d::simple(include, 1, 3, 7, 7, 3, 2, 0, true);
    asymmetric.pads = Pads::new(1, 0, 0, 2);
    cases.push(asymmetric);
    // torchvision's auxiliary heads: 14x14 to 4x4, windows of 4 at irregular starts 0, 3, 7, 10.
    cases.push(PoolSpec::adaptive([4, 4], [2, 5, 14, 14]));
    let mut sliced = PoolSpec::adaptive([3, 2], [1, 4, 7, 13]);
    (sliced.input, sliced.output) = (ChannelSlice::at(1, 6), ChannelSlice::at(2, 9));
    cases.push(sliced);
    cases
}

pub(super) fn sweep_cases() -> Vec<Pool2d> {
    pool_cases(PoolKind::Max).into_iter().chain(average_cases()).collect()
}
