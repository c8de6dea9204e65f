//! Kernel variants chosen per adapter: each dispatch that has variants is timed in every one and
//! the whole network in each plan choice; the fastest plan, where it beats the adapter's
//! defaults beyond the noise (else the defaults), is kept in a cache file keyed by adapter and
//! driver, and later runs take the cached choice without timing. With no entry the default
//! variant runs (the safe choice).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::bench::{time_engine, KernelTimer};
use crate::cache_files;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::files::{read_capped, FileKind};
use crate::gpu::{Gpu, Pipelines};
use crate::graph::Graph;
use crate::ops::{Kernel, KernelKey, WinogradTile};
use crate::plan::{PlanTarget, Plan, PlanOptions};
use crate::rng::Rng;

/// Per adapter: the chosen variant of each tuned dispatch, and the plan-level choices.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TuneCache {
    /// The cache format; a file in another one is not applied (see `TuneCache::parse`).
    pub format: u32,
    pub adapters: BTreeMap<String, Vec<TunedVariant>>,
    #[serde(default)]
    pub plans: BTreeMap<String, PlanChoice>,
}

impl Default for TuneCache {
    fn default() -> Self {
        TuneCache { format: CACHE_FORMAT, adapters: BTreeMap::new(), plans: BTreeMap::new() }
    }
}

/// The cache file's format: 3 names the Winograd tile of a plan choice (2 had a flag for
/// F(2x2, 3x3); 1 keyed choices by description strings).
pub const CACHE_FORMAT: u32 = 3;

/// One dispatch's tuned variant: its key, and the name of the variant chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunedVariant {
    pub key: KernelKey,
    pub variant: String,
}

/// How the network is planned, beyond each dispatch's variant: the tuner times the whole
/// network each way (see `PlanOptions`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChoice {
    pub separate_pools: bool,
    pub winograd: Option<WinogradTile>,
    /// Absent from caches written before split-K: those plans did not split.
    #[serde(default)]
    pub split_k: bool,
}

impl PlanChoice {
    /// Every choice of pools and 3x3 convs, none splitting convs along K.
    pub const ALL: [PlanChoice; 6] = {
        const fn choice(separate_pools: bool, winograd: Option<WinogradTile>) -> PlanChoice {
            PlanChoice { separate_pools, winograd, split_k: false }
        }
        [
            choice(false, None),
            choice(true, None),
            choice(false, Some(WinogradTile::F2)),
            choice(true, Some(WinogradTile::F2)),
            choice(false, Some(WinogradTile::F4)),
            choice(true, Some(WinogradTile::F4)),
        ]
    };

    /// The choices `tune` times on `gpu`: `ALL`, and on a GPU each of them with convs split
    /// along K too. A CPU-like adapter has a few cores, which every conv dispatch already
    /// fills, so there splitting only adds the sums (docs/PERFORMANCE.md measures it).
    pub fn candidates(gpu: &Gpu) -> Vec<PlanChoice> {
        let split = Self::ALL.map(|choice| PlanChoice { split_k: true, ..choice });
        let split = if is_cpu_like(gpu) { &[][..] } else { &split[..] };
        Self::ALL.iter().chain(split).copied().collect()
    }

    /// `options` with this choice's pools and 3x3 convs; convs are split along K where the
    /// choice or `options` asks for it (so a caller can time a split plan against a tuned one).
    pub fn options(self, options: &PlanOptions) -> PlanOptions {
        PlanOptions { separate_pools: self.separate_pools, winograd: self.winograd, split_k: self.split_k || options.split_k, ..options.clone() }
    }

    pub fn describe(self) -> String {
        let pools = if self.separate_pools { "separate pools" } else { "pools inside the 1x1 convs" };
        let convs = match self.winograd {
            None => "direct 3x3 convs",
            Some(WinogradTile::F2) => "Winograd F(2x2, 3x3) convs",
            Some(WinogradTile::F4) => "Winograd F(4x4, 3x3) convs",
        };
        let split = if self.split_k { ", small convs split along K" } else { "" };
        format!("{pools}, {convs}{split}")
    }
}

