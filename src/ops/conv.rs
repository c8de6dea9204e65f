//! 2-D convolution, NCHW, any kernel size, stride and per-side padding; bias and optional ReLU
//! fused. Up to 36 convs reading one buffer run as one dispatch (`ConvGroup`); a group of 1x1,
//! stride-1, unpadded convs runs on the pointwise GEMM loader.

use std::borrow::Cow;
use std::ops::Range;

use bytemuck::Zeroable;

use super::{accumulation_tolerance, parallel, Kernel, KernelFamily, KernelKey, Pool2d, PoolKind};
use crate::error::{Error, Result};
use crate::geometry::{nchw_index, window_output_len, ChannelSlice, Pads};
use crate::gpu::{input_texture_fits, Gpu, KernelId, Launch, SubgroupWidth, TileShape, WeightPrecision, BLOCKED_LANES};

/// The WGSL files of each conv kernel (`KernelId::files`): what every conv kernel shares, a core
/// (how the GEMM is computed), a loader (how input element (k, n) is found) and the input binding.
pub(crate) mod shaders {
    pub const TILED_KXK: &[&str] = &["conv_common.wgsl", "conv_tiled.wgsl", "conv_kxk.wgsl", "conv_input.wgsl"];
    pub const TILED_1X1: &[&str] = &["conv_common.wgsl", "conv_tiled.wgsl", "conv_1x1.wgsl", "conv_input.wgsl"];
    pub const SUBGROUP_KXK: &[&str] = &["conv_common.wgsl", "conv_blocked.wgsl", "conv_subgroup.wgsl", "conv_kxk.wgsl", "conv_input.wgsl"];
    pub const SUBGROUP_1X1: &[&str] = &["conv_common.wgsl", "conv_blocked.wgsl", "conv_subgroup.wgsl", "conv_1x1.wgsl", "conv_input.wgsl"];
    pub const SUBGROUP_1X1_VEC4: &[&str] = &["conv_common.wgsl", "conv_blocked.wgsl", "conv_subgroup.wgsl", "conv_1x1.wgsl", "conv_input_vec4.wgsl"];
    pub const SUBGROUP_1X1_TEXTURE: &[&str] = &["conv_common.wgsl", "conv_blocked.wgsl", "conv_subgroup.wgsl", "conv_1x1.wgsl", "conv_input_texture.wgsl"];
    pub const BLOCKED_KXK: &[&str] = &["conv_common.wgsl", "conv_blocked.wgsl", "conv_blocked_plain.wgsl", "conv_kxk.wgsl", "conv_input.wgsl"];
    pub const BLOCKED_1X1: &[&str] = &["conv_common.wgsl", "conv_blocked.wgsl", "conv_blocked_plain.wgsl", "conv_1x1.wgsl", "conv_input.wgsl"];
    pub const BLOCKED_1X1_VEC4: &[&str] = &["conv_common.wgsl", "conv_blocked.wgsl", "conv_blocked_plain.wgsl", "conv_1x1.wgsl", "conv_input_vec4.wgsl"];
}

/// One convolution's shape. Its weight is `[out_channels][in_channels][kernel_h][kernel_w]`, its
/// bias `[out_channels]`; on the GPU it runs inside a [`ConvGroup`].
#[derive(Clone, Debug)]
pub struct Conv2d {
    pub batch: usize,
    pub in_channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pads: Pads,
    pub relu: bool,
    /// Convolve the 3x3, stride-1, pad-1 pool of this kind of the input instead of the input
    /// (1x1 only): an inception pool branch in one kernel.
    pub pool_input: Option<PoolKind>,
    /// Sum only these reduction indices k (k = (input channel, ky, kx)), with a weight of just
    /// those columns (`[out_channels][part length]`): one part of a conv split along K, the
    /// parts' sums added afterwards (see `plan::PlanOptions::split_k`). `None`: all of k.
    pub k_part: Option<Range<usize>>,
    pub input: ChannelSlice,
    pub output: ChannelSlice,
    /// Add this slice of the group's residual buffer (a value of the output's shape) to the
    /// biased sum, before the ReLU: a residual connection in the conv's epilogue.
    pub residual: Option<ChannelSlice>,
}

/// Mirrors `ConvProblem` in `shaders/conv_gemm.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ConvProblem {
    in_channels: u32,
    in_h: u32,
    in_w: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_channels: u32,
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
    relu: u32,
    pool_input: u32,
    weight_offset: u32,
    bias_offset: u32,
    output_slot: u32,
    first_tile: u32,
    k_begin: u32,
    k_end: u32,
    residual: u32,
    res_c_offset: u32,
    res_c_total: u32,
    _pad: u32,
}

/// `ConvProblem::pool_input`: how a 1x1 conv's loader pools its input on the fly, as
/// `shaders/conv_common.wgsl` reads it (0 not at all, 1 max, 2 average over the in-image taps,
/// 3 average over all 9 taps).
fn pool_code(pool: Option<PoolKind>) -> u32 {
    match pool {
        None => 0,
        Some(PoolKind::Max) => 1,
        Some(PoolKind::Average { count_include_pad: false }) => 2,
        Some(PoolKind::Average { count_include_pad: true }) => 3,
    }
}

/// Mirrors `ConvGroupParams` in `shaders/conv_gemm.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ConvGroupParams {
    batch: u32,
    problem_count: u32,
    _pad: [u32; 2],
    problems: [ConvProblem; MAX_PROBLEMS],
}

