//! `googlenet info`: what the adapter is and offers.

use std::process::ExitCode;

use googlenet::gpu::Gpu;
use googlenet::Result;

use super::output::Text;

pub fn run(json: bool) -> Result<ExitCode> {
    let gpu = Gpu::new()?;
    let info = &gpu.info;
    let l = &gpu.limits;
    let limits = [
        ("max_buffer_size", l.max_buffer_size),
        ("max_storage_buffer_binding_size", l.max_storage_buffer_binding_size),
        ("max_storage_buffers_per_shader_stage", l.max_storage_buffers_per_shader_stage as u64),
        ("max_compute_workgroup_storage_size", l.max_compute_workgroup_storage_size as u64),
        ("max_compute_invocations_per_workgroup", l.max_compute_invocations_per_workgroup as u64),
        ("max_compute_workgroups_per_dimension", l.max_compute_workgroups_per_dimension as u64),
        ("min_storage_buffer_offset_alignment", l.min_storage_buffer_offset_alignment as u64),
    ];
    let features: Vec<String> = gpu.features.iter_names().map(|(name, _)| name.to_string()).collect();
    if json {
        let mut report = super::json::adapter(&gpu);
        report["features"] = features.into();
        report["limits"] = limits.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(*v))).collect::<serde_json::Map<_, _>>().into();
        super::output::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Text::default();
    out.line(format_args!("adapter:  {}", info.name));
    out.line(format_args!("backend:  {:?}", info.backend));
    out.line(format_args!("type:     {:?}", info.device_type));
    out.line(format_args!("driver:   {} {}", info.driver, info.driver_info));
    let width = gpu.fixed_subgroup_width().map_or_else(|| "not fixed: no subgroup kernels".to_string(), |w| format!("fixed at {}", w.lanes()));
    out.line(format_args!("subgroups: {}..{} wide ({width})", info.subgroup_min_size, info.subgroup_max_size));
    out.line(format_args!("features: {}", if features.is_empty() { "(none of the optional ones)".to_string() } else { features.join(", ") }));
    out.line(format_args!("limits:"));
    for (name, value) in limits {
        out.line(format_args!("  {name:<40} {value}"));
    }
    out.print()?;
    Ok(ExitCode::SUCCESS)
}
