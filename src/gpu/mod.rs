//! wgpu plumbing: the device, the compiled kernels, buffers and one-off kernel runs.

mod buffers;
mod context;
mod input_texture;
#[allow(missing_docs)] // kernel identities and single launches, for tests and benches
mod pipelines;
mod pipeline_cache;
#[allow(missing_docs)]
mod launch;

pub use buffers::{read_back, storage_buffer, uniform_buffer, zeroed_storage_buffer};
pub use context::{AdapterChoice, Gpu, LimitsChoice};
pub use input_texture::{input_texture_bytes, input_texture_fits, InputTexture, INPUT_TEXTURE_ROW};
pub use pipeline_cache::DiskPipelineCache;
pub use pipelines::{KernelId, Pipelines, SubgroupWidth, TileShape, WeightPrecision, BLOCKED_LANES, SHADER_FILES};
pub use launch::{flat_workgroups, run_once, Launch, Prepared};
