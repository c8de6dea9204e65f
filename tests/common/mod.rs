//! What the integration tests share: one GPU and one set of compiled kernels per test binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use googlenet::gpu::{Gpu, Pipelines};

pub fn gpu() -> &'static (Gpu, Pipelines) {
    static GPU: OnceLock<(Gpu, Pipelines)> = OnceLock::new();
    GPU.get_or_init(|| {
        let gpu = Gpu::new().unwrap_or_else(|e| panic!("these tests need a GPU adapter: {e}"));
        (gpu, Pipelines::new())
    })
}

/// `../shared/conformance` beside the repository, or `GOOGLENET_CONFORMANCE`.
#[allow(dead_code)] // not every test binary reads conformance data
pub fn conformance_dir() -> PathBuf {
    std::env::var_os("GOOGLENET_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"))
}