/// How a conv group's GEMM is computed: the two families of conv kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvVariant {
    /// Operand tiles in workgroup memory, up to a 4x4 register block per thread
    /// (`conv_tiled.wgsl`), in one of three tile shapes: the design for real GPUs.
    Tiled(TileShape),
    /// No workgroup memory: a 16x4 register block per invocation (`conv_blocked.wgsl`), weights
    /// shared across a subgroup of the adapter's fixed width (`conv_subgroup.wgsl`): for CPU-like
    /// adapters.
    Subgroup(SubgroupWidth),
    /// `Subgroup` loading each invocation's 4 columns as one vec4 (`conv_input_vec4.wgsl`): 1x1
    /// convs over pixel counts that are multiples of 4, without a pooled input.
    SubgroupVec4(SubgroupWidth),
    /// `SubgroupVec4` reading its input through a read-only storage texture filled from the
    /// input buffer before the dispatch (`conv_input_texture.wgsl`, `gpu::InputTexture`): one
    /// vector gather per load on lavapipe instead of a loop over the lanes.
    SubgroupTexture(SubgroupWidth),
    /// The same register blocks with every invocation loading its own weights
    /// (`conv_blocked_plain.wgsl`, `BLOCKED_LANES` per workgroup): CPU-like adapters without a
    /// fixed subgroup width, a browser's among them.
    Blocked,
    /// `Blocked` with the vec4 loader, where `SubgroupVec4` fits.
    BlockedVec4,
}

impl Default for ConvVariant {
    /// The default tile shape (64x64): the GPU design, and what runs where nothing was tuned.
    fn default() -> Self {
        ConvVariant::Tiled(TileShape::default())
    }
}

impl ConvVariant {
    /// Every variant: the tiled ones in every tile shape, the subgroup ones at every width (an
    /// adapter runs at most one width).
    pub fn all() -> Vec<ConvVariant> {
        let tiled = TileShape::ALL.into_iter().map(ConvVariant::Tiled);
        let subgroup = SubgroupWidth::ALL.into_iter().flat_map(|w| [ConvVariant::Subgroup(w), ConvVariant::SubgroupVec4(w), ConvVariant::SubgroupTexture(w)]);
        tiled.chain(subgroup).chain([ConvVariant::Blocked, ConvVariant::BlockedVec4]).collect()
    }

    /// Whether `gpu` runs the variant called `name` in any of its forms (the subgroup ones at
    /// the adapter's width).
    pub fn offered(name: &str, gpu: &Gpu) -> bool {
        ConvVariant::all().iter().any(|v| v.name() == name && v.runs_on(gpu))
    }

    /// The name reports and the tuning cache use.
    pub fn name(self) -> &'static str {
        match self {
            ConvVariant::Tiled(TileShape::M64N64) => "tiled",
            ConvVariant::Tiled(TileShape::M32N32) => "tiled-32x32",
            ConvVariant::Tiled(TileShape::M16N64) => "tiled-16x64",
            ConvVariant::Subgroup(_) => "subgroup",
            ConvVariant::SubgroupVec4(_) => "subgroup-vec4",
            ConvVariant::SubgroupTexture(_) => "subgroup-texture",
            ConvVariant::Blocked => "blocked",
            ConvVariant::BlockedVec4 => "blocked-vec4",
        }
    }

    /// Whether `gpu` can run this variant's kernels.
    pub fn runs_on(self, gpu: &Gpu) -> bool {
        match self {
            ConvVariant::Tiled(_) | ConvVariant::Blocked | ConvVariant::BlockedVec4 => true,
            ConvVariant::Subgroup(width) | ConvVariant::SubgroupVec4(width) | ConvVariant::SubgroupTexture(width) => gpu.fixed_subgroup_width() == Some(width),
        }
    }

    /// Whether this variant can compute `group`.
    pub fn fits(self, group: &ConvGroup) -> bool {
        match self {
            ConvVariant::Tiled(_) | ConvVariant::Subgroup(_) | ConvVariant::Blocked => true,
            ConvVariant::SubgroupVec4(_) | ConvVariant::SubgroupTexture(_) | ConvVariant::BlockedVec4 => group.convs.iter().all(|(c, _)| c.is_pointwise() && c.pool_input.is_none() && (c.in_h * c.in_w) % 4 == 0),
        }
    }

    /// Output channels per row of workgroups, and pixels per workgroup.
    fn tile(self) -> (usize, usize) {
        match self {
            ConvVariant::Tiled(tile) => (tile.channels() as usize, tile.pixels() as usize),
            ConvVariant::Subgroup(width) | ConvVariant::SubgroupVec4(width) | ConvVariant::SubgroupTexture(width) => (16, 4 * width.lanes() as usize),
            ConvVariant::Blocked | ConvVariant::BlockedVec4 => (16, 4 * BLOCKED_LANES as usize),
        }
    }
}
/// Convolutions one dispatch can compute (an inception module's branches; the 16 or 36 GEMMs of
/// a Winograd conv). `problems` in `shaders/conv_common.wgsl` has this length.
pub const MAX_PROBLEMS: usize = 36;

/// The subgroup kernels' packed weights pad K to a multiple of the widest subgroup
/// (`K_ALIGN` in `conv_subgroup.wgsl`).
const K_ALIGN: usize = 64;

/// Workgroups of the default 64x64 tiles below which the split-K plan splits a conv along K: a
/// GPU has a hundred cores or more, and GoogLeNet's 7x7 and 14x14 convs give 6 to 30 such tiles
/// at batch 1.
const SPLIT_K_WORKGROUPS: usize = 128;

/// The fewest reduction indices a part of a split conv sums (16 of the tiled kernels' k steps),
/// so that each part's loop still outweighs its stores and the sum after it.
const SPLIT_K_MIN_PART: usize = 256;

/// The most parts a conv is split into.
const SPLIT_K_MAX_PARTS: usize = 16;

