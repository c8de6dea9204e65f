//! The kernels: which WGSL files make each one, its entry point, and its compiled pipeline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::{DiskPipelineCache, Gpu, INPUT_TEXTURE_ROW};
use crate::ops::WinogradTile;
use crate::error::{Error, Result};

/// Every WGSL file in `shaders/`, embedded in the binary.
pub const SHADER_FILES: &[(&str, &str)] = &[
    ("conv_common.wgsl", include_str!("../../shaders/conv_common.wgsl")),
    ("conv_tiled.wgsl", include_str!("../../shaders/conv_tiled.wgsl")),
    ("conv_blocked.wgsl", include_str!("../../shaders/conv_blocked.wgsl")),
    ("conv_subgroup.wgsl", include_str!("../../shaders/conv_subgroup.wgsl")),
    ("conv_blocked_plain.wgsl", include_str!("../../shaders/conv_blocked_plain.wgsl")),
    ("conv_kxk.wgsl", include_str!("../../shaders/conv_kxk.wgsl")),
    ("conv_1x1.wgsl", include_str!("../../shaders/conv_1x1.wgsl")),
    ("conv_input.wgsl", include_str!("../../shaders/conv_input.wgsl")),
    ("conv_input_vec4.wgsl", include_str!("../../shaders/conv_input_vec4.wgsl")),
    ("conv_input_texture.wgsl", include_str!("../../shaders/conv_input_texture.wgsl")),
    ("pool.wgsl", include_str!("../../shaders/pool.wgsl")),
    ("lrn.wgsl", include_str!("../../shaders/lrn.wgsl")),
    ("fully_connected.wgsl", include_str!("../../shaders/fully_connected.wgsl")),
    ("fully_connected_reduce.wgsl", include_str!("../../shaders/fully_connected_reduce.wgsl")),
    ("fully_connected_rows.wgsl", include_str!("../../shaders/fully_connected_rows.wgsl")),
    ("softmax.wgsl", include_str!("../../shaders/softmax.wgsl")),
    ("channel_affine.wgsl", include_str!("../../shaders/channel_affine.wgsl")),
    ("depthwise_conv.wgsl", include_str!("../../shaders/depthwise_conv.wgsl")),
    ("winograd_common.wgsl", include_str!("../../shaders/winograd_common.wgsl")),
    ("winograd_input.wgsl", include_str!("../../shaders/winograd_input.wgsl")),
    ("winograd_output_common.wgsl", include_str!("../../shaders/winograd_output_common.wgsl")),
    ("winograd_output.wgsl", include_str!("../../shaders/winograd_output.wgsl")),
    ("winograd4_input.wgsl", include_str!("../../shaders/winograd4_input.wgsl")),
    ("winograd4_output.wgsl", include_str!("../../shaders/winograd4_output.wgsl")),
];

/// A fixed subgroup width the subgroup kernels are compiled for (their `LANES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubgroupWidth(u32);

impl SubgroupWidth {
    /// Every width the kernels are written for: SwiftShader's 4, lavapipe's 8 (16 at 512 bits),
    /// and the 32 and 64 of GPUs that fix theirs.
    pub const ALL: [SubgroupWidth; 5] = [SubgroupWidth(4), SubgroupWidth(8), SubgroupWidth(16), SubgroupWidth(32), SubgroupWidth(64)];

    /// Invocations per subgroup.
    pub fn lanes(self) -> u32 {
        self.0
    }
}

/// Invocations per workgroup of the `blocked` conv kernels (their `LANES`), which share no
/// weights between lanes: a workgroup is 16 channels x 64 pixels, as the `tiled` default's width.
pub const BLOCKED_LANES: u32 = 16;

/// The output tile of one workgroup of the `tiled` conv kernels (their `TILE_M` x `TILE_N`):
/// output channels x output pixels. Smaller tiles make more workgroups of a small layer (the 7x7
/// and 14x14 stages at batch 1), for GPUs with more cores than 64x64 tiles fill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileShape {
    /// 64 channels x 64 pixels, a 4x4 register block per thread.
    #[default]
    M64N64,
    /// 32 x 32, a 2x2 block per thread.
    M32N32,
    /// 16 channels x 64 pixels, a 1x4 block per thread: for layers with few output channels.
    M16N64,
}

impl TileShape {
    pub const ALL: [TileShape; 3] = [TileShape::M64N64, TileShape::M32N32, TileShape::M16N64];

    /// Output channels per tile.
    pub fn channels(self) -> u32 {
        match self {
            TileShape::M64N64 => 64,
            TileShape::M32N32 => 32,
            TileShape::M16N64 => 16,
        }
    }