/// The cache's key for this adapter: its name and driver, so a driver update re-tunes.
pub fn adapter_key(gpu: &Gpu) -> String {
    let info = &gpu.info;
    format!("{} | {:?} | {} {}", info.name, info.backend, info.driver, info.driver_info)
}

/// `GOOGLENET_TUNE_CACHE` (an empty value is unset), else `tune.json` in the default cache
/// folder (`cache_files::default_folder`).
pub fn default_cache_path() -> PathBuf {
    cache_files::env_value("GOOGLENET_TUNE_CACHE").map_or_else(|| cache_files::default_folder().join("tune.json"), PathBuf::from)
}

/// A cache holds a few lines per kernel shape and adapter: far below this.
pub const MAX_CACHE_BYTES: u64 = FileKind::TuneCache.max_bytes();

impl TuneCache {
    /// The cache at `path`; an absent file is an empty cache. A file that cannot be used is an
    /// error saying why: unreadable, not a regular file, larger than `MAX_CACHE_BYTES` (refused
    /// unread), not a tuning cache, or in a folder or file another user controls
    /// (`cache_files::check_folder`). A session takes such a file as a warning
    /// (`load_or_default`).
    pub fn load(path: &Path) -> Result<Self> {
        if matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
            return Ok(TuneCache::default());
        }
        cache_files::check_folder(cache_files::folder_of(path))
            .and_then(|()| cache_files::check_file(path))
            .map_err(|why| Error::file(path, why))?;
        let bytes = read_capped(path, FileKind::TuneCache).map_err(|e| match e {
            Error::TooLarge { .. } => Error::file(path, format!("larger than a tuning cache can be ({MAX_CACHE_BYTES} bytes)")),
            other => other,
        })?;
        Self::parse(&bytes, path)
    }

    /// The cache at `path` as a session applies it: one `load` refuses is a warning, and the
    /// session runs with the adapter's defaults until `googlenet tune` replaces the file.
    pub fn load_or_default(path: &Path) -> Self {
        Self::load(path).unwrap_or_else(|e| {
            log::warn!("not applying the tuning cache ({e}); running with the adapter's defaults until `googlenet tune` replaces it");
            TuneCache::default()
        })
    }

    /// Whether `tune` has run for this adapter and driver.
    pub fn has_entry(&self, gpu: &Gpu) -> bool {
        self.plans.contains_key(&adapter_key(gpu))
    }

    /// A cache from the bytes of its file; `path` names it in errors. A cache in another format
    /// is not applied (an empty cache, with a warning): `googlenet tune` rewrites it.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let not_a_cache = |e: serde_json::Error| Error::file(path, format!("not a tuning cache ({e})"));
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(not_a_cache)?;
        let format = value.get("format").and_then(serde_json::Value::as_u64);
        if value.is_object() && format != Some(u64::from(CACHE_FORMAT)) {
            log::warn!("the tuning cache {} is from another version of the engine and is not applied; `googlenet tune` rewrites it", path.display());
            return Ok(TuneCache::default());
        }
        serde_json::from_value(value).map_err(not_a_cache)
    }

    /// Writes the cache to `path`, replacing what is there: compact JSON, refused if larger than
    /// a reader takes (`MAX_CACHE_BYTES`), through a temporary file and a rename
    /// (`cache_files::replace_file`), in a folder made private to this user where it is
    /// missing. A folder or file another user controls is refused.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec(self).expect("the cache serialises");
        if bytes.len() as u64 > MAX_CACHE_BYTES {
            let why = format!("the tuning cache would take {} bytes, more than a reader takes ({MAX_CACHE_BYTES}); delete the entries of adapters no longer in use, or the file", bytes.len());
            return Err(Error::file(path, why));
        }
        Self::writable(path)?;
        cache_files::replace_file(path, &bytes).map_err(|e| Error::file(path, format!("cannot write the tuning cache: {e}")))
    }

    /// Merges this cache (one `tune` run's results) into the file at `path`: with the file
    /// locked against other writers, it is read again, each choice here replaces the one at the
    /// same adapter and key, the rest is kept, and the result is saved (`save`). Two `tune` runs
    /// on one file so keep both their results. A file that cannot be used is replaced, with a
    /// warning.
    pub fn save_merged(&self, path: &Path) -> Result<()> {
        Self::writable(path)?;
        let _lock = cache_files::FileLock::acquire(path).map_err(|e| Error::file(path, format!("cannot lock the tuning cache: {e}")))?;
        let mut merged = Self::load(path).unwrap_or_else(|e| {
            log::warn!("replacing the tuning cache: {e}");
            TuneCache::default()
        });
        merged.merge(self);
        merged.save(path)
    }

    /// Makes the folder of `path` where it is missing; refuses a folder or file another user
    /// controls.
    fn writable(path: &Path) -> Result<()> {
        let folder = cache_files::folder_of(path);
        cache_files::create_private_folder(folder).map_err(|e| Error::file(path, format!("cannot make the folder of the tuning cache: {e}")))?;
        cache_files::check_folder(folder)
            .and_then(|()| cache_files::check_file(path))
            .map_err(|why| Error::file(path, format!("refusing to write the tuning cache: {why}")))
    }

    /// `newer`'s plan choices and variants over this cache's, adapter by adapter and key by key.
    fn merge(&mut self, newer: &TuneCache) {
        self.plans.extend(newer.plans.iter().map(|(adapter, choice)| (adapter.clone(), *choice)));
        for (adapter, variants) in &newer.adapters {
            let choices = self.adapters.entry(adapter.clone()).or_default();
            for variant in variants {
                remember(choices, variant.clone());
            }
        }
    }
}