impl Conv2d {
    /// A conv that reads and writes whole buffers, with symmetric padding.
    #[allow(clippy::too_many_arguments)]
    pub fn simple(batch: usize, in_channels: usize, in_h: usize, in_w: usize, out_channels: usize, kernel: usize, stride: usize, pad: usize) -> Self {
        Conv2d {
            batch,
            in_channels,
            in_h,
            in_w,
            out_channels,
            kernel_h: kernel,
            kernel_w: kernel,
            stride_h: stride,
            stride_w: stride,
            pads: Pads::uniform(pad),
            relu: false,
            pool_input: None,
            k_part: None,
            input: ChannelSlice::whole(in_channels),
            output: ChannelSlice::whole(out_channels),
            residual: None,
        }
    }

    pub fn out_h(&self) -> usize {
        window_output_len(self.in_h, self.kernel_h, self.stride_h, self.pads.top, self.pads.bottom, false).unwrap_or(0)
    }

    pub fn out_w(&self) -> usize {
        window_output_len(self.in_w, self.kernel_w, self.stride_w, self.pads.left, self.pads.right, false).unwrap_or(0)
    }

    /// How many parts the split-K plan cuts this conv into along K (1: it stays whole): enough
    /// for `SPLIT_K_WORKGROUPS` workgroups, each part summing at least `SPLIT_K_MIN_PART`
    /// reduction indices.
    pub fn k_parts(&self) -> usize {
        let workgroups = self.out_channels.div_ceil(64) * self.columns().div_ceil(64);
        let wanted = SPLIT_K_WORKGROUPS.div_ceil(workgroups);
        wanted.min(self.reduction_len() / SPLIT_K_MIN_PART).clamp(1, SPLIT_K_MAX_PARTS)
    }

    /// Part `index` of this conv cut into `parts` along K (consecutive ranges, whole tiled k
    /// steps but the last), and its weight: the columns of `weight` in its range. A part has no
    /// ReLU (the parts' sum gets it, with the bias).
    pub fn split_part(&self, index: usize, parts: usize, weight: &[f32]) -> (Conv2d, Vec<f32>) {
        let k_len = self.reduction_len();
        let part_len = k_len.div_ceil(parts).next_multiple_of(16);
        let range = (index * part_len).min(k_len)..((index + 1) * part_len).min(k_len);
        let part_weight = weight.chunks(k_len).flat_map(|row| &row[range.clone()]).copied().collect();
        (Conv2d { k_part: Some(range), relu: false, ..self.clone() }, part_weight)
    }

    /// A 1x1 GEMM with no spatial arithmetic (also when it reads a pooled input).
    pub fn is_pointwise(&self) -> bool {
        self.kernel_h == 1 && self.kernel_w == 1 && self.stride_h == 1 && self.stride_w == 1 && self.pads == Pads::default()
    }

    fn reduction_len(&self) -> usize {
        self.in_channels * self.kernel_h * self.kernel_w
    }

    /// The reduction indices this conv sums: its part, else all of them.
    pub fn k_range(&self) -> Range<usize> {
        self.k_part.clone().unwrap_or(0..self.reduction_len())
    }

    /// How many reduction indices this conv sums.
    fn k_len(&self) -> usize {
        self.k_range().len()
    }

    fn weight_len(&self) -> usize {
        self.out_channels * self.k_len()
    }

    fn input_len(&self) -> usize {
        self.batch * self.input.total * self.in_h * self.in_w
    }

    fn output_len(&self) -> usize {
        self.batch * self.output.total * self.out_h() * self.out_w()
    }

    /// Length of the residual buffer this conv reads (0 without a residual).
    fn residual_len(&self) -> usize {
        self.residual.map_or(0, |r| self.batch * r.total * self.out_h() * self.out_w())
    }

    fn columns(&self) -> usize {
        self.batch * self.out_h() * self.out_w()
    }

    pub fn describe(&self) -> String {
        let p = self.pads;
        let part = self.k_part.as_ref().map(|k| format!(" k-part {}..{}", k.start, k.end)).unwrap_or_default();
        format!(
            "n{} {}x{}x{} -> {} k{}x{} s{}x{} pad t{} l{} b{} r{}{}{}{part} in[{}/{}] out[{}/{}]{}",
            self.batch, self.in_channels, self.in_h, self.in_w, self.out_channels, self.kernel_h, self.kernel_w,
            self.stride_h, self.stride_w, p.top, p.left, p.bottom, p.right,
            if self.relu { " relu" } else { "" },
            match self.pool_input {
                None => "",
                Some(PoolKind::Max) => " pooled-input max",
                Some(PoolKind::Average { count_include_pad: false }) => " pooled-input avg",
                Some(PoolKind::Average { count_include_pad: true }) => " pooled-input avg count_include_pad",
            },
            self.input.offset, self.input.total, self.output.offset, self.output.total,
            self.residual.map(|r| format!(" + residual[{}/{}]", r.offset, r.total)).unwrap_or_default(),
        )
    }

    pub fn check(&self) -> Result<()> {
        let op = "Conv";
        if [self.batch, self.in_channels, self.in_h, self.in_w, self.out_channels].contains(&0) {
            return Err(Error::shape(op, format!("zero-sized dimension in {}", self.describe())));
        }
        if self.stride_h == 0 || self.stride_w == 0 {
            return Err(Error::shape(op, "stride must be at least 1"));
        }
        if self.out_h() == 0 || self.out_w() == 0 {
            return Err(Error::shape(
                op,
                format!("kernel {}x{} is larger than the padded input in {}", self.kernel_h, self.kernel_w, self.describe()),
            ));
        }
        if self.pool_input.is_some() && !self.is_pointwise() {
            return Err(Error::shape(op, format!("a pooled input needs a 1x1, stride-1, unpadded conv: {}", self.describe())));
        }
        if self.k_range().is_empty() || self.k_range().end > self.reduction_len() {
            return Err(Error::shape(op, format!("the part of k is empty or past the {} reduction indices: {}", self.reduction_len(), self.describe())));
        }
        if let Some(residual) = self.residual {
            residual.check(op, "residual", self.out_channels)?;
        }
        self.input.check(op, "input", self.in_channels)?;
        self.output.check(op, "output", self.out_channels)
    }

