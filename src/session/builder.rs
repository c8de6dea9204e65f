//! Everything about a session beyond its model: preprocessing, adapter, tuning cache, limits.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Backend, Session};
use crate::cache_files;
use crate::engine::DEFAULT_CONTEXTS;
use crate::error::{Error, Result};
use crate::gpu::{AdapterChoice, DiskPipelineCache, Gpu, Pipelines, WeightPrecision};
use crate::models::{LoadOptions, ModelSource};
use crate::preprocess::Preprocess;
use crate::tune::{default_cache_path, TuneCache};

/// Which tuning cache a session applies.
#[derive(Clone, Debug, Default)]
enum CacheChoice {
    /// `GOOGLENET_TUNE_CACHE`, else the user cache folder (see `tune::default_cache_path`).
    #[default]
    Default,
    Path(PathBuf),
    /// None: every dispatch in its default variant.
    Off,
}

/// Where a session keeps compiled pipelines across processes.
#[derive(Clone, Debug, Default)]
enum PipelineCacheChoice {
    /// `GOOGLENET_PIPELINE_CACHE` (a folder, or `off` in any case; empty is unset), else beside
    /// the tuning cache.
    #[default]
    Default,
    Folder(PathBuf),
    Off,
}

/// Builds a [`Session`]: `Session::builder().model_file("googlenet.onnx").build()?`.
/// Unset, the session runs the built-in network on the adapter wgpu's environment variables
/// choose, with the default tuning cache, up to `DEFAULT_CONTEXTS` runs in flight, and batches
/// split only where the device's limits demand it.
#[derive(Debug, Default)]
pub struct SessionBuilder {
    source: Option<ModelSource>,
    load: LoadOptions,
    preprocess: Option<Preprocess>,
    adapter: Option<AdapterChoice>,
    device: Option<(wgpu::Device, wgpu::Queue)>,
    cache: CacheChoice,
    pipeline_cache: PipelineCacheChoice,
    max_batch: Option<usize>,
    max_contexts: Option<usize>,
    max_buffer_bytes: Option<u64>,
    cpu_fallback: bool,
    weights: WeightPrecision,
}

impl SessionBuilder {
    /// The network in a `.onnx` or `.safetensors` file.
    pub fn model_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.source = Some(ModelSource::File(path.into()));
        self
    }

    /// The network from any source, files' bytes included (e.g. a file picked in a browser).
    pub fn model(mut self, source: ModelSource) -> Self {
        self.source = Some(source);
        self
    }

    /// Built-in network: also compute the auxiliary classifiers (`loss1/prob`, `loss2/prob`).
    pub fn aux(mut self, aux: bool) -> Self {
        self.load.aux = aux;
        self
    }

    /// torchvision state dicts: map ImageNet-normalised input to [-1, 1] before conv1, as
    /// torchvision's pretrained GoogLeNet does (`transform_input=True`).
    pub fn transform_input(mut self, transform: bool) -> Self {
        self.load.transform_input = transform;
        self
    }

    /// How `classify` turns images into input, instead of the model format's default.
    pub fn preprocess(mut self, preprocess: Preprocess) -> Self {
        self.preprocess = Some(preprocess);
        self
    }

    /// The adapter to open (instead of the one `WGPU_ADAPTER_NAME` / `WGPU_POWER_PREF` choose).
    pub fn adapter(mut self, choice: AdapterChoice) -> Self {
        self.adapter = Some(choice);
        self
    }

    /// Runs on the application's own device and queue (see `Gpu::from_device`).
    pub fn device(mut self, device: wgpu::Device, queue: wgpu::Queue) -> Self {
        self.device = Some((device, queue));
        self
    }

    /// The tuning cache `googlenet tune` wrote, at `path` (see `TuneCache::load_or_default`).
    pub fn tune_cache(mut self, path: impl Into<PathBuf>) -> Self {
        self.cache = CacheChoice::Path(path.into());
        self
    }

    /// Applies no tuning cache: every dispatch runs its default variant.
    pub fn without_tune_cache(mut self) -> Self {
        self.cache = CacheChoice::Off;
        self
    }

    /// Keeps compiled pipelines in `folder` (where the adapter offers `PIPELINE_CACHE`), so
    /// that the next session on this adapter and driver starts without compiling them.
    pub fn pipeline_cache_dir(mut self, folder: impl Into<PathBuf>) -> Self {
        self.pipeline_cache = PipelineCacheChoice::Folder(folder.into());
        self
    }

    /// Compiles every pipeline afresh and keeps none on disk.
    pub fn without_pipeline_cache(mut self) -> Self {
        self.pipeline_cache = PipelineCacheChoice::Off;
        self
    }

    /// Where no adapter can be opened (no driver, or none matching the choice), runs the network
    /// on the CPU reference instead of failing; `Session::backend` says which it is.
    pub fn cpu_fallback(mut self, fallback: bool) -> Self {
        self.cpu_fallback = fallback;
        self
    }

    /// Runs batches larger than `images` as several sub-batches of at most that many.
    pub fn max_batch(mut self, images: usize) -> Self {
        self.max_batch = Some(images.max(1));
        self
    }

    /// At most `contexts` runs in flight per batch size (each holds its own activations);
    /// further callers wait for one to finish.
    pub fn max_contexts(mut self, contexts: usize) -> Self {
        self.max_contexts = Some(contexts.max(1));
        self
    }

    /// Keeps every buffer under `bytes` (below the device's own limits), splitting batches
    /// that would need more.
    pub fn max_buffer_bytes(mut self, bytes: u64) -> Self {
        self.max_buffer_bytes = Some(bytes);
        self
    }

    /// Holds conv weights in f16 (`WeightPrecision::F16`: half the weight memory; results
    /// change by the weights' rounding, see docs/PERFORMANCE.md) instead of f32. A model with a
    /// weight beyond f16's range is refused when its first plan is built.
    pub fn weight_precision(mut self, weights: WeightPrecision) -> Self {
        self.weights = weights;
        self
    }

    /// Loads the model, opens the device and reads the tuning cache (one that cannot be used,
    /// damaged or in a folder another user controls, is a warning: the session runs without it).
    pub fn build(self) -> Result<Session> {
        pollster::block_on(self.build_async())
    }

    /// As `build`, awaitable.
    pub async fn build_async(self) -> Result<Session> {
        let source = self.source.unwrap_or(ModelSource::Builtin);
        let format = source.format()?;
        let graph = source.load(self.load)?;
        let opened = match self.device {
            Some((device, queue)) => Ok(Gpu::from_device(device, queue)),
            None => match self.adapter {
                Some(choice) => Gpu::open(&choice).await,
                None => Gpu::open(&AdapterChoice::from_env()?).await,
            },
        };
        let (backend, cache, pipelines) = match opened {
            Ok(mut gpu) => {
                if let Some(bytes) = self.max_buffer_bytes {
                    let limits = &mut gpu.limits;
                    limits.max_buffer_size = limits.max_buffer_size.min(bytes);
                    limits.max_storage_buffer_binding_size = limits.max_storage_buffer_binding_size.min(bytes);
                }
                let (cache, pipelines) = caches(self.cache, self.pipeline_cache, &gpu);
                (Backend::Gpu(Arc::new(gpu)), cache, pipelines)
            }
            Err(e @ (Error::NoAdapter { .. } | Error::Device(_))) if self.cpu_fallback => {
                log::info!("running on the CPU reference: {e}");
                (Backend::CpuReference { why: e.to_string() }, TuneCache::default(), Pipelines::new())
            }
            Err(e) => return Err(e),
        };
        let preprocess = self.preprocess.unwrap_or(format.default_preprocess(graph.input_chw));
        Ok(Session::assemble(super::Setup {
            backend,
            graph,
            format,
            preprocess,
            cache,
            pipelines,
            max_batch: self.max_batch,
            max_contexts: self.max_contexts.unwrap_or(DEFAULT_CONTEXTS),
            weights: self.weights,
        }))
    }
}

