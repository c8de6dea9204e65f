//! The pieces every `--json` report shares (`docs/JSON.md` lists the keys).

use googlenet::gpu::Gpu;
use googlenet::Prediction;

/// The adapter, as one object in every report.
pub fn adapter(gpu: &Gpu) -> serde_json::Value {
    let info = &gpu.info;
    serde_json::json!({
        "name": info.name,
        "backend": format!("{:?}", info.backend),
        "device_type": format!("{:?}", info.device_type),
        "driver": info.driver,
        "driver_info": info.driver_info,
    })
}

/// One image's ranked classes.
pub fn top(row: &[Prediction]) -> serde_json::Value {
    row.iter().map(|p| serde_json::json!({"class": p.class, "label": p.label, "probability": p.probability})).collect()
}
