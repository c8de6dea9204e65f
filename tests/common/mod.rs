//! What the integration tests share: one GPU and one set of compiled kernels per test binary.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use googlenet::gpu::{Gpu, Pipelines};

pub fn gpu() -> &'static (Arc<Gpu>, Pipelines) {
    static GPU: OnceLock<(Arc<Gpu>, Pipelines)> = OnceLock::new();
    GPU.get_or_init(|| {
        let gpu = Gpu::new().unwrap_or_else(|e| panic!("these tests need a GPU adapter: {e}"));
        (Arc::new(gpu), Pipelines::new())
    })
}

/// ONNX's own test cases, kept in `tests/data/onnx` (see its README for their origin and licence).
#[allow(dead_code)] // not every test binary reads conformance data
pub fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/onnx")
}
