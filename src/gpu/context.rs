//! The GPU context: adapter choice (honouring wgpu's environment variables), optional features,
//! and the adapter's own limits rather than wgpu's conservative defaults.

use super::SubgroupWidth;
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

/// One device and its queue, with what the engine plans against: the adapter's description,
/// the optional features enabled, and the limits (the adapter's own, or lower ones a session set).
pub struct Gpu {
    /// The wgpu device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// The adapter: name, backend, driver, subgroup sizes.
    pub info: wgpu::AdapterInfo,
    /// The optional features enabled on the device.
    pub features: wgpu::Features,
    /// The limits plans are checked against.
    pub limits: wgpu::Limits,
    /// The first GPU error a browser reported after `checked` returned (see there).
    deferred: DeferredError,
}

/// Where a browser's answer to an error scope lands: it can only arrive through the event loop.
type DeferredError = std::sync::Arc<std::sync::Mutex<Option<Error>>>;

impl Gpu {
    /// Opens the adapter that `WGPU_BACKEND`, `WGPU_ADAPTER_NAME` and `WGPU_POWER_PREF` select,
    /// or the default one.
    pub fn new() -> Result<Self> {
        pollster::block_on(Self::open(&AdapterChoice::from_env()?))
    }

    /// Opens the adapter `choice` names (awaitable: what a browser build needs).
    pub async fn open(choice: &AdapterChoice) -> Result<Self> {
        check_backend_variable()?;
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = choose_adapter(&instance, choice).await?;
        let features = adapter.features() & wanted_features();
        let limits = match choice.limits {
            LimitsChoice::Adapter => adapter.limits(),
            LimitsChoice::WebGpuDefaults => wgpu::Limits::default(),
        };
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
        Ok(Gpu { device, queue, info: adapter.get_info(), features, limits, deferred: DeferredError::default() })
    }

    /// An application's own device and queue: the engine uses the features and limits the
    /// device was created with (request `SUBGROUP` and the adapter's limits for the fastest
    /// kernels).
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        Gpu { info: device.adapter_info(), features: device.features(), limits: device.limits(), device, queue, deferred: DeferredError::default() }
    }

    /// Whether a buffer of `bytes` is within `max_buffer_size` and
    /// `max_storage_buffer_binding_size`; the error names `what`.
    pub fn check_buffer_size(&self, what: &str, bytes: u64) -> Result<()> {
        let limits = [
            (self.limits.max_buffer_size, "max_buffer_size"),
            (self.limits.max_storage_buffer_binding_size, "max_storage_buffer_binding_size"),
        ];
        for (limit, limit_name) in limits {
            if bytes > limit {
                return Err(Error::OverLimit { what: what.to_string(), needed: bytes, limit, limit_name });
            }
        }
        Ok(())
    }

    /// Runs `work`, turning any wgpu validation or out-of-memory error it raises into an error
    /// that names `context` (wgpu would otherwise panic on an uncaptured error).
    ///
    /// In a browser the answer arrives only through the event loop, which cannot run while this
    /// waits: there `work`'s error is kept and returned by the next [`Gpu::deferred_error`],
    /// which every run checks once its outputs have arrived (after the device has answered
    /// everything asked before them).
    pub fn checked<T>(&self, context: &str, work: impl FnOnce() -> T) -> Result<T> {
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = work();
        // Popping takes effect at once; only the answers are futures.
        let (validation, out_of_memory, context) = (validation.pop(), out_of_memory.pop(), context.to_string());
        let errors = async move {
            let (validation, out_of_memory) = (validation.await, out_of_memory.await);
            validation.or(out_of_memory).map(|e| Error::Gpu { context, message: e.to_string() })
        };
        #[cfg(not(target_arch = "wasm32"))]
        return match pollster::block_on(errors) {
            Some(e) => Err(e),
            None => Ok(value),
        };
        #[cfg(target_arch = "wasm32")]
        {
            let deferred = std::sync::Arc::clone(&self.deferred);
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(e) = errors.await {
                    deferred.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get_or_insert(e);
                }
            });
            Ok(value)
        }
    }

    /// The first GPU error reported since the last call, from work `checked` let through before
    /// the device answered (only in a browser; elsewhere `checked` waits for the answer).
    pub fn deferred_error(&self) -> Result<()> {
        match self.deferred.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The subgroup width every compute subgroup has here, if subgroup operations are
    /// available and the width is fixed at one the subgroup kernels are written for. An adapter
    /// that reports a range (min < max) may pick any width in it per pipeline, and wgpu cannot ask
    /// for one: the subgroup kernels are not offered there.
    pub fn fixed_subgroup_width(&self) -> Option<SubgroupWidth> {
        let (min, max) = (self.info.subgroup_min_size, self.info.subgroup_max_size);
        if !self.features.contains(wgpu::Features::SUBGROUP) || min != max {
            return None;
        }
        SubgroupWidth::ALL.into_iter().find(|width| width.lanes() == min)
    }

    /// One line naming the adapter, for reports.
    pub fn describe(&self) -> String {
        let info = &self.info;
        format!("{} ({:?}, {:?}, driver {} {})", info.name, info.backend, info.device_type, info.driver, info.driver_info)
    }
}

