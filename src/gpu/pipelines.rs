//! The kernels: which WGSL files make each one, its entry point, and its compiled pipeline.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Gpu;
use crate::error::{Error, Result};

/// Every WGSL file in `shaders/`, embedded in the binary.
pub const SHADER_FILES: &[(&str, &str)] = &[
    ("conv_common.wgsl", include_str!("../../shaders/conv_common.wgsl")),
    ("conv_tiled.wgsl", include_str!("../../shaders/conv_tiled.wgsl")),
    ("conv_subgroup.wgsl", include_str!("../../shaders/conv_subgroup.wgsl")),
    ("conv_kxk.wgsl", include_str!("../../shaders/conv_kxk.wgsl")),
    ("conv_1x1.wgsl", include_str!("../../shaders/conv_1x1.wgsl")),
    ("conv_input.wgsl", include_str!("../../shaders/conv_input.wgsl")),
    ("conv_input_vec4.wgsl", include_str!("../../shaders/conv_input_vec4.wgsl")),
    ("pool.wgsl", include_str!("../../shaders/pool.wgsl")),
    ("lrn.wgsl", include_str!("../../shaders/lrn.wgsl")),
    ("fully_connected.wgsl", include_str!("../../shaders/fully_connected.wgsl")),
    ("fully_connected_reduce.wgsl", include_str!("../../shaders/fully_connected_reduce.wgsl")),
    ("fully_connected_rows.wgsl", include_str!("../../shaders/fully_connected_rows.wgsl")),
    ("softmax.wgsl", include_str!("../../shaders/softmax.wgsl")),
    ("channel_affine.wgsl", include_str!("../../shaders/channel_affine.wgsl")),
    ("winograd_common.wgsl", include_str!("../../shaders/winograd_common.wgsl")),
    ("winograd_input.wgsl", include_str!("../../shaders/winograd_input.wgsl")),
    ("winograd_output.wgsl", include_str!("../../shaders/winograd_output.wgsl")),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelId {
    ConvKxk,
    Conv1x1,
    ConvKxkSubgroup,
    Conv1x1Subgroup,
    Conv1x1SubgroupVec4,
    MaxPool,
    AvgPool,
    Lrn,
    FullyConnected,
    FullyConnectedRows,
    Softmax,
    ChannelAffine,
    WinogradInput,
    WinogradOutput,
}

impl KernelId {
    pub const ALL: [KernelId; 14] = [
        KernelId::ConvKxk,
        KernelId::Conv1x1,
        KernelId::ConvKxkSubgroup,
        KernelId::Conv1x1Subgroup,
        KernelId::Conv1x1SubgroupVec4,
        KernelId::MaxPool,
        KernelId::AvgPool,
        KernelId::Lrn,
        KernelId::FullyConnected,
        KernelId::FullyConnectedRows,
        KernelId::Softmax,
        KernelId::ChannelAffine,
        KernelId::WinogradInput,
        KernelId::WinogradOutput,
    ];

    /// The WGSL files whose concatenation is this kernel's module (WGSL has no includes).
    pub fn files(self) -> &'static [&'static str] {
        match self {
            KernelId::ConvKxk => &["conv_common.wgsl", "conv_tiled.wgsl", "conv_kxk.wgsl", "conv_input.wgsl"],
            KernelId::Conv1x1 => &["conv_common.wgsl", "conv_tiled.wgsl", "conv_1x1.wgsl", "conv_input.wgsl"],
            KernelId::ConvKxkSubgroup => &["conv_common.wgsl", "conv_subgroup.wgsl", "conv_kxk.wgsl", "conv_input.wgsl"],
            KernelId::Conv1x1Subgroup => &["conv_common.wgsl", "conv_subgroup.wgsl", "conv_1x1.wgsl", "conv_input.wgsl"],
            KernelId::Conv1x1SubgroupVec4 => &["conv_common.wgsl", "conv_subgroup.wgsl", "conv_1x1.wgsl", "conv_input_vec4.wgsl"],
            KernelId::MaxPool | KernelId::AvgPool => &["pool.wgsl"],
            KernelId::Lrn => &["lrn.wgsl"],
            KernelId::FullyConnected => &["fully_connected.wgsl", "fully_connected_reduce.wgsl"],
            KernelId::FullyConnectedRows => &["fully_connected.wgsl", "fully_connected_rows.wgsl"],
            KernelId::Softmax => &["softmax.wgsl"],
            KernelId::ChannelAffine => &["channel_affine.wgsl"],
            KernelId::WinogradInput => &["winograd_common.wgsl", "winograd_input.wgsl"],
            KernelId::WinogradOutput => &["winograd_common.wgsl", "winograd_output.wgsl"],
        }
    }

    /// The subgroup width the kernel is written for, if it uses subgroup operations.
    pub fn subgroup_width(self) -> Option<u32> {
        match self {
            KernelId::ConvKxkSubgroup | KernelId::Conv1x1Subgroup | KernelId::Conv1x1SubgroupVec4 => Some(8),
            _ => None,
        }
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

/// Compiled pipelines, built on first use and kept for the life of the engine.
pub struct Pipelines {
    pipelines: Mutex<HashMap<KernelId, wgpu::ComputePipeline>>,
}

impl Pipelines {
    pub fn new() -> Self {
        Pipelines { pipelines: Mutex::new(HashMap::new()) }
    }

    pub fn pipeline(&self, gpu: &Gpu, id: KernelId) -> Result<wgpu::ComputePipeline> {
        let mut pipelines = self.pipelines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(pipeline) = pipelines.get(&id) {
            return Ok(pipeline.clone());
        }
        if let Some(width) = id.subgroup_width().filter(|&w| !gpu.has_subgroups_of(w)) {
            return Err(Error::Unsupported {
                op: format!("kernel {id:?}"),
                message: format!(
                    "needs subgroups exactly {width} wide; {} offers {}..{} wide{}",
                    gpu.info.name,
                    gpu.info.subgroup_min_size,
                    gpu.info.subgroup_max_size,
                    if gpu.features.contains(wgpu::Features::SUBGROUP) { "" } else { " and no subgroup operations" }
                ),
            });
        }
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
                compilation_options: Default::default(),
                cache: None,
            })
        })?;
        pipelines.insert(id, pipeline.clone());
        Ok(pipeline)
    }
}

impl Default for Pipelines {
    fn default() -> Self {
        Self::new()
    }
}