/// `variant` in `choices`, in place of any earlier choice for its key.
fn remember(choices: &mut Vec<TunedVariant>, variant: TunedVariant) {
    choices.retain(|c| c.key != variant.key);
    choices.push(variant);
}

/// One tuned dispatch: its shape, each variant's time (fastest run), the choice.
#[derive(Clone, Debug, Serialize)]
pub struct Tuned {
    pub dispatch: usize,
    pub shape: String,
    pub times_ms: Vec<(String, f64)>,
    pub chosen: String,
}

/// Called after each step of tuning (a dispatch's variants timed, a round of whole plans timed),
/// for progress reports.
pub type OnStep<'a> = &'a mut dyn FnMut();

/// The variants of a dispatch `gpu` runs.
fn runnable_variants(gpu: &Gpu, kernel: &dyn Kernel) -> Vec<Box<dyn Kernel>> {
    kernel.variants().into_iter().filter(|v| v.runs_on(gpu)).collect()
}

/// How many steps `tune` takes on `plan`: its dispatches with more than one variant here.
pub fn tune_steps(gpu: &Gpu, plan: &Plan) -> usize {
    plan.dispatches.iter().filter(|d| runnable_variants(gpu, d.kernel.as_ref()).len() > 1).count()
}

/// How many steps `tune_network` takes: `tune` on each plan choice, `iters` rounds, then the
/// check against the defaults.
pub fn tune_network_steps(gpu: &Gpu, graph: &Graph, batch: usize, options: &PlanOptions, iters: usize) -> Result<usize> {
    let options = &for_adapter(gpu, options);
    let mut steps = iters.max(1) + check_rounds(iters);
    for choice in PlanChoice::candidates(gpu) {
        steps += tune_steps(gpu, &Plan::build(graph, batch, &choice.options(options))?);
    }
    Ok(steps)
}

/// A variant this many times slower than the fastest so far after one run is not timed further.
const HOPELESS: f64 = 2.0;