/// Which adapter to open: by a substring of its name, else by power preference, else the
/// default; and which limits to ask its device for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdapterChoice {
    /// A case-insensitive substring of the adapter's name.
    pub name: Option<String>,
    /// Low power or high performance, where there are several adapters.
    pub power: Option<wgpu::PowerPreference>,
    /// The device's limits.
    pub limits: LimitsChoice,
}

/// Which limits the engine asks the device for, and plans against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LimitsChoice {
    /// Everything the adapter offers: the largest buffers, so the fewest sub-batches.
    #[default]
    Adapter,
    /// WebGPU's defaults (`wgpu::Limits::default()`: 8 storage buffers per stage, 128 MiB per
    /// binding, 16 KiB of workgroup memory, 256 invocations per workgroup), what a browser grants
    /// unless asked for more: a run with them shows the engine runs there.
    WebGpuDefaults,
}

impl AdapterChoice {
    /// `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF` (`low`, `high` or `none`) and `GOOGLENET_LIMITS`
    /// (`adapter` or `webgpu`); a value that is not one of those is an error naming the variable.
    pub fn from_env() -> Result<Self> {
        let limits = match std::env::var("GOOGLENET_LIMITS").as_deref() {
            Err(_) | Ok("adapter") => LimitsChoice::Adapter,
            Ok("webgpu") => LimitsChoice::WebGpuDefaults,
            Ok(other) => return Err(Error::NoAdapter { detail: format!(": GOOGLENET_LIMITS={other:?} is not `adapter` or `webgpu`") }),
        };
        let power = match std::env::var("WGPU_POWER_PREF") {
            Err(_) => None,
            Ok(value) => Some(match value.to_lowercase().as_str() {
                "low" => wgpu::PowerPreference::LowPower,
                "high" => wgpu::PowerPreference::HighPerformance,
                "none" => wgpu::PowerPreference::None,
                _ => return Err(Error::NoAdapter { detail: format!(": WGPU_POWER_PREF={value:?} is not `low`, `high` or `none`") }),
            }),
        };
        Ok(AdapterChoice { name: std::env::var("WGPU_ADAPTER_NAME").ok(), power, limits })
    }
}

/// wgpu ignores a backend name it does not know in `WGPU_BACKEND`; a typo should not silently
/// pick another backend.
fn check_backend_variable() -> Result<()> {
    const NAMES: [&str; 14] = ["vulkan", "vk", "dx12", "d3d12", "metal", "mtl", "opengl", "gles", "gl", "webgpu", "browser_webgpu", "primary", "secondary", "noop"];
    let Ok(value) = std::env::var("WGPU_BACKEND") else { return Ok(()) };
    match value.split(',').map(|n| n.trim().to_lowercase()).find(|n| !NAMES.contains(&n.as_str())) {
        None => Ok(()),
        Some(bad) => Err(Error::NoAdapter { detail: format!(": WGPU_BACKEND={value:?} names `{bad}`, which is none of {}", NAMES.join(", ")) }),
    }
}

/// What to do where no adapter at all was found.
fn install_a_driver() -> String {
    let advice = "On Linux install a Vulkan driver, e.g. Debian's `apt-get install mesa-vulkan-drivers` (software Vulkan, lavapipe), or your GPU vendor's driver";
    match std::env::var("WGPU_BACKEND") {
        Ok(value) => format!("{advice}; or unset WGPU_BACKEND={value:?}, which limits the search to those backends"),
        Err(_) => advice.to_string(),
    }
}

/// Each adapter's name and backend, an adapter present twice once with its count.
fn adapter_list(adapters: &[wgpu::Adapter]) -> String {
    let mut listed: Vec<(String, usize)> = Vec::new();
    for info in adapters.iter().map(wgpu::Adapter::get_info) {
        let name = format!("{:?} on {:?}", info.name, info.backend);
        match listed.iter_mut().find(|(listed, _)| *listed == name) {
            Some((_, count)) => *count += 1,
            None => listed.push((name, 1)),
        }
    }
    let named: Vec<String> = listed.into_iter().map(|(name, count)| if count > 1 { format!("{name} ({count} of them)") } else { name }).collect();
    named.join(", ")
}

async fn choose_adapter(instance: &wgpu::Instance, choice: &AdapterChoice) -> Result<wgpu::Adapter> {
    if let Some(wanted) = &choice.name {
        let mut adapters = instance.enumerate_adapters(wgpu::Backends::all()).await;
        if let Some(index) = adapters.iter().position(|a| a.get_info().name.to_lowercase().contains(&wanted.to_lowercase())) {
            return Ok(adapters.swap_remove(index));
        }
        let detail = if adapters.is_empty() {
            format!(" named like {wanted:?}, nor any other. {}", install_a_driver())
        } else {
            let present = adapter_list(&adapters);
            format!(" named like {wanted:?} (WGPU_ADAPTER_NAME). Present: {present}; give a part of one of these names (any case), or unset WGPU_ADAPTER_NAME")
        };
        return Err(Error::NoAdapter { detail });
    }
    instance
        .request_adapter(&wgpu::RequestAdapterOptions { power_preference: choice.power.unwrap_or_default(), ..Default::default() })
        .await
        .map_err(|e| Error::NoAdapter { detail: format!(" ({e}). {}", install_a_driver()) })
}
