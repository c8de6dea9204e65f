//! `googlenet tune`: time every kernel variant at each of the network's shapes on this adapter
//! and keep the fastest in the tuning cache.

use std::path::PathBuf;
use std::process::ExitCode;

use googlenet::plan::{Plan, PlanOptions};
use googlenet::tune::{adapter_key, default_cache_path, tune, tune_network, tune_network_steps, tune_steps, NetworkTuning, TuneCache};
use googlenet::Result;

use super::output::Text;
use super::progress::Progress;
use super::ModelArgs;

pub fn run(model: &ModelArgs, batch: usize, iters: usize, cache_path: Option<PathBuf>, json: bool) -> Result<ExitCode> {
    let session = model.builder().without_tune_cache().build()?;
    let (graph, gpu, pipelines) = (session.graph(), session.gpu()?, session.pipelines());
    let path = cache_path.unwrap_or_else(default_cache_path);
    let mut cache = TuneCache::load(&path).unwrap_or_else(|e| {
        eprintln!("warning: {e}; starting a new cache");
        TuneCache::default()
    });
    // Fail now, not after minutes of tuning, where the cache cannot be written.
    cache.save(&path)?;
    // The concurrent plan in every plan-level choice, and the serial one `bench --serial`
    // compares it with.
    let options = session.plan_options();
    let steps = tune_network_steps(gpu, graph, batch, &options, iters)?;
    let mut progress = Progress::new("steps", steps as u64);
    let NetworkTuning { candidates, untuned_ms } = tune_network(gpu, pipelines, graph, batch, &options, &mut cache, iters, &mut || progress.advance(1))?;
    progress.finish();
    let best = &candidates[0];
    let mut serial = Plan::build(graph, batch, &best.choice.options(&PlanOptions { serial: true, ..options }))?;
    let mut progress = Progress::new("serial-plan steps", tune_steps(gpu, &serial) as u64);
    tune(gpu, pipelines, &mut serial, &mut cache, iters, &mut || progress.advance(1))?;
    progress.finish();
    cache.save(&path)?;
    if json {
        let plans: Vec<_> = candidates.iter().map(|c| serde_json::json!({"choice": c.choice, "ms": c.ms})).collect();
        let report = serde_json::json!({
            "adapter": super::json::adapter(gpu),
            "cache_key": adapter_key(gpu),
            "cache": super::json::path(&path),
            "batch": batch,
            "plans": plans,
            "chosen": best.choice,
            "untuned_ms": untuned_ms,
            "speedup_over_untuned": untuned_ms / best.ms,
            "dispatches": best.dispatches,
        });
        super::output::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Text::default();
    out.line(format_args!("adapter: {}", adapter_key(gpu)));
    out.line(format_args!("whole network, each plan tuned (fastest run, end to end):"));
    for c in &candidates {
        out.line(format_args!("  {:>9.2} ms  {}", c.ms, c.choice.describe()));
    }
    out.line(format_args!("chosen: {}", best.choice.describe()));
    out.line(format_args!("gained: {:.2} ms against {untuned_ms:.2} ms for the untuned defaults here ({:.2}x)", best.ms, untuned_ms / best.ms));
    let (plan, tuned) = (&best.plan, &best.dispatches);
    for t in tuned {
        let times: Vec<String> = t.times_ms.iter().map(|(name, ms)| format!("{name} {ms:.2} ms")).collect();
        let nodes = &plan.dispatches[t.dispatch].nodes;
        out.line(format_args!("  {:<8} {:<44} {}", t.chosen, nodes.first().map_or("", String::as_str), times.join(", ")));
    }
    out.line(format_args!("{} dispatches tuned at batch {batch} (and those of the serial schedule); cache: {}", tuned.len(), path.display()));
    out.print()?;
    Ok(ExitCode::SUCCESS)
}