/// Times every variant of every dispatch that has several, keeps the fastest in the plan and in
/// `cache` (under this adapter's key). Each variant runs once first; one over `HOPELESS` times the
/// fastest so far keeps that time, the others are timed `iters` times. On a CPU-like adapter the
/// variants that usually win there go first, so the GPU-style ones (5-10x slower) are cut early.
pub fn tune(gpu: &Gpu, pipelines: &Pipelines, plan: &mut Plan, cache: &mut TuneCache, iters: usize, on_step: OnStep) -> Result<Vec<Tuned>> {
    let choices = cache.adapters.entry(adapter_key(gpu)).or_default();
    let mut tuned = Vec::new();
    for (d, dispatch) in plan.dispatches.iter_mut().enumerate() {
        let mut variants = runnable_variants(gpu, dispatch.kernel.as_ref());
        if variants.len() < 2 {
            continue;
        }
        if is_cpu_like(gpu) {
            variants.sort_by_key(|v| std::cmp::Reverse(v.cpu_preference()));
        }
        let mut times: Vec<(String, f64)> = Vec::with_capacity(variants.len());
        for variant in &variants {
            let fastest = times.iter().map(|(_, ms)| *ms).fold(f64::INFINITY, f64::min);
            let timer = KernelTimer::new(gpu, pipelines, variant.as_ref())?;
            let once = timer.fastest_ms(gpu, 1)?;
            let ms = if once > HOPELESS * fastest { once } else { once.min(timer.fastest_ms(gpu, iters)?) };
            times.push((variant.variant_name().to_string(), ms));
        }
        let best = (0..times.len()).min_by(|&a, &b| times[a].1.total_cmp(&times[b].1)).expect("at least two variants");
        let shape = dispatch.kernel.describe();
        if let Some(key) = dispatch.kernel.tuning_key() {
            remember(choices, TunedVariant { key, variant: times[best].0.clone() });
        }
        dispatch.kernel = variants.into_iter().nth(best).expect("best is an index of variants");
        tuned.push(Tuned { dispatch: d, shape, chosen: times[best].0.clone(), times_ms: times });
        on_step();
    }
    Ok(tuned)
}

/// Applies the cached choices for this adapter to the plan: for each dispatch the choice made at
/// its shape, else at the same shape with another batch size (a batch never tuned takes the
/// layer's choice at a tuned one); dispatches without either keep their default. Returns how
/// many dispatches took a cached choice.
pub fn apply(gpu: &Gpu, plan: &mut Plan, cache: &TuneCache) -> usize {
    let Some(choices) = cache.adapters.get(&adapter_key(gpu)) else {
        return 0;
    };
    let mut applied = 0;
    for dispatch in &mut plan.dispatches {
        let Some(key) = dispatch.kernel.tuning_key() else { continue };
        let this_batch = choices.iter().find(|c| c.key == key);
        let other_batch = || choices.iter().find(|c| c.key.same_but_batch(&key));
        let Some(TunedVariant { variant: name, .. }) = this_batch.or_else(other_batch) else { continue };
        if let Some(variant) = dispatch.kernel.variants().into_iter().find(|v| v.variant_name() == name && v.runs_on(gpu)) {
            dispatch.kernel = variant;
            applied += 1;
        }
    }
    applied
}

/// Whether the adapter runs on the CPU (lavapipe, SwiftShader), where workgroup memory and
/// barriers cost more than they save.
fn is_cpu_like(gpu: &Gpu) -> bool {
    gpu.info.device_type == wgpu::DeviceType::Cpu
}

/// The kind of plan `gpu` gets: the one `options` names, else the adapter's own kind.
fn target(gpu: &Gpu, options: &PlanOptions) -> PlanTarget {
    options.target.unwrap_or(if is_cpu_like(gpu) { PlanTarget::CpuLike } else { PlanTarget::Gpu })
}

/// `options` for planning on `gpu`: its kind of plan and its binding limit, where `options`
/// leaves them open.
fn for_adapter(gpu: &Gpu, options: &PlanOptions) -> PlanOptions {
    let binding_limit = gpu.limits.max_storage_buffer_binding_size.min(gpu.limits.max_buffer_size);
    PlanOptions { target: Some(target(gpu, options)), max_binding_bytes: options.max_binding_bytes.or(Some(binding_limit)), ..options.clone() }
}

/// The plan-level choice for an adapter with no cache entry: for a CPU-like one what `tune`
/// picks on lavapipe and SwiftShader (pools as their own dispatches, 3x3 convs by Winograd with
/// tiles up to F(4x4, 3x3)), else the one `options` asks for.
pub fn default_choice(gpu: &Gpu, options: &PlanOptions) -> PlanChoice {
    match target(gpu, options) {
        PlanTarget::CpuLike => PlanChoice { separate_pools: true, winograd: Some(WinogradTile::F4), split_k: false },
        PlanTarget::Gpu => PlanChoice { separate_pools: options.separate_pools, winograd: options.winograd, split_k: options.split_k },
    }
}