    /// Computes this conv on the CPU into its slice of `output`, adding its slice of `residual`
    /// where it has one.
    pub fn reference(&self, input: &[f32], weight: &[f32], bias: &[f32], residual: Option<&[f32]>, output: &mut [f32]) {
        if let Some(kind) = self.pool_input {
            let pool = Pool2d {
                input: self.input,
                ..Pool2d::simple(kind, self.batch, self.in_channels, self.in_h, self.in_w, 3, 1, 1, false)
            };
            let mut pooled = vec![vec![0.0; self.batch * self.in_channels * self.in_h * self.in_w]];
            pool.reference(&[input], &mut pooled);
            let direct = Conv2d { pool_input: None, input: ChannelSlice::whole(self.in_channels), ..self.clone() };
            return direct.reference(&pooled[0], weight, bias, residual, output);
        }
        let (out_h, out_w) = (self.out_h(), self.out_w());
        let in_pixels = self.in_h * self.in_w;
        let (k_range, k_len) = (self.k_range(), self.k_len());
        let planes = parallel::planes(self.batch * self.out_channels, out_h * out_w, |task, plane| {
            let (image, m) = (task / self.out_channels, task % self.out_channels);
            plane.fill(bias[m]);
            for c in 0..self.in_channels {
                let channel = &input[nchw_index(self.input, in_pixels, image, c, 0)..][..in_pixels];
                for ky in 0..self.kernel_h {
                    for kx in 0..self.kernel_w {
                        let k = (c * self.kernel_h + ky) * self.kernel_w + kx;
                        if !k_range.contains(&k) {
                            continue;
                        }
                        let w = weight[m * k_len + k - k_range.start];
                        for oy in 0..out_h {
                            let Some(y) = (oy * self.stride_h + ky).checked_sub(self.pads.top).filter(|&y| y < self.in_h) else {
                                continue;
                            };
                            for ox in 0..out_w {
                                let Some(x) = (ox * self.stride_w + kx).checked_sub(self.pads.left).filter(|&x| x < self.in_w) else {
                                    continue;
                                };
                                plane[oy * out_w + ox] += w * channel[y * self.in_w + x];
                            }
                        }
                    }
                }
            }
            if let (Some(slice), Some(residual)) = (self.residual, residual) {
                let start = nchw_index(slice, out_h * out_w, image, m, 0);
                plane.iter_mut().zip(&residual[start..]).for_each(|(v, r)| *v += r);
            }
            if self.relu {
                plane.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        });
        let out_pixels = out_h * out_w;
        for (task, plane) in planes.chunks(out_pixels).enumerate() {
            let start = nchw_index(self.output, out_pixels, task / self.out_channels, task % self.out_channels, 0);
            output[start..start + out_pixels].copy_from_slice(plane);
        }
    }

    fn problem(&self, weight_offset: usize, bias_offset: usize, slot: OutputSlot, first_tile: usize) -> ConvProblem {
        ConvProblem {
            in_channels: self.in_channels as u32,
            in_h: self.in_h as u32,
            in_w: self.in_w as u32,
            in_c_offset: self.input.offset as u32,
            in_c_total: self.input.total as u32,
            out_channels: self.out_channels as u32,
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
            relu: self.relu as u32,
            pool_input: pool_code(self.pool_input),
            weight_offset: weight_offset as u32,
            bias_offset: bias_offset as u32,
            output_slot: slot as u32,
            first_tile: first_tile as u32,
            k_begin: self.k_range().start as u32,
            k_end: self.k_range().end as u32,
            residual: self.residual.is_some() as u32,
            res_c_offset: self.residual.map_or(0, |r| r.offset) as u32,
            res_c_total: self.residual.map_or(0, |r| r.total) as u32,
            _pad: 0,
        }
    }
}

/// Which of a conv group's two output buffers a conv writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputSlot {
    First = 0,
    Second = 1,
}

/// Up to 36 convolutions in one dispatch, all reading one input buffer (through their own
/// channel slices) and writing one of two output buffers: the branches of an inception module
/// without a barrier between them.
///
/// Inputs, in binding order: input, the weights of every conv back to back (each
/// `[out_channels][in_channels][kernel_h][kernel_w]`), their biases back to back. Outputs: the
/// first and second output buffers (the second has length 0 when no conv writes it).
#[derive(Clone, Debug)]
pub struct ConvGroup {
    pub convs: Vec<(Conv2d, OutputSlot)>,
    pub variant: ConvVariant,
    /// With `F16`, every variant computes with the weights rounded to f16 (the reference too),
    /// and the `tiled` ones store them so.
    pub weights: WeightPrecision,
}

impl ConvGroup {
    pub fn new(convs: Vec<(Conv2d, OutputSlot)>) -> Self {
        ConvGroup { convs, variant: ConvVariant::default(), weights: WeightPrecision::F32 }
    }

    pub fn with_weights(self, weights: WeightPrecision) -> Self {
        ConvGroup { weights, ..self }
    }

