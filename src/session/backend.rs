//! What a session computes on: our kernels on a GPU adapter, or, where no adapter could be
//! opened and the builder allowed it, the CPU reference.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gpu::Gpu;

/// What a session computes on.
#[derive(Clone)]
pub enum Backend {
    /// The engine's kernels on a wgpu adapter.
    Gpu(Arc<Gpu>),
    /// The CPU reference, op by op (correct, and one to two orders of magnitude slower): no
    /// adapter could be opened, for the reason given.
    CpuReference {
        /// Why no adapter was opened (the error, with how to get a driver).
        why: String,
    },
}

impl Backend {
    /// The adapter, or an error saying that the session runs on the CPU and why.
    pub fn gpu(&self) -> Result<&Arc<Gpu>> {
        match self {
            Backend::Gpu(gpu) => Ok(gpu),
            Backend::CpuReference { why } => Err(Error::NoAdapter { detail: format!(": this session runs on the CPU reference ({why})") }),
        }
    }

    /// One line naming what runs the network, for reports.
    pub fn describe(&self) -> String {
        match self {
            Backend::Gpu(gpu) => gpu.describe(),
            Backend::CpuReference { .. } => "the CPU reference (no GPU adapter)".into(),
        }
    }
}