/// Each dispatch in the variant that suits a CPU-like adapter best, among those it offers.
fn prefer_cpu_variants(gpu: &Gpu, plan: &mut Plan) {
    for dispatch in &mut plan.dispatches {
        let best = runnable_variants(gpu, dispatch.kernel.as_ref()).into_iter().max_by_key(|v| v.cpu_preference());
        if let Some(best) = best.filter(|b| b.cpu_preference() > dispatch.kernel.cpu_preference()) {
            dispatch.kernel = best;
        }
    }
}

/// The plan for `options` with this adapter's cached choices: the plan-level ones, then each
/// dispatch's variant. Without a cache entry, the defaults for the adapter's kind; where
/// `options` names a kind of plan, that kind's defaults (the cache is for this adapter's own).
pub fn tuned_plan(gpu: &Gpu, graph: &Graph, batch: usize, options: &PlanOptions, cache: &TuneCache) -> Result<Plan> {
    let key = adapter_key(gpu);
    let own_kind = options.target.is_none();
    let cached = cache.plans.get(&key).filter(|_| own_kind);
    let options = for_adapter(gpu, options);
    let options = match cached {
        Some(choice) => choice.options(&options),
        None => {
            log::debug!("no tuned plan for adapter `{key}` (or another kind of plan asked for): the defaults for its kind (`googlenet tune` times them)");
            default_choice(gpu, &options).options(&options)
        }
    };
    let mut plan = Plan::build(graph, batch, &options)?;
    if options.target == Some(PlanTarget::CpuLike) {
        prefer_cpu_variants(gpu, &mut plan);
    }
    if own_kind {
        apply(gpu, &mut plan, cache);
    }
    Ok(plan)
}

/// A plan tuned dispatch by dispatch, then timed whole.
pub struct TunedPlan {
    pub choice: PlanChoice,
    pub plan: Plan,
    pub dispatches: Vec<Tuned>,
    /// End-to-end milliseconds of the fastest run.
    pub ms: f64,
}

/// What tuning the whole network found.
pub struct NetworkTuning {
    /// Each plan choice, tuned, fastest first.
    pub candidates: Vec<TunedPlan>,
    /// End-to-end milliseconds of the fastest run of the plan an untuned session runs here
    /// (the adapter's defaults), timed in the same rounds as the candidates.
    pub untuned_ms: f64,
    /// The fastest candidate against the defaults: what decided which of them was cached.
    pub check: Check,
    /// The plan-level choice cached: the fastest candidate's where it won `check`, else the
    /// defaults' (`default_choice`).
    pub cached: PlanChoice,
}

/// Rounds in which `tune_network` times its fastest plan against the defaults: `iters`, and at
/// least this many.
const MIN_CHECK_ROUNDS: usize = 5;

fn check_rounds(iters: usize) -> usize {
    iters.max(MIN_CHECK_ROUNDS)
}

/// A plan and the defaults, timed in alternating rounds: one run of each per round, and which
/// of them runs first alternates too, so a machine that slows down for a while slows both.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// Each round's milliseconds for the plan.
    pub chosen_ms: Vec<f64>,
    /// Each round's milliseconds for the defaults.
    pub defaults_ms: Vec<f64>,
}

impl Check {
    /// Times `chosen` and `defaults` in `rounds` rounds, calling `on_round` after each.
    pub fn run(rounds: usize, mut chosen: impl FnMut() -> Result<()>, mut defaults: impl FnMut() -> Result<()>, on_round: OnStep) -> Result<Check> {
        fn time(run: &mut dyn FnMut() -> Result<()>) -> Result<f64> {
            let started = Instant::now();
            run()?;
            Ok(started.elapsed().as_secs_f64() * 1e3)
        }
        let mut check = Check { chosen_ms: Vec::with_capacity(rounds), defaults_ms: Vec::with_capacity(rounds) };
        for round in 0..rounds {
            if round % 2 == 0 {
                check.chosen_ms.push(time(&mut chosen)?);
                check.defaults_ms.push(time(&mut defaults)?);
            } else {
                check.defaults_ms.push(time(&mut defaults)?);
                check.chosen_ms.push(time(&mut chosen)?);
            }
            on_round();
        }
        Ok(check)
    }