    /// The weights as this group computes with them: rounded to f16 where its precision says so.
    fn rounded<'a>(&self, weights: &'a [f32]) -> Cow<'a, [f32]> {
        match self.weights {
            WeightPrecision::F32 => Cow::Borrowed(weights),
            WeightPrecision::F16 => Cow::Owned(weights.iter().map(|&w| half::f16::from_f32(w).to_f32()).collect()),
        }
    }

    pub fn single(conv: Conv2d) -> Self {
        Self::new(vec![(conv, OutputSlot::First)])
    }

    pub fn with_variant(self, variant: ConvVariant) -> Self {
        ConvGroup { variant, ..self }
    }

    pub fn is_pointwise(&self) -> bool {
        self.convs.iter().all(|(c, _)| c.is_pointwise())
    }

    /// 1x1 convs run on the plain GEMM loader (compiled with its pooling path only where a conv
    /// of the group reads a pooled input); any other shape needs the im2col loader.
    pub fn kernel_id(&self) -> KernelId {
        let pooled = self.convs.iter().any(|(c, _)| c.pool_input.is_some());
        match (self.is_pointwise(), self.variant) {
            (true, ConvVariant::Tiled(tile)) if pooled => KernelId::Conv1x1Pooled(tile, self.weights),
            (true, ConvVariant::Tiled(tile)) => KernelId::Conv1x1(tile, self.weights),
            (false, ConvVariant::Tiled(tile)) => KernelId::ConvKxk(tile, self.weights),
            (true, ConvVariant::Subgroup(width)) if pooled => KernelId::Conv1x1SubgroupPooled(width),
            (true, ConvVariant::Subgroup(width)) => KernelId::Conv1x1Subgroup(width),
            (false, ConvVariant::Subgroup(width)) => KernelId::ConvKxkSubgroup(width),
            (true, ConvVariant::Blocked) if pooled => KernelId::Conv1x1BlockedPooled,
            (true, ConvVariant::Blocked) => KernelId::Conv1x1Blocked,
            (false, ConvVariant::Blocked) => KernelId::ConvKxkBlocked,
            // `check` refuses a kxk group in these variants.
            (_, ConvVariant::SubgroupVec4(width)) => KernelId::Conv1x1SubgroupVec4(width),
            (_, ConvVariant::SubgroupTexture(width)) => KernelId::Conv1x1SubgroupTexture(width),
            (_, ConvVariant::BlockedVec4) => KernelId::Conv1x1BlockedVec4,
        }
    }

    /// Length of the one residual buffer the group's convs read (0 if none reads one).
    fn residual_len(&self) -> usize {
        self.convs.iter().map(|(c, _)| c.residual_len()).max().unwrap_or(0)
    }

    fn slot_len(&self, slot: OutputSlot) -> usize {
        self.convs.iter().filter(|(_, s)| *s == slot).map(|(c, _)| c.output_len()).max().unwrap_or(0)
    }

    /// Whether this group's kernels read weights packed by `pack_weights`.
    fn packs_weights(&self) -> bool {
        !matches!(self.variant, ConvVariant::Tiled(_))
    }

    /// The subgroup kernels' weight layout: per conv, per block of 16 output channels, per
    /// reduction index k of its part, the block's 16 weights side by side (4 vec4s), with
    /// channels past the last and k up to a multiple of `K_ALIGN` zero, so one invocation's
    /// weights at a k are 4 vec4 loads whatever the subgroup width.
    fn pack_weights(&self, weights: &[f32]) -> Vec<f32> {
        let mut packed = Vec::new();
        for ((conv, _), (at, _)) in self.convs.iter().zip(self.offsets()) {
            let k_len = conv.k_len();
            let k_padded = k_len.next_multiple_of(K_ALIGN);
            for block in 0..conv.out_channels.div_ceil(16) {
                for k in 0..k_padded {
                    packed.extend((block * 16..block * 16 + 16).map(|m| {
                        if m < conv.out_channels && k < k_len { weights[at + m * k_len + k] } else { 0.0 }
                    }));
                }
            }
        }
        packed
    }

    /// Where each conv's weights start in `pack_weights`' layout, in vec4s.
    fn packed_offsets(&self) -> Vec<usize> {
        let mut at = 0;
        self.convs
            .iter()
            .map(|(c, _)| {
                let here = at;
                at += c.out_channels.div_ceil(16) * c.k_len().next_multiple_of(K_ALIGN) * 4;
                here
            })
            .collect()
    }

    /// Splits the packed weight and bias buffers into each conv's part.
    fn offsets(&self) -> Vec<(usize, usize)> {
        let mut at = (0, 0);
        self.convs
            .iter()
            .map(|(c, _)| {
                let here = at;
                at = (at.0 + c.weight_len(), at.1 + c.out_channels);
                here
            })
            .collect()
    }
}

