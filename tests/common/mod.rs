//! What the integration tests share: one GPU and one set of compiled kernels per test binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use googlenet::gpu::{Gpu, Kernels};

pub fn gpu() -> &'static (Gpu, Kernels) {
    static GPU: OnceLock<(Gpu, Kernels)> = OnceLock::new();
    GPU.get_or_init(|| {
        let gpu = Gpu::new().unwrap_or_else(|e| panic!("these tests need a GPU adapter: {e}"));
        (gpu, Kernels::new())
    })
}

/// `../shared/conformance` beside the repository, or `GOOGLENET_CONFORMANCE`.
#[allow(dead_code)] // not every test binary reads conformance data
pub fn conformance_dir() -> PathBuf {
    std::env::var_os("GOOGLENET_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"))
}
