//! Kernel variants chosen per adapter: each dispatch that has variants is timed in every one,
//! the fastest is kept in a cache file keyed by adapter and driver, and later runs take the
//! cached choice without timing. With no entry the default variant runs (the safe choice).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bench::{time_engine, time_kernel};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Pipelines};
use crate::graph::Graph;
use crate::plan::{Plan, PlanOptions};
use crate::rng::Rng;

/// Per adapter: the chosen variant name by kernel shape, and whether the inception pools run as
/// their own dispatches (`PlanOptions::separate_pools`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TuneCache {
    pub adapters: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub separate_pools: BTreeMap<String, bool>,
}

/// The cache's key for this adapter: its name and driver, so a driver update re-tunes.
pub fn adapter_key(gpu: &Gpu) -> String {
    let info = &gpu.info;
    format!("{} | {:?} | {} {}", info.name, info.backend, info.driver, info.driver_info)
}

/// `GOOGLENET_TUNE_CACHE`, else `$XDG_CACHE_HOME/googlenet/tune.json`, else
/// `~/.cache/googlenet/tune.json`.
pub fn default_cache_path() -> PathBuf {
    if let Some(path) = std::env::var_os("GOOGLENET_TUNE_CACHE") {
        return PathBuf::from(path);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("googlenet").join("tune.json")
}

impl TuneCache {
    /// The cache at `path`; an absent file is an empty cache, an unreadable one an error.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TuneCache::default()),
            Err(e) => Err(Error::file(path, format!("cannot read the tuning cache: {e}"))),
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::file(path, format!("not a tuning cache ({e}); delete it to re-tune"))),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, serde_json::to_string_pretty(self).expect("the cache serialises"))
        };
        write().map_err(|e| Error::file(path, format!("cannot write the tuning cache: {e}")))
    }
}

/// One tuned dispatch: its shape, each variant's median time, the choice.
#[derive(Clone, Debug, Serialize)]
pub struct Tuned {
    pub dispatch: usize,
    pub shape: String,
    pub times_ms: Vec<(String, f64)>,
    pub chosen: String,
}

/// Times every variant of every dispatch that has several, keeps the fastest in the plan and in
/// `cache` (under this adapter's key).
pub fn tune(gpu: &Gpu, pipelines: &Pipelines, plan: &mut Plan, cache: &mut TuneCache, iters: usize) -> Result<Vec<Tuned>> {
    let choices = cache.adapters.entry(adapter_key(gpu)).or_default();
    let mut tuned = Vec::new();
    for (d, dispatch) in plan.dispatches.iter_mut().enumerate() {
        let variants: Vec<_> = dispatch.kernel.variants().into_iter().filter(|v| v.runs_on(gpu)).collect();
        if variants.len() < 2 {
            continue;
        }
        let mut times = Vec::with_capacity(variants.len());
        for variant in &variants {
            times.push((variant.variant_name().to_string(), time_kernel(gpu, pipelines, variant.as_ref(), iters)?));
        }
        let best = (0..times.len()).min_by(|&a, &b| times[a].1.total_cmp(&times[b].1)).expect("at least two variants");
        let shape = dispatch.kernel.describe();
        choices.insert(shape.clone(), times[best].0.clone());
        dispatch.kernel = variants.into_iter().nth(best).expect("best is an index of variants");
        tuned.push(Tuned { dispatch: d, shape, chosen: times[best].0.clone(), times_ms: times });
    }
    Ok(tuned)
}

/// Applies the cached choices for this adapter to the plan; dispatches without one keep their
/// default. Returns how many dispatches took a cached choice.
pub fn apply(gpu: &Gpu, plan: &mut Plan, cache: &TuneCache) -> usize {
    let Some(choices) = cache.adapters.get(&adapter_key(gpu)) else {
        return 0;
    };
    let mut applied = 0;
    for dispatch in &mut plan.dispatches {
        let Some(name) = choices.get(&dispatch.kernel.describe()) else { continue };
        if let Some(variant) = dispatch.kernel.variants().into_iter().find(|v| v.variant_name() == name && v.runs_on(gpu)) {
            dispatch.kernel = variant;
            applied += 1;
        }
    }
    applied
}

/// The plan for `options` with this adapter's cached choices: how the pools run, and each
/// dispatch's variant. Without a cache entry, `options` and the default variants as they are.
pub fn tuned_plan(gpu: &Gpu, graph: &Graph, batch: usize, options: &PlanOptions, cache: &TuneCache) -> Result<Plan> {
    let separate_pools = cache.separate_pools.get(&adapter_key(gpu)).copied().unwrap_or(options.separate_pools);
    let mut plan = Plan::build(graph, batch, &PlanOptions { separate_pools, ..options.clone() })?;
    apply(gpu, &mut plan, cache);
    Ok(plan)
}

/// A plan tuned dispatch by dispatch, then timed whole.
pub struct TunedPlan {
    pub plan: Plan,
    pub dispatches: Vec<Tuned>,
    /// Median end-to-end milliseconds of a run.
    pub ms: f64,
}

/// Both ways of running the inception pools.
pub struct NetworkTuning {
    pub fused: TunedPlan,
    pub separate: TunedPlan,
}

impl NetworkTuning {
    pub fn separate_pools_win(&self) -> bool {
        self.separate.ms < self.fused.ms
    }

    pub fn chosen(&self) -> &TunedPlan {
        if self.separate_pools_win() { &self.separate } else { &self.fused }
    }
}

/// Tunes the network's plan (with `options`) both with pools fused into their projection convs
/// and with separate pool dispatches, and keeps the faster way in `cache`.
pub fn tune_network(gpu: &Gpu, pipelines: &Pipelines, graph: &Graph, batch: usize, options: &PlanOptions, cache: &mut TuneCache, iters: usize) -> Result<NetworkTuning> {
    let [c, h, w] = graph.input_chw;
    let input = Rng::new(5).symmetric_vec(batch * c * h * w);
    let mut tune_whole = |separate_pools: bool| -> Result<TunedPlan> {
        let mut plan = Plan::build(graph, batch, &PlanOptions { separate_pools, ..options.clone() })?;
        let dispatches = tune(gpu, pipelines, &mut plan, cache, iters)?;
        let engine = Engine::new(gpu, pipelines, plan)?;
        let ms = time_engine(&engine, &input, iters)?;
        Ok(TunedPlan { plan: engine.into_plan(), dispatches, ms })
    };
    let tuning = NetworkTuning { fused: tune_whole(false)?, separate: tune_whole(true)? };
    cache.separate_pools.insert(adapter_key(gpu), tuning.separate_pools_win());
    Ok(tuning)
}