impl Kernel for ConvGroup {
    fn kernel_name(&self) -> &'static str {
        match (self.is_pointwise(), self.convs.len() > 1, self.variant) {
            (true, false, ConvVariant::Tiled(_)) => "conv 1x1",
            (true, true, ConvVariant::Tiled(_)) => "conv 1x1 group",
            (false, false, ConvVariant::Tiled(_)) => "conv kxk",
            (false, true, ConvVariant::Tiled(_)) => "conv kxk group",
            (true, false, ConvVariant::Subgroup(_)) => "conv 1x1 subgroup",
            (true, true, ConvVariant::Subgroup(_)) => "conv 1x1 group subgroup",
            (false, false, ConvVariant::Subgroup(_)) => "conv kxk subgroup",
            (false, true, ConvVariant::Subgroup(_)) => "conv kxk group subgroup",
            (_, false, ConvVariant::SubgroupVec4(_)) => "conv 1x1 subgroup-vec4",
            (_, true, ConvVariant::SubgroupVec4(_)) => "conv 1x1 group subgroup-vec4",
            (_, false, ConvVariant::SubgroupTexture(_)) => "conv 1x1 subgroup-texture",
            (_, true, ConvVariant::SubgroupTexture(_)) => "conv 1x1 group subgroup-texture",
            (true, false, ConvVariant::Blocked) => "conv 1x1 blocked",
            (true, true, ConvVariant::Blocked) => "conv 1x1 group blocked",
            (false, false, ConvVariant::Blocked) => "conv kxk blocked",
            (false, true, ConvVariant::Blocked) => "conv kxk group blocked",
            (_, false, ConvVariant::BlockedVec4) => "conv 1x1 blocked-vec4",
            (_, true, ConvVariant::BlockedVec4) => "conv 1x1 group blocked-vec4",
        }
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self.convs.iter().map(|(c, slot)| match slot {
            OutputSlot::First => c.describe(),
            OutputSlot::Second => format!("{} (2nd output)", c.describe()),
        }).collect();
        let precision = if self.weights == WeightPrecision::F16 { " (f16 weights)" } else { "" };
        format!("{}{precision}", parts.join(" + "))
    }

    fn check(&self) -> Result<()> {
        let op = "Conv group";
        let Some((first, _)) = self.convs.first() else {
            return Err(Error::shape(op, "no convolutions"));
        };
        if self.convs.len() > MAX_PROBLEMS {
            return Err(Error::shape(op, format!("{} convolutions, at most {MAX_PROBLEMS} per dispatch", self.convs.len())));
        }
        if !self.variant.fits(self) {
            return Err(Error::shape(op, format!("the {} kernels cannot compute {}", self.variant_name(), self.describe())));
        }
        for (conv, slot) in &self.convs {
            conv.check()?;
            if conv.batch != first.batch || conv.input_len() != first.input_len() {
                return Err(Error::shape(op, format!("{} and {} do not read one input buffer", conv.describe(), first.describe())));
            }
            if conv.output_len() != self.slot_len(*slot) {
                return Err(Error::shape(op, format!("{} does not match the size of its output buffer", conv.describe())));
            }
            if conv.pool_input.is_some() && !self.is_pointwise() {
                return Err(Error::shape(op, "a pooled-input conv cannot share a dispatch with kxk convs"));
            }
            if conv.residual.is_some() && conv.residual_len() != self.residual_len() {
                return Err(Error::shape(op, format!("{} does not match the size of the residual buffer", conv.describe())));
            }
        }
        Ok(())
    }

    /// The residual buffer comes last; one float where no conv reads one (the binding exists).
    fn input_lens(&self) -> Vec<usize> {
        vec![
            self.convs[0].0.input_len(),
            self.convs.iter().map(|(c, _)| c.weight_len()).sum(),
            self.convs.iter().map(|(c, _)| c.out_channels).sum(),
            self.residual_len().max(1),
        ]
    }

    fn output_lens(&self) -> Vec<usize> {
        vec![self.slot_len(OutputSlot::First), self.slot_len(OutputSlot::Second)]
    }

    fn reference(&self, inputs: &[&[f32]], outputs: &mut [Vec<f32>]) {
        let [input, weights, biases, residual] = inputs else { panic!("a conv group takes input, weights, biases and a residual") };
        let weights = self.rounded(weights);
        for ((conv, slot), (w, b)) in self.convs.iter().zip(self.offsets()) {
            let weight = &weights[w..w + conv.weight_len()];
            let bias = &biases[b..b + conv.out_channels];
            conv.reference(input, weight, bias, Some(residual), &mut outputs[*slot as usize]);
        }
    }

    fn launch(&self) -> Launch {
        let mut params = ConvGroupParams::zeroed();
        params.batch = self.convs[0].0.batch as u32;
        params.problem_count = self.convs.len() as u32;
        let (rows, columns) = self.variant.tile();
        let mut first_tile = 0;
        let packed = self.packed_offsets();
        for (i, ((conv, slot), (w, b))) in self.convs.iter().zip(self.offsets()).enumerate() {
            let w = if self.packs_weights() { packed[i] } else { w };
            params.problems[i] = conv.problem(w, b, *slot, first_tile);
            first_tile += conv.out_channels.div_ceil(rows);
        }
        let column_tiles = self.convs.iter().map(|(c, _)| c.columns().div_ceil(columns)).max().unwrap_or(1);
        Launch::new(self.kernel_id(), &params, [column_tiles as u32, first_tile as u32, 1])
    }

    fn work(&self) -> usize {
        self.convs.iter().map(|(c, _)| c.columns() * c.out_channels * c.k_len()).sum()
    }

    fn flops(&self) -> f64 {
        2.0 * self.work() as f64
    }

    fn tuning_key(&self) -> Option<KernelKey> {
        let shape = self
            .convs
            .iter()
            .flat_map(|(c, slot)| {
                let geometry = [c.in_channels, c.in_h, c.in_w, c.out_channels, c.kernel_h, c.kernel_w, c.stride_h, c.stride_w];
                let pads = [c.pads.top, c.pads.left, c.pads.bottom, c.pads.right];
                let slices = [c.input.offset, c.input.total, c.output.offset, c.output.total];
                let residual = c.residual.map_or([0; 3], |r| [1, r.offset, r.total]);
                let flags = [c.relu as usize, pool_code(c.pool_input) as usize, *slot as usize].into_iter().chain(residual);
                let k = c.k_range();
                geometry.into_iter().chain(pads).chain(slices).chain(flags).chain([k.start, k.end])
            })
            .chain([self.weights as usize])
            .collect();
        Some(KernelKey::new(KernelFamily::ConvGroup, shape, self.convs[0].0.batch))
    }

    /// A sum of k products and the bias; an input averaged on the fly carries the average's own
    /// rounding (9 terms and a division, as `Pool2d`'s tolerance counts it) into every product,
    /// so such a conv counts those terms too.
    fn tolerance(&self, reference: &[Vec<f32>]) -> f32 {
        let pool_terms = |c: &Conv2d| if matches!(c.pool_input, Some(PoolKind::Average { .. })) { 9 + 1 } else { 0 };
        let terms = self.convs.iter().map(|(c, _)| c.k_len() + pool_terms(c)).max().unwrap_or(0);
        accumulation_tolerance(terms + 1, reference)
    }

    fn variants(&self) -> Vec<Box<dyn Kernel>> {
        ConvVariant::all()
            .into_iter()
            .map(|v| self.clone().with_variant(v))
            .filter(|g| g.variant.fits(g))
            .map(|g| Box::new(g) as Box<dyn Kernel>)
            .collect()
    }

    fn reads_residual(&self) -> bool {
        true
    }

    fn runs_on(&self, gpu: &Gpu) -> bool {
        let texture_fits = || !self.kernel_id().reads_input_texture() || input_texture_fits(gpu, self.convs[0].0.input_len());
        self.variant.runs_on(gpu) && texture_fits()
    }

    /// The subgroup and blocked kernels read `pack_weights`' layout; the tiled ones read the
    /// weights as they are, in f16 pairs with f16 precision.
    fn pack_input(&self, index: usize, data: &[f32]) -> Option<Vec<f32>> {
        if index != 1 {
            return None;
        }
        match (self.packs_weights(), self.weights) {
            (true, _) => Some(self.pack_weights(&self.rounded(data))),
            (false, WeightPrecision::F16) => Some(f16_pairs(data)),
            (false, WeightPrecision::F32) => None,
        }
    }

    fn variant_name(&self) -> &'static str {
        self.variant.name()
    }

    fn cpu_preference(&self) -> u8 {
        match self.variant {
            ConvVariant::Tiled(_) => 0,
            ConvVariant::Blocked => 1,
            ConvVariant::BlockedVec4 => 2,
            ConvVariant::Subgroup(_) => 3,
            // Faster than `Subgroup` at 12 of the 15 shapes it fits, and within 1.5x at the rest.
            ConvVariant::SubgroupVec4(_) => 4,
            ConvVariant::SubgroupTexture(_) => 5,
        }
    }
}

