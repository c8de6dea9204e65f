//! The pieces every `--json` report shares (`docs/JSON.md` lists the keys).

use std::path::Path;

use googlenet::gpu::Gpu;
use googlenet::{Backend, Prediction};

/// The adapter, as one object in every report.
pub fn adapter(gpu: &Gpu) -> serde_json::Value {
    let info = &gpu.info;
    serde_json::json!({
        "name": info.name,
        "backend": format!("{:?}", info.backend),
        "device_type": format!("{:?}", info.device_type),
        "driver": info.driver,
        "driver_info": info.driver_info,
        "subgroup_sizes": [info.subgroup_min_size, info.subgroup_max_size],
        "fixed_subgroup_width": gpu.fixed_subgroup_width().map(|width| width.lanes()),
    })
}

/// What ran the network: the adapter object, or one of the same keys for the CPU reference
/// (backend `CpuReference`, the reason no adapter was opened in `driver_info`).
pub fn backend(backend: &Backend) -> serde_json::Value {
    match backend {
        Backend::Gpu(gpu) => adapter(gpu),
        Backend::CpuReference { why } => serde_json::json!({
            "name": "CPU reference",
            "backend": "CpuReference",
            "device_type": "Cpu",
            "driver": "",
            "driver_info": why,
            "subgroup_sizes": null,
            "fixed_subgroup_width": null,
        }),
    }
}

/// One image's ranked classes.
pub fn top(row: &[Prediction]) -> serde_json::Value {
    row.iter().map(|p| serde_json::json!({"class": p.class, "label": p.label, "probability": p.probability})).collect()
}

/// A file's path as a JSON string: a path that is not valid UTF-8 is written lossily, each byte
/// sequence that is not UTF-8 replaced by U+FFFD (`docs/JSON.md`).
pub fn path(path: &Path) -> serde_json::Value {
    path.to_string_lossy().into()
}