    /// Whether the plan beats the defaults beyond the rounds' spread: its slowest round is
    /// faster than the defaults' fastest. A smaller lead could be noise, and then the defaults
    /// are kept: tuning must never make a run slower.
    pub fn chosen_wins(&self) -> bool {
        let slowest = self.chosen_ms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let fastest_default = self.defaults_ms.iter().copied().fold(f64::INFINITY, f64::min);
        !self.chosen_ms.is_empty() && slowest < fastest_default
    }
}

/// Keeps in `cache`, under this adapter, the variant each of `plan`'s tunable dispatches runs.
fn remember_plan(gpu: &Gpu, plan: &Plan, cache: &mut TuneCache) {
    let choices = cache.adapters.entry(adapter_key(gpu)).or_default();
    for dispatch in &plan.dispatches {
        let Some(key) = dispatch.kernel.tuning_key() else { continue };
        if runnable_variants(gpu, dispatch.kernel.as_ref()).len() > 1 {
            remember(choices, TunedVariant { key, variant: dispatch.kernel.variant_name().to_string() });
        }
    }
}

/// Tunes the network's plan (with `options`) in every `PlanChoice::candidates` and times the
/// fastest against the defaults (`Check`); `cache` then holds, for this adapter, the fastest
/// plan where it won, else the defaults. Returns the candidates, fastest first, with the
/// untuned defaults' time and the check. The whole plans are timed in turns, one run each per
/// round, so a machine that slows down for a while slows all of them alike.
#[allow(clippy::too_many_arguments)] // the network, its batch and options, the cache, the effort, the progress
pub fn tune_network(gpu: &Arc<Gpu>, pipelines: &Pipelines, graph: &Graph, batch: usize, options: &PlanOptions, cache: &mut TuneCache, iters: usize, on_step: OnStep) -> Result<NetworkTuning> {
    let options = &for_adapter(gpu, options);
    let [c, h, w] = graph.input_chw;
    let untuned = Engine::new(gpu, pipelines, tuned_plan(gpu, graph, batch, options, &TuneCache::default())?)?;
    let mut untuned_ms = f64::INFINITY;
    let input = Rng::new(5).symmetric_vec(batch * c * h * w);
    // Each candidate's variants; only those of the plan that is cached are kept.
    let mut scratch = TuneCache::default();
    let candidates = PlanChoice::candidates(gpu);
    let mut tuned = Vec::with_capacity(candidates.len());
    for choice in candidates {
        let mut plan = Plan::build(graph, batch, &choice.options(options))?;
        let dispatches = tune(gpu, pipelines, &mut plan, &mut scratch, iters, on_step)?;
        tuned.push((choice, Engine::new(gpu, pipelines, plan)?, dispatches, f64::INFINITY));
    }
    for _ in 0..iters.max(1) {
        for (_, engine, _, fastest) in &mut tuned {
            *fastest = fastest.min(time_engine(engine, &input, 1)?);
        }
        untuned_ms = untuned_ms.min(time_engine(&untuned, &input, 1)?);
        on_step();
    }
    tuned.sort_by(|a, b| a.3.total_cmp(&b.3));
    let (fastest_choice, fastest, _, _) = &tuned[0];
    let check = Check::run(check_rounds(iters), || fastest.run(&input).map(drop), || untuned.run(&input).map(drop), on_step)?;
    let (cached, plan) = if check.chosen_wins() { (*fastest_choice, fastest.plan()) } else { (default_choice(gpu, options), untuned.plan()) };
    cache.plans.insert(adapter_key(gpu), cached);
    remember_plan(gpu, plan, cache);
    let candidates = tuned.into_iter().map(|(choice, engine, dispatches, ms)| TunedPlan { choice, plan: engine.into_plan(), dispatches, ms }).collect();
    Ok(NetworkTuning { candidates, untuned_ms, check, cached })
}