/// `weights` rounded to f16, two to a 32-bit word (the first in the low half), as the tiled
/// kernels' `weight_at` decodes them; each word's bits carried as one f32, since constants upload
/// as f32 buffers (bytes on the GPU).
fn f16_pairs(weights: &[f32]) -> Vec<f32> {
    let half = |w: Option<&f32>| u32::from(w.map_or(0, |&w| half::f16::from_f32(w).to_bits()));
    weights.chunks(2).map(|pair| f32::from_bits(half(pair.first()) | half(pair.get(1)) << 16)).collect()
}

// The kernel sweep's cases (`verify::kernel_cases`): windows and strides that break tiling,
// pointwise convs at pixel counts on and off the vec4 loader's quads, channel slices of larger
// buffers, and groups shaped like an inception module's dispatches.

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
    asymmetric.pads = Pads::new(0, 1, 2, 1);
    cases.push(asymmetric);
    let mut tall = Conv2d::simple(3, 5, 7, 17, 11, 3, 1, 0);
    (tall.kernel_h, tall.stride_w, tall.pads) = (5, 2, Pads::new(2, 0, 1, 1));
    cases.push(tall);
    let mut sliced = Conv2d::simple(3, 5, 13, 13, 12, 3, 1, 1);
    (sliced.input, sliced.output, sliced.relu) = (ChannelSlice::at(3, 10), ChannelSlice::at(5, 20), true);
    cases.push(sliced.clone());
    // A middle part of k (split-K) that starts and ends inside a channel's window.
    sliced.k_part = Some(7..38);
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
    (sliced.input, sliced.output, sliced.relu) = (ChannelSlice::at(7, 40), ChannelSlice::at(64, 256), true);
    cases.push(sliced);
    // Pixel counts that are multiples of 4 (the vec4 loader's), off its 32-column tile.
    cases.push(Conv2d::simple(3, 13, 4, 7, 33, 1, 1, 0));
    cases.push(Conv2d::simple(1, 130, 2, 2, 17, 1, 1, 0));
    let mut sliced_quads = Conv2d::simple(2, 17, 6, 6, 70, 1, 1, 0);
    (sliced_quads.input, sliced_quads.output, sliced_quads.relu) = (ChannelSlice::at(5, 30), ChannelSlice::at(3, 80), true);
    cases.push(sliced_quads);
    // The last part of k, off every step of the kernels' k loops.
    let mut last_part = Conv2d::simple(2, 130, 6, 6, 70, 1, 1, 0);
    last_part.k_part = Some(67..130);
    cases.push(last_part);
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
    let mut projection = one(11, ChannelSlice::at(0, 13), ChannelSlice::at(5, 20));
    projection.pool_input = Some(PoolKind::Max);
    let inception_1x1 = ConvGroup::new(vec![
            (one(5, ChannelSlice::at(0, 13), ChannelSlice::at(0, 20)), First),
            (one(70, ChannelSlice::at(0, 13), ChannelSlice::at(0, 73)), Second),
            (one(3, ChannelSlice::at(0, 13), ChannelSlice::at(70, 73)), Second),
            (projection, First),
    ]);
    let three = with_slices(Conv2d::simple(3, 70, 7, 7, 9, 3, 1, 1), ChannelSlice::at(0, 73), ChannelSlice::at(2, 20));
    let five = with_slices(Conv2d::simple(3, 3, 7, 7, 4, 5, 1, 2), ChannelSlice::at(70, 73), ChannelSlice::at(11, 20));
    let inception_kxk = ConvGroup::new(vec![(three, First), (five, First)]);
    let strided = with_slices(Conv2d::simple(1, 6, 13, 13, 5, 3, 2, 1), ChannelSlice::at(0, 6), ChannelSlice::at(0, 5));
    let unstrided = with_slices(Conv2d::simple(1, 6, 13, 13, 67, 3, 1, 1), ChannelSlice::at(0, 6), ChannelSlice::at(0, 67));
    let mixed_sizes = ConvGroup::new(vec![(unstrided, First), (strided, Second)]);
    let mut pooled = with_slices(Conv2d::simple(1, 17, 13, 11, 9, 1, 1, 0), ChannelSlice::at(4, 23), ChannelSlice::at(1, 12));
    pooled.pool_input = Some(PoolKind::Max);
    // The first wave of a module with a separate pool, at a pixel count that is a multiple of 4.
    let quads = |out, output| with_slices(Conv2d::simple(3, 13, 6, 2, out, 1, 1, 0), ChannelSlice::at(2, 15), output);
    let separate_pool_1x1 = ConvGroup::new(vec![
        (quads(5, ChannelSlice::at(0, 20)), First),
        (quads(70, ChannelSlice::at(0, 73)), Second),
        (quads(3, ChannelSlice::at(70, 73)), Second),
    ]);
    // A conv split along K as the plan splits one: its parts side by side in one buffer (the
    // pooled projection's too), each part's weight only its columns.
    let part = |k: Range<usize>, at: usize| Conv2d { k_part: Some(k), ..with_slices(Conv2d::simple(3, 70, 7, 7, 9, 1, 1, 0), ChannelSlice::at(0, 73), ChannelSlice::at(at, 36)) };
    let mut pooled_part = part(64..70, 27);
    pooled_part.pool_input = Some(PoolKind::Max);
    let split = ConvGroup::new(vec![(part(0..20, 0), First), (part(20..64, 9), First), (part(64..70, 18), First), (pooled_part, First)]);
    vec![inception_1x1, inception_kxk, mixed_sizes, ConvGroup::single(pooled), separate_pool_1x1, split, averaged_first_wave(), averaged_small_image()]
}

