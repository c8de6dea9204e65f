//! `googlenet tune`: time every kernel variant at each of the network's shapes on this adapter
//! and keep the fastest in the tuning cache.

use std::path::PathBuf;
use std::process::ExitCode;

use googlenet::gpu::{Gpu, Pipelines};
use googlenet::plan::{Plan, PlanOptions};
use googlenet::tune::{adapter_key, default_cache_path, tune, tune_network, TuneCache, TunedPlan};
use googlenet::Result;

use super::ModelArgs;

pub fn run(model: &ModelArgs, batch: usize, iters: usize, cache_path: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let graph = model.load()?;
    let gpu = Gpu::new()?;
    let path = cache_path.unwrap_or_else(default_cache_path);
    let mut cache = TuneCache::load(&path).unwrap_or_else(|e| {
        eprintln!("warning: {e}; starting a new cache");
        TuneCache::default()
    });
    // The concurrent plan both ways of running the pools, and the serial one `bench --serial`
    // compares it with.
    let pipelines = Pipelines::new();
    let network = tune_network(&gpu, &pipelines, &graph, batch, &PlanOptions::default(), &mut cache, iters)?;
    let separate_pools = network.separate_pools_win();
    let TunedPlan { plan, dispatches: tuned, .. } = network.chosen();
    let mut serial = Plan::build(&graph, batch, &PlanOptions { serial: true, separate_pools, ..Default::default() })?;
    tune(&gpu, &pipelines, &mut serial, &mut cache, iters)?;
    cache.save(&path)?;
    let (fused_ms, separate_ms) = (network.fused.ms, network.separate.ms);
    if json {
        let report = serde_json::json!({
            "adapter": adapter_key(&gpu),
            "cache": path,
            "batch": batch,
            "fused_pools_ms": fused_ms,
            "separate_pools_ms": separate_ms,
            "separate_pools": separate_pools,
            "dispatches": tuned,
        });
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
        return Ok(ExitCode::SUCCESS);
    }
    println!("adapter: {}", adapter_key(&gpu));
    println!(
        "inception pools: inside their 1x1 convs {fused_ms:.2} ms, as separate dispatches {separate_ms:.2} ms (whole network, tuned): {}",
        if separate_pools { "separate" } else { "inside" }
    );
    for t in tuned {
        let times: Vec<String> = t.times_ms.iter().map(|(name, ms)| format!("{name} {ms:.2} ms")).collect();
        let nodes = &plan.dispatches[t.dispatch].nodes;
        println!("  {:<8} {:<44} {}", t.chosen, nodes.first().map_or("", String::as_str), times.join(", "));
    }
    println!("{} dispatches tuned at batch {batch} (and those of the serial schedule); cache: {}", tuned.len(), path.display());
    Ok(ExitCode::SUCCESS)
}
