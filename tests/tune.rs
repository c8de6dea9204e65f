//! Kernel variants chosen by timing, kept in a cache keyed by adapter, applied later.

mod common;

use std::path::{Path, PathBuf};

use googlenet::engine::Engine;
use googlenet::onnx::import::import_onnx;
use googlenet::ops::WinogradTile;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::reference::run_reference;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;
use googlenet::ops::{KernelFamily, KernelKey};
use googlenet::tune::{adapter_key, apply, default_choice, tune, tune_network, tuned_plan, Check, PlanChoice, TuneCache, TunedVariant, MAX_CACHE_BYTES};
use googlenet::verify::{check_value, NETWORK_RTOL};

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("googlenet-tune-{}-{name}", std::process::id())).join("tune.json")
}

fn small_graph() -> googlenet::graph::Graph {
    import_onnx(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx")).unwrap()
}

/// Dispatches with more than one variant on this adapter: the ones the tuner times.
fn tunable(gpu: &googlenet::gpu::Gpu, plan: &Plan) -> usize {
    plan.dispatches.iter().filter(|d| d.kernel.variants().iter().filter(|v| v.runs_on(gpu)).count() > 1).count()
}

#[test]
fn tuning_picks_a_variant_per_dispatch_keeps_results_and_round_trips() {
    let (gpu, pipelines) = common::gpu();
    let graph = small_graph();
    let mut plan = Plan::build(&graph, 1, &PlanOptions::default()).unwrap();
    let mut cache = TuneCache::default();
    let tuned = tune(gpu, pipelines, &mut plan, &mut cache, 1, &mut || ()).unwrap();
    let convs = plan.dispatches.iter().filter(|d| d.kernel.kernel_name().starts_with("conv")).count();
    assert_eq!(tuned.len(), tunable(gpu, &plan), "every dispatch with variants is tuned");
    assert!(tuned.len() > convs, "every conv dispatch and the classifier");
    for t in &tuned {
        assert!(t.times_ms.len() >= 2, "every variant that fits is timed");
        let fastest = t.times_ms.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
        assert_eq!(t.chosen, fastest.0);
        assert_eq!(plan.dispatches[t.dispatch].kernel.variant_name(), t.chosen);
    }
    // The tuned plan computes the same network.
    let input = Tensor::new(vec![1, 3, 224, 224], Rng::new(8).symmetric_vec(3 * 224 * 224));
    let chosen: Vec<String> = plan.dispatches.iter().map(|d| d.kernel.variant_name().to_string()).collect();
    let outputs = Engine::new(gpu, pipelines, plan).unwrap().run(&input.data).unwrap();
    let reference = run_reference(&graph, &input).unwrap();
    for (name, t) in &outputs {
        assert!(check_value(name, t, &reference[name], NETWORK_RTOL).passed);
    }
    // Saved, loaded and applied to a fresh plan: the same choices, without timing.
    let path = scratch("round-trip");
    cache.save(&path).unwrap();
    let loaded = TuneCache::load(&path).unwrap();
    let mut fresh = Plan::build(&graph, 1, &PlanOptions::default()).unwrap();
    assert_eq!(apply(gpu, &mut fresh, &loaded), tuned.len());
    let applied: Vec<String> = fresh.dispatches.iter().map(|d| d.kernel.variant_name().to_string()).collect();
    assert_eq!(applied, chosen);
}

#[test]
fn another_adapter_or_a_missing_cache_keeps_the_defaults() {
    let (gpu, _) = common::gpu();
    let graph = small_graph();
    let mut cache = TuneCache::default();
    let mut plan = Plan::build(&graph, 1, &PlanOptions::default()).unwrap();
    let other = vec![TunedVariant { key: plan.dispatches[0].kernel.tuning_key().unwrap(), variant: "subgroup".to_string() }];
    cache.adapters.insert(format!("{} (another driver)", adapter_key(gpu)), other);
    assert_eq!(apply(gpu, &mut plan, &cache), 0);
    assert!(plan.dispatches.iter().all(|d| d.kernel.variant_name() != "subgroup"));
    assert!(TuneCache::load(&scratch("absent")).unwrap().adapters.is_empty());
}

#[test]
fn a_corrupt_cache_is_a_clear_error_and_a_session_runs_without_it() {
    let path = scratch("corrupt");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{ not json").unwrap();
    let error = TuneCache::load(&path).unwrap_err().to_string();
    assert!(error.contains("tune.json") && error.contains("not a tuning cache"), "{error}");
    let lenient = TuneCache::load_or_default(&path);
    assert!(lenient.adapters.is_empty() && lenient.plans.is_empty());
    // A new cache merged over it replaces it.
    let mut fresh = TuneCache::default();
    fresh.plans.insert("some gpu".into(), PlanChoice::default());
    fresh.save_merged(&path).unwrap();
    assert_eq!(TuneCache::load(&path).unwrap().plans["some gpu"], PlanChoice::default());
    // What is not a regular file is not replaced.
    let folder = path.with_file_name("a-folder.json");
    std::fs::create_dir_all(&folder).unwrap();
    let error = fresh.save_merged(&folder).unwrap_err().to_string();
    assert!(error.contains("refusing to write the tuning cache") && error.contains("not a regular file"), "{error}");
    assert!(folder.is_dir());
}

#[test]
fn the_network_tuning_keeps_the_fastest_plan_choice() {
    let (gpu, pipelines) = common::gpu();
    let graph = small_graph();
    let mut cache = TuneCache::default();
    let tuning = tune_network(gpu, pipelines, &graph, 1, &PlanOptions::default(), &mut cache, 1, &mut || ()).unwrap();
    assert!(tuning.untuned_ms.is_finite() && tuning.untuned_ms > 0.0, "the untuned defaults are timed too");
    let candidates = tuning.candidates;
    assert_eq!(candidates.len(), PlanChoice::candidates(gpu).len());
    assert!(candidates.windows(2).all(|w| w[0].ms <= w[1].ms), "fastest first");
    // The fastest plan is cached only where it beat the defaults in the check; else the defaults are.
    let check = &tuning.check;
    assert!(check.chosen_ms.len() >= 5 && check.defaults_ms.len() == check.chosen_ms.len(), "{check:?}");
    let defaults = default_choice(gpu, &PlanOptions::default());
    assert_eq!(tuning.cached, if check.chosen_wins() { candidates[0].choice } else { defaults }, "{check:?}");
    assert_eq!(cache.plans[&adapter_key(gpu)], tuning.cached);
    let variants = |plan: &Plan| plan.dispatches.iter().map(|d| d.kernel.variant_name().to_string()).collect::<Vec<_>>();
    let later = tuned_plan(gpu, &graph, 1, &PlanOptions::default(), &cache).unwrap();
    let untuned = tuned_plan(gpu, &graph, 1, &PlanOptions::default(), &TuneCache::default()).unwrap();
    assert_eq!(variants(&later), variants(if check.chosen_wins() { &candidates[0].plan } else { &untuned }), "later runs take what was cached");
    let count = |plan: &Plan, kernel: &str| plan.dispatches.iter().filter(|d| d.kernel.kernel_name() == kernel).count();
    for c in &candidates {
        let expected_pools = if c.choice.separate_pools { 9 + 4 } else { 4 };
        assert_eq!(count(&c.plan, "max pool"), expected_pools, "{}", c.choice.describe());
        // Module 5's 3x3 convs (7x7) run directly; F(4x4) only where the image is 28x28 or larger.
        assert_eq!(count(&c.plan, "winograd output"), if c.choice.winograd.is_some() { 8 } else { 0 }, "{}", c.choice.describe());
        let f4 = c.plan.dispatches.iter().filter(|d| d.kernel.kernel_name() == "winograd output" && d.kernel.describe().starts_with("F4 ")).count();
        assert_eq!(f4, if c.choice.winograd == Some(WinogradTile::F4) { 3 } else { 0 }, "{}", c.choice.describe());
    }
    // Later plans follow the cached choice, whatever the caller's default.
    for asked in PlanChoice::ALL {
        let plan = tuned_plan(gpu, &graph, 1, &asked.options(&PlanOptions::default()), &cache).unwrap();
        assert_eq!(count(&plan, "max pool"), count(&later, "max pool"));
        assert_eq!(count(&plan, "winograd output"), count(&later, "winograd output"));
    }
}

#[test]
fn a_cache_without_plan_choices_still_loads() {
    let path = scratch("no-plans");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let key = r#"{"kernel_set": 2, "family": "FullyConnected", "shape": [1024, 1000, 0], "batch": 1}"#;
    std::fs::write(&path, format!(r#"{{"format": 3, "adapters": {{"some gpu": [{{"key": {key}, "variant": "rows"}}]}}}}"#)).unwrap();
    let cache = TuneCache::load(&path).unwrap();
    assert_eq!(cache.adapters["some gpu"][0].variant, "rows");
    assert!(cache.plans.is_empty());
}

#[test]
fn a_cached_split_k_choice_splits_the_small_convs_and_only_gpus_tune_it() {
    let (gpu, _) = common::gpu();
    let graph = googlenet::models::googlenet::googlenet(Default::default());
    let split_sums = |cache: &TuneCache| {
        let plan = tuned_plan(gpu, &graph, 1, &PlanOptions::default(), cache).unwrap();
        plan.dispatches.iter().filter(|d| d.kernel.kernel_name().starts_with("split-K sum")).count()
    };
    let mut cache = TuneCache::default();
    cache.plans.insert(adapter_key(gpu), PlanChoice { separate_pools: true, winograd: Some(WinogradTile::F4), split_k: true });
    // The 7x7 and 14x14 convs with K of 512 or more (module 5's 3x3 convs among them).
    assert!(split_sums(&cache) >= 20, "{}", split_sums(&cache));
    assert_eq!(split_sums(&TuneCache::default()), 0);
    let candidates = PlanChoice::candidates(gpu);
    let cpu_like = gpu.info.device_type == wgpu::DeviceType::Cpu;
    assert_eq!(candidates.iter().filter(|c| c.split_k).count(), if cpu_like { 0 } else { PlanChoice::ALL.len() });
}

#[test]
fn a_plan_choice_from_before_split_k_does_not_split() {
    let path = scratch("before-split-k");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, r#"{"format": 3, "adapters": {}, "plans": {"some gpu": {"separate_pools": true, "winograd": "F4"}}}"#).unwrap();
    let cache = TuneCache::load(&path).unwrap();
    assert_eq!(cache.plans["some gpu"], PlanChoice { separate_pools: true, winograd: Some(WinogradTile::F4), split_k: false });
}

#[test]
fn a_cache_keyed_by_descriptions_is_from_an_earlier_engine_and_not_applied() {
    let path = scratch("older");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, r#"{"adapters": {"some gpu": {"n1 3x7x7 -> 5": "tiled"}}, "plans": {}}"#).unwrap();
    let cache = TuneCache::load(&path).unwrap();
    assert!(cache.adapters.is_empty() && cache.plans.is_empty());
    // Format 2 named Winograd F(2x2) by a flag.
    std::fs::write(&path, r#"{"format": 2, "adapters": {}, "plans": {"some gpu": {"separate_pools": true, "winograd": true}}}"#).unwrap();
    assert!(TuneCache::load(&path).unwrap().plans.is_empty());
}

#[test]
fn a_tuned_choice_is_keyed_by_typed_fields_with_the_batch_apart() {
    let graph = small_graph();
    let batch_1 = Plan::build(&graph, 1, &PlanOptions::default()).unwrap();
    let batch_3 = Plan::build(&graph, 3, &PlanOptions::default()).unwrap();
    let keys = |plan: &Plan| plan.dispatches.iter().filter_map(|d| d.kernel.tuning_key()).collect::<Vec<_>>();
    let (one, three) = (keys(&batch_1), keys(&batch_3));
    assert!(!one.is_empty() && one.len() == three.len());
    for (a, b) in one.iter().zip(&three) {
        assert_eq!((a.batch, b.batch), (1, 3));
        assert!(a.same_but_batch(b) && a != b);
        assert_eq!(a.kernel_set, googlenet::ops::KERNEL_SET_VERSION);
    }
}

#[test]
fn a_batch_never_tuned_takes_the_choices_made_at_another() {
    let (gpu, pipelines) = common::gpu();
    let graph = small_graph();
    let mut cache = TuneCache::default();
    let mut batch_1 = Plan::build(&graph, 1, &PlanOptions::default()).unwrap();
    tune(gpu, pipelines, &mut batch_1, &mut cache, 1, &mut || ()).unwrap();
    let mut batch_3 = Plan::build(&graph, 3, &PlanOptions::default()).unwrap();
    assert_eq!(apply(gpu, &mut batch_3, &cache), tunable(gpu, &batch_3));
    let names = |plan: &Plan| plan.dispatches.iter().map(|d| d.kernel.variant_name()).collect::<Vec<_>>();
    assert_eq!(names(&batch_3), names(&batch_1));
}

#[test]
fn a_plan_is_cached_only_if_it_beats_the_defaults_beyond_the_rounds_spread() {
    let check = |chosen: &[f64], defaults: &[f64]| Check { chosen_ms: chosen.to_vec(), defaults_ms: defaults.to_vec() }.chosen_wins();
    // What a tuned plan did on two days against the defaults, alternating: slower, not faster.
    assert!(!check(&[297.0, 355.0, 320.0], &[266.0, 308.0, 290.0]));
    assert!(!check(&[277.0], &[265.0]));
    // Faster on the whole, but the rounds overlap: it could be noise.
    assert!(!check(&[250.0, 270.0, 300.0], &[280.0, 290.0, 310.0]));
    assert!(check(&[200.0, 210.0, 205.0], &[260.0, 300.0, 280.0]));
    assert!(!check(&[], &[]));
    // Timed in alternating rounds: a plan that sleeps longer never wins; one that does not, does.
    let nap = |ms: u64| move || -> googlenet::Result<()> {
        std::thread::sleep(std::time::Duration::from_millis(ms));
        Ok(())
    };
    let mut rounds = 0;
    let slower = Check::run(5, nap(30), nap(1), &mut || rounds += 1).unwrap();
    assert_eq!((rounds, slower.chosen_ms.len(), slower.defaults_ms.len()), (5, 5, 5));
    assert!(!slower.chosen_wins(), "{slower:?}");
    let faster = Check::run(5, nap(0), nap(100), &mut || ()).unwrap();
    assert!(faster.chosen_wins(), "{faster:?}");
}

fn variant(batch: usize, name: &str) -> TunedVariant {
    TunedVariant { key: KernelKey::new(KernelFamily::ConvGroup, vec![64, 192, 56, 56, 3, 1, 1], batch), variant: name.to_string() }
}

#[test]
fn concurrent_tunes_on_one_file_keep_each_others_results() {
    let path = scratch("concurrent");
    let _ = std::fs::remove_file(&path);
    // Each writer loaded the file before the others saved, and merges its own results into it.
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut results = TuneCache::default();
                results.plans.insert(format!("gpu {i}"), PlanChoice::ALL[i % PlanChoice::ALL.len()]);
                results.adapters.insert("shared gpu".into(), vec![variant(i + 1, "tiled")]);
                results.save_merged(&path).unwrap();
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let cache = TuneCache::load(&path).unwrap();
    assert_eq!(cache.plans.len(), 8, "{:?}", cache.plans.keys());
    assert_eq!(cache.adapters["shared gpu"].len(), 8, "one choice per batch, from each writer");
    // A later result for the same key replaces the earlier one; the others stay.
    let mut again = TuneCache::default();
    again.adapters.insert("shared gpu".into(), vec![variant(3, "blocked")]);
    again.save_merged(&path).unwrap();
    let cache = TuneCache::load(&path).unwrap();
    let choices = &cache.adapters["shared gpu"];
    assert_eq!(choices.len(), 8);
    assert_eq!(choices.iter().find(|c| c.key.batch == 3).unwrap().variant, "blocked");
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().contains(".tmp")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_cache_is_written_compact_and_never_larger_than_its_reader_takes() {
    let path = scratch("large");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // Many adapters' entries: pretty-printed, this cache would be past the reader's cap.
    let mut cache = TuneCache::default();
    let entries: Vec<TunedVariant> = (1..=500).map(|batch| variant(batch, "subgroup-texture")).collect();
    for adapter in 0..200 {
        cache.adapters.insert(format!("adapter {adapter} | Vulkan | driver 1.0"), entries.clone());
    }
    let pretty = serde_json::to_vec_pretty(&cache).unwrap().len() as u64;
    assert!(pretty > MAX_CACHE_BYTES, "{pretty} bytes");
    cache.save(&path).unwrap();
    let written = std::fs::metadata(&path).unwrap().len();
    assert!(written <= MAX_CACHE_BYTES && written < pretty / 2, "{written} bytes");
    assert_eq!(TuneCache::load(&path).unwrap().adapters.len(), 200);
    // One that would be past the cap is refused before anything is written.
    for adapter in 200..400 {
        cache.adapters.insert(format!("adapter {adapter} | Vulkan | driver 1.0"), entries.clone());
    }
    let error = cache.save(&path).unwrap_err().to_string();
    assert!(error.contains("more than a reader takes"), "{error}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), written, "the old file is whole");
}