/// The tuning cache `tune` chose, and the pipelines compiled through the disk cache
/// `pipeline_cache` chose (beside the tuning cache unless told otherwise). A browser has no file
/// system: there the defaults are no caches. A cache that cannot be used is a warning, never an
/// error: the session runs without it.
fn caches(tune: CacheChoice, pipeline_cache: PipelineCacheChoice, gpu: &Gpu) -> (TuneCache, Pipelines) {
    let no_files = cfg!(target_arch = "wasm32");
    let tune = if no_files && matches!(tune, CacheChoice::Default) { CacheChoice::Off } else { tune };
    let pipeline_cache = if no_files && matches!(pipeline_cache, PipelineCacheChoice::Default) { PipelineCacheChoice::Off } else { pipeline_cache };
    // The default place is looked up only where a cache goes there: a browser has none (the
    // lookup's last resort, `std::env::temp_dir`, panics there).
    let tune_path = match tune {
        CacheChoice::Path(path) => Some(path),
        CacheChoice::Default => Some(default_cache_path()),
        CacheChoice::Off => None,
    };
    let mut folders = CacheFolders {
        tune: tune_path.clone(),
        pipelines: match pipeline_cache {
            PipelineCacheChoice::Off => None,
            PipelineCacheChoice::Folder(folder) => Some(folder),
            PipelineCacheChoice::Default => match cache_files::env_value("GOOGLENET_PIPELINE_CACHE") {
                Some(value) if cache_files::is_off(&value) => None,
                Some(folder) => Some(PathBuf::from(folder)),
                None => Some(cache_files::folder_of(&tune_path.unwrap_or_else(default_cache_path)).to_path_buf()),
            },
        },
    };
    folders.drop_untrusted();
    let cache = folders.tune.as_deref().map_or_else(TuneCache::default, TuneCache::load_or_default);
    (cache, Pipelines::with_disk_cache(folders.pipelines.and_then(|folder| DiskPipelineCache::open(gpu, &folder))))
}

/// The caches a session uses: the tuning cache file, the pipeline cache folder.
struct CacheFolders {
    tune: Option<PathBuf>,
    pipelines: Option<PathBuf>,
}

impl CacheFolders {
    /// Goes without each cache whose folder another user controls (`cache_files::check_folder`),
    /// saying so in one warning per folder, whichever caches it holds.
    fn drop_untrusted(&mut self) {
        let tune_folder = self.tune.as_deref().map(|path| cache_files::folder_of(path).to_path_buf());
        let mut folders: Vec<PathBuf> = tune_folder.iter().chain(&self.pipelines).cloned().collect();
        folders.dedup();
        for folder in folders {
            let Err(why) = cache_files::check_folder(&folder) else { continue };
            let (tune, pipelines) = (tune_folder.as_ref() == Some(&folder), self.pipelines.as_ref() == Some(&folder));
            let what = match (tune, pipelines) {
                (true, true) => "the tuning and pipeline caches",
                (true, false) => "the tuning cache",
                _ => "the pipeline cache",
            };
            log::warn!("running without {what}: {why} (a cache folder must belong to this user, and no one else may write to it)");
            if tune {
                self.tune = None;
            }
            if pipelines {
                self.pipelines = None;
            }
        }
    }
}