    /// Output pixels per tile.
    pub fn pixels(self) -> u32 {
        match self {
            TileShape::M64N64 | TileShape::M16N64 => 64,
            TileShape::M32N32 => 32,
        }
    }
}

/// How conv weights are held. `F16` is an explicit opt-in (`PlanOptions::weights`), never a
/// tuner's choice: every kernel then computes with the weights rounded to f16, and the `tiled`
/// kernels (the GPU design) also store them in 16 bits, two to a word, decoded with integer
/// operations (no shader-f16 feature needed, on any backend): half the weight memory and
/// traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WeightPrecision {
    #[default]
    F32,
    F16,
}

impl WeightPrecision {
    /// `F16` where a switch (a flag, a checkbox) asks for f16 weights, else `F32`.
    pub fn f16_if(f16: bool) -> Self {
        if f16 {
            WeightPrecision::F16
        } else {
            WeightPrecision::F32
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KernelId {
    ConvKxk(TileShape, WeightPrecision),
    Conv1x1(TileShape, WeightPrecision),
    Conv1x1Pooled(TileShape, WeightPrecision),
    ConvKxkSubgroup(SubgroupWidth),
    Conv1x1Subgroup(SubgroupWidth),
    Conv1x1SubgroupPooled(SubgroupWidth),
    Conv1x1SubgroupVec4(SubgroupWidth),
    Conv1x1SubgroupTexture(SubgroupWidth),
    ConvKxkBlocked,
    Conv1x1Blocked,
    Conv1x1BlockedPooled,
    Conv1x1BlockedVec4,
    MaxPool,
    AvgPool,
    Lrn,
    FullyConnected,
    FullyConnectedRows,
    Softmax,
    ChannelAffine,
    DepthwiseConv,
    WinogradInput(WinogradTile),
    WinogradOutput(WinogradTile),
}

impl KernelId {
    /// Every kernel, the subgroup ones at every width.
    pub fn all() -> Vec<KernelId> {
        let tiled = |tile, weights| [KernelId::ConvKxk(tile, weights), KernelId::Conv1x1(tile, weights), KernelId::Conv1x1Pooled(tile, weights)];
        let mut all: Vec<KernelId> = TileShape::ALL.into_iter().flat_map(|tile| [WeightPrecision::F32, WeightPrecision::F16].into_iter().flat_map(move |w| tiled(tile, w))).collect();
        for width in SubgroupWidth::ALL {
            all.extend([
                KernelId::ConvKxkSubgroup(width),
                KernelId::Conv1x1Subgroup(width),
                KernelId::Conv1x1SubgroupPooled(width),
                KernelId::Conv1x1SubgroupVec4(width),
                KernelId::Conv1x1SubgroupTexture(width),
            ]);
        }
        all.extend([
            KernelId::ConvKxkBlocked,
            KernelId::Conv1x1Blocked,
            KernelId::Conv1x1BlockedPooled,
            KernelId::Conv1x1BlockedVec4,
            KernelId::MaxPool,
            KernelId::AvgPool,
            KernelId::Lrn,
            KernelId::FullyConnected,
            KernelId::FullyConnectedRows,
            KernelId::Softmax,
            KernelId::ChannelAffine,
            KernelId::DepthwiseConv,
        ]);
        all.extend(WinogradTile::ALL.into_iter().flat_map(|tile| [KernelId::WinogradInput(tile), KernelId::WinogradOutput(tile)]));
        all
    }

    /// The WGSL files whose concatenation is this kernel's module (WGSL has no includes), as
    /// each op declares them.
    pub fn files(self) -> &'static [&'static str] {
        use crate::ops::shader_files as op;
        match self {
            KernelId::ConvKxk(..) => op::conv::TILED_KXK,
            KernelId::Conv1x1(..) | KernelId::Conv1x1Pooled(..) => op::conv::TILED_1X1,
            KernelId::ConvKxkSubgroup(_) => op::conv::SUBGROUP_KXK,
            KernelId::Conv1x1Subgroup(_) | KernelId::Conv1x1SubgroupPooled(_) => op::conv::SUBGROUP_1X1,
            KernelId::Conv1x1SubgroupVec4(_) => op::conv::SUBGROUP_1X1_VEC4,
            KernelId::Conv1x1SubgroupTexture(_) => op::conv::SUBGROUP_1X1_TEXTURE,
            KernelId::ConvKxkBlocked => op::conv::BLOCKED_KXK,
            KernelId::Conv1x1Blocked | KernelId::Conv1x1BlockedPooled => op::conv::BLOCKED_1X1,
            KernelId::Conv1x1BlockedVec4 => op::conv::BLOCKED_1X1_VEC4,
            KernelId::MaxPool | KernelId::AvgPool => op::POOL,
            KernelId::Lrn => op::LRN,
            KernelId::FullyConnected => op::FULLY_CONNECTED_REDUCE,
            KernelId::FullyConnectedRows => op::FULLY_CONNECTED_ROWS,
            KernelId::Softmax => op::SOFTMAX,
            KernelId::ChannelAffine => op::CHANNEL_AFFINE,
            KernelId::DepthwiseConv => op::DEPTHWISE_CONV,
            KernelId::WinogradInput(WinogradTile::F2) => op::WINOGRAD_INPUT,
            KernelId::WinogradOutput(WinogradTile::F2) => op::WINOGRAD_OUTPUT,
            KernelId::WinogradInput(WinogradTile::F4) => op::WINOGRAD4_INPUT,
            KernelId::WinogradOutput(WinogradTile::F4) => op::WINOGRAD4_OUTPUT,
        }
    }

    /// The subgroup width the kernel is compiled for, if it uses subgroup operations.
    pub fn subgroup_width(self) -> Option<SubgroupWidth> {
        match self {
            KernelId::ConvKxkSubgroup(width)
            | KernelId::Conv1x1Subgroup(width)
            | KernelId::Conv1x1SubgroupPooled(width)
            | KernelId::Conv1x1SubgroupVec4(width)
            | KernelId::Conv1x1SubgroupTexture(width) => Some(width),
            _ => None,
        }
    }

    /// Invocations per workgroup of a register-blocked conv kernel (`conv_blocked.wgsl`): its
    /// subgroup width, or `BLOCKED_LANES` where lanes share no weights.
    fn lanes(self) -> Option<u32> {
        match self {
            KernelId::ConvKxkBlocked | KernelId::Conv1x1Blocked | KernelId::Conv1x1BlockedPooled | KernelId::Conv1x1BlockedVec4 => Some(BLOCKED_LANES),
            _ => self.subgroup_width().map(SubgroupWidth::lanes),
        }
    }

    /// Whether the kernel reads its activation input (binding 1) from an `InputTexture` filled
    /// from the input buffer before it runs, rather than from the buffer.
    pub fn reads_input_texture(self) -> bool {
        matches!(self, KernelId::Conv1x1SubgroupTexture(_))
    }

    /// Values for the module's `override` constants (the rest keep their defaults): the
    /// lanes of a register-blocked kernel, the tile shape, whether a 1x1 loader keeps its
    /// pooling path, and an input texture's row length.
    pub fn constants(self) -> Vec<(&'static str, f64)> {
        let pooled = match self {
            KernelId::Conv1x1(..)
            | KernelId::Conv1x1Subgroup(_)
            | KernelId::Conv1x1SubgroupVec4(_)
            | KernelId::Conv1x1SubgroupTexture(_)
            | KernelId::Conv1x1Blocked
            | KernelId::Conv1x1BlockedVec4 => Some(("POOLED_INPUT", 0.0)),
            _ => None,
        };
        let texture_row = self.reads_input_texture().then(|| ("TEXTURE_ROW_SHIFT", f64::from(INPUT_TEXTURE_ROW.trailing_zeros())));
        let lanes = self.lanes().map(|lanes| ("LANES", f64::from(lanes)));
        let tile = match self {
            KernelId::ConvKxk(tile, weights) | KernelId::Conv1x1(tile, weights) | KernelId::Conv1x1Pooled(tile, weights) => vec![
                ("TILE_M", f64::from(tile.channels())),
                ("TILE_N", f64::from(tile.pixels())),
                ("F16_WEIGHTS", f64::from(u8::from(weights == WeightPrecision::F16))),
            ],
            _ => Vec::new(),
        };
        pooled.into_iter().chain(lanes).chain(tile).chain(texture_row).collect()
    }

    pub fn entry_point(self) -> &'static str {
        match self {
            KernelId::MaxPool => "max_pool",
            KernelId::AvgPool => "avg_pool",
            _ => "main",
        }
    }

    pub fn source(self) -> String {
        self.files()
            .iter()
            .map(|name| {
                SHADER_FILES
                    .iter()
                    .find(|(file, _)| file == name)
                    .map(|(_, text)| *text)
                    .unwrap_or_else(|| panic!("kernel {self:?} names {name}, which is not in SHADER_FILES"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Compiled pipelines, built on first use and kept for the life of the engine; with a disk
/// cache, compiled through it so that the next process finds them there.
pub struct Pipelines {
    pipelines: Mutex<HashMap<KernelId, wgpu::ComputePipeline>>,
    disk: Option<DiskPipelineCache>,
    /// Whether a pipeline was compiled since the disk cache was last saved.
    unsaved: AtomicBool,
}

impl Pipelines {
    pub fn new() -> Self {
        Pipelines { pipelines: Mutex::new(HashMap::new()), disk: None, unsaved: AtomicBool::new(false) }
    }

    /// Pipelines compiled through `disk` (see `save`).
    pub fn with_disk_cache(disk: Option<DiskPipelineCache>) -> Self {
        Pipelines { disk, ..Self::new() }
    }

    /// The disk cache pipelines are compiled through, if any.
    pub fn disk_cache(&self) -> Option<&DiskPipelineCache> {
        self.disk.as_ref()
    }

    /// Writes the disk cache if pipelines were compiled since it was last written.
    pub fn save(&self) -> Result<()> {
        match &self.disk {
            Some(disk) if self.unsaved.swap(false, Ordering::SeqCst) => disk.save(),
            _ => Ok(()),
        }
    }

    pub fn pipeline(&self, gpu: &Gpu, id: KernelId) -> Result<wgpu::ComputePipeline> {
        if let Some(pipeline) = self.compiled(id) {
            return Ok(pipeline);
        }
        let pipeline = self.compile(gpu, id)?;
        // Another thread may have compiled it meanwhile: keep the first.
        let mut pipelines = self.pipelines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(pipelines.entry(id).or_insert(pipeline).clone())
    }

    /// Compiles every kernel of `ids` not compiled yet, on threads of their own: a driver that
    /// compiles on the CPU (lavapipe, SwiftShader) spends most of a cold start here. (In a
    /// browser, where a device is not shared between threads, one after another.)
    pub fn prepare(&self, gpu: &Gpu, ids: impl IntoIterator<Item = KernelId>) -> Result<()> {
        let mut missing: Vec<KernelId> = ids.into_iter().filter(|&id| self.compiled(id).is_none()).collect();
        missing.sort();
        missing.dedup();
        #[cfg(target_arch = "wasm32")]
        return missing.into_iter().try_for_each(|id| self.pipeline(gpu, id).map(drop));
        #[cfg(not(target_arch = "wasm32"))]
        std::thread::scope(|scope| {
            let threads: Vec<_> = missing.into_iter().map(|id| scope.spawn(move || self.pipeline(gpu, id).map(drop))).collect();
            threads.into_iter().try_for_each(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        })
    }

    fn compiled(&self, id: KernelId) -> Option<wgpu::ComputePipeline> {
        self.pipelines.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&id).cloned()
    }

    fn compile(&self, gpu: &Gpu, id: KernelId) -> Result<wgpu::ComputePipeline> {
        if let Some(width) = id.subgroup_width().filter(|&w| gpu.fixed_subgroup_width() != Some(w)) {
            return Err(Error::Unsupported {
                op: format!("kernel {id:?}"),
                message: format!(
                    "needs subgroups exactly {} wide; {} offers {}..{} wide{}",
                    width.lanes(),
                    gpu.info.name,
                    gpu.info.subgroup_min_size,
                    gpu.info.subgroup_max_size,
                    if gpu.features.contains(wgpu::Features::SUBGROUP) { "" } else { " and no subgroup operations" }
                ),
            });
        }
        // `Instant` has no clock on wasm32-unknown-unknown (it panics there).
        #[cfg(not(target_arch = "wasm32"))]
        let started = std::time::Instant::now();
        let pipeline = gpu.checked(&format!("compiling kernel {id:?}"), || {
            let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(id.files().join("+").as_str()),
                source: wgpu::ShaderSource::Wgsl(id.source().into()),
            });
            gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&format!("{id:?}")),
                layout: None,
                module: &module,
                entry_point: Some(id.entry_point()),
                compilation_options: wgpu::PipelineCompilationOptions { constants: &id.constants(), ..Default::default() },
                cache: self.disk.as_ref().map(|disk| &disk.cache),
            })
        })?;
        #[cfg(not(target_arch = "wasm32"))]
        log::debug!("compiled kernel {id:?} in {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
        self.unsaved.store(true, Ordering::SeqCst);
        Ok(pipeline)
    }
}

impl Default for Pipelines {
    fn default() -> Self {
        Self::new()
    }
}
