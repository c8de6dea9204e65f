//! The GPU context: adapter choice (honouring wgpu's environment variables), optional features,
//! and the adapter's own limits rather than wgpu's conservative defaults.

use crate::error::{Error, Result};

/// Optional features the engine uses when the adapter offers them; none is required.
fn wanted_features() -> wgpu::Features {
    wgpu::Features::TIMESTAMP_QUERY
        | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS
        | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES
        | wgpu::Features::SHADER_F16
        | wgpu::Features::SUBGROUP
        | wgpu::Features::PIPELINE_CACHE
}

pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub features: wgpu::Features,
    pub limits: wgpu::Limits,
}

impl Gpu {
    /// Opens the adapter that `WGPU_BACKEND`, `WGPU_ADAPTER_NAME` and `WGPU_POWER_PREF` select,
    /// or the default one.
    pub fn new() -> Result<Self> {
        pollster::block_on(Self::open())
    }

    async fn open() -> Result<Self> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = choose_adapter(&instance).await?;
        let features = adapter.features() & wanted_features();
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("googlenet"),
                required_features: features,
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::Device(e.to_string()))?;
        Ok(Gpu { device, queue, info: adapter.get_info(), features, limits })
    }

    /// Runs `work`, turning any wgpu validation or out-of-memory error it raises into an error
    /// that names `context` (wgpu would otherwise panic on an uncaptured error).
    pub fn checked<T>(&self, context: &str, work: impl FnOnce() -> T) -> Result<T> {
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = work();
        let errors = pollster::block_on(async { (validation.pop().await, out_of_memory.pop().await) });
        match errors {
            (Some(e), _) | (None, Some(e)) => {
                Err(Error::Gpu { context: context.to_string(), message: e.to_string() })
            }
            (None, None) => Ok(value),
        }
    }

    /// Whether subgroup operations are available and every subgroup is exactly `width` wide.
    pub fn has_subgroups_of(&self, width: u32) -> bool {
        self.features.contains(wgpu::Features::SUBGROUP) && self.info.subgroup_min_size == width && self.info.subgroup_max_size == width
    }

    /// One line naming the adapter, for reports.
    pub fn describe(&self) -> String {
        let info = &self.info;
        format!("{} ({:?}, {:?}, driver {} {})", info.name, info.backend, info.device_type, info.driver, info.driver_info)
    }
}

async fn choose_adapter(instance: &wgpu::Instance) -> Result<wgpu::Adapter> {
    if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
        let adapters = instance.enumerate_adapters(wgpu::Backends::all()).await;
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&wanted.to_lowercase()))
            .ok_or_else(|| Error::NoAdapter {
                detail: format!(" named like WGPU_ADAPTER_NAME={wanted:?} (adapters present: {names:?})"),
            });
    }
    instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::from_env().unwrap_or_default(),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::NoAdapter { detail: format!(" ({e})") })
}