/// The first wave of an Inception v3 or v4 module: plain 1x1 convs beside a max-pooled one and
/// average-pooled ones in both count modes (torchvision's v3 counts the pads, timm's v4 does
/// not), one of them adding a residual; batch 3 at 13x11, off every tile, through slices.
fn averaged_first_wave() -> ConvGroup {
    use OutputSlot::{First, Second};
    let one = |out, output, pool_input| Conv2d { pool_input, ..with_slices(Conv2d::simple(3, 17, 13, 11, out, 1, 1, 0), ChannelSlice::at(4, 23), output) };
    let (excluded, included) = (PoolKind::Average { count_include_pad: false }, PoolKind::Average { count_include_pad: true });
    let residual = Conv2d { residual: Some(ChannelSlice::at(2, 9)), relu: false, ..one(3, ChannelSlice::at(70, 73), Some(included)) };
    ConvGroup::new(vec![
        (one(5, ChannelSlice::at(0, 40), None), First),
        (one(70, ChannelSlice::at(0, 73), None), Second),
        (one(9, ChannelSlice::at(5, 40), Some(PoolKind::Max)), First),
        (one(11, ChannelSlice::at(14, 40), Some(excluded)), First),
        (one(15, ChannelSlice::at(25, 40), Some(included)), First),
        (residual, Second),
    ])
}

/// An average-pooled conv on a 3x2 image, where every window reaches into the padding: the two
/// count modes differ at every pixel.
fn averaged_small_image() -> ConvGroup {
    let conv = |count_include_pad, output| Conv2d {
        pool_input: Some(PoolKind::Average { count_include_pad }),
        ..with_slices(Conv2d::simple(1, 6, 3, 2, 7, 1, 1, 0), ChannelSlice::at(1, 9), output)
    };
    ConvGroup::new(vec![(conv(false, ChannelSlice::at(0, 14)), OutputSlot::First), (conv(true, ChannelSlice::at(7, 14)), OutputSlot::First)])
}

/// Cases with f16 weights: a kxk conv through slices, an odd count of pointwise weights (the
/// last word half empty) on the vec4 loader's quads, and an inception module's first wave.
fn f16_cases() -> Vec<ConvGroup> {
    let kxk = with_slices(Conv2d::simple(3, 5, 13, 13, 12, 3, 1, 1), ChannelSlice::at(3, 10), ChannelSlice::at(5, 20));
    let pointwise = Conv2d::simple(2, 17, 6, 6, 7, 1, 1, 0);
    let module = conv_group_cases().swap_remove(0);
    [ConvGroup::single(kxk), ConvGroup::single(pointwise), module].into_iter().map(|g| g.with_weights(WeightPrecision::F16)).collect()
}

/// Cases with a residual added in the epilogue: ResNet's strided 3x3 and 1x1 convs, an
/// Inception-ResNet up-projection reading a concat slice and adding a slice of another buffer,
/// without and with ReLU, on every loader (quads too), and two convs of one group adding
/// different slices of one residual buffer, one of them pooled.
fn residual_cases() -> Vec<ConvGroup> {
    let with_residual = |conv: Conv2d, residual| Conv2d { residual: Some(residual), ..conv };
    let strided = with_residual(Conv2d::simple(3, 7, 13, 11, 9, 3, 2, 1), ChannelSlice::whole(9));
    let unrelu = Conv2d { relu: false, ..with_slices(Conv2d::simple(2, 19, 8, 8, 21, 1, 1, 0), ChannelSlice::at(3, 25), ChannelSlice::at(0, 21)) };
    let up_projection = with_residual(unrelu, ChannelSlice::at(4, 30));
    let relu = with_residual(with_slices(Conv2d::simple(3, 13, 5, 7, 17, 1, 1, 0), ChannelSlice::at(0, 13), ChannelSlice::at(2, 20)), ChannelSlice::at(1, 18));
    let mut pooled = with_residual(with_slices(Conv2d::simple(3, 13, 5, 7, 3, 1, 1, 0), ChannelSlice::at(0, 13), ChannelSlice::at(5, 20)), ChannelSlice::at(15, 18));
    pooled.pool_input = Some(PoolKind::Max);
    let group = ConvGroup::new(vec![(relu, OutputSlot::First), (pooled, OutputSlot::Second)]);
    vec![ConvGroup::single(strided), ConvGroup::single(up_projection), group]
}

pub(super) fn sweep_cases() -> Vec<ConvGroup> {
    let groups = conv_group_cases().into_iter().chain(f16_cases()).chain(residual_cases());
    conv_cases().into_iter().chain(pointwise_cases()).map(ConvGroup::single).chain(groups).collect()
}
