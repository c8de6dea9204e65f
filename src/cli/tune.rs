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
    // Fail now, not after minutes of tuning, where the cache cannot be written (a file that
    // cannot be used is replaced, with a warning).
    TuneCache::default().save_merged(&path)?;
    // This run's results only: merged into the file as it is when they are saved, so that
    // another `tune` on the same file meanwhile keeps its results too.
    let mut results = TuneCache::default();
    // The concurrent plan in every plan-level choice, and the serial one `bench --serial`
    // compares it with.
    let options = session.plan_options();
    let steps = tune_network_steps(gpu, graph, batch, &options, iters)?;
    let mut progress = Progress::new("steps", steps as u64);
    let NetworkTuning { candidates, untuned_ms, check, cached } = tune_network(gpu, pipelines, graph, batch, &options, &mut results, iters, &mut || progress.advance(1))?;
    progress.finish();
    let best = &candidates[0];
    let beats_defaults = check.chosen_wins();
    if beats_defaults {
        let mut serial = Plan::build(graph, batch, &best.choice.options(&PlanOptions { serial: true, ..options }))?;
        let mut progress = Progress::new("serial-plan steps", tune_steps(gpu, &serial) as u64);
        tune(gpu, pipelines, &mut serial, &mut results, iters, &mut || progress.advance(1))?;
        progress.finish();
    }
    results.save_merged(&path)?;
    let range = |ms: &[f64]| (ms.iter().copied().fold(f64::INFINITY, f64::min), ms.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let ((chosen_min, chosen_max), (defaults_min, defaults_max)) = (range(&check.chosen_ms), range(&check.defaults_ms));
    let speedup = if beats_defaults { defaults_min / chosen_min } else { 1.0 };
    if json {
        let plans: Vec<_> = candidates.iter().map(|c| serde_json::json!({"choice": c.choice, "ms": c.ms})).collect();
        let report = serde_json::json!({
            "adapter": super::json::adapter(gpu),
            "cache_key": adapter_key(gpu),
            "cache": super::json::path(&path),
            "batch": batch,
            "plans": plans,
            "fastest": best.choice,
            "check": check,
            "beats_defaults": beats_defaults,
            "chosen": cached,
            "untuned_ms": untuned_ms,
            "speedup_over_untuned": speedup,
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
    let rounds = check.chosen_ms.len();
    let against = format!("{chosen_min:.2}-{chosen_max:.2} ms against {defaults_min:.2}-{defaults_max:.2} ms for the untuned defaults, in {rounds} alternating rounds");
    if beats_defaults {
        out.line(format_args!("chosen: {} ({against}: {speedup:.2}x)", best.choice.describe()));
    } else {
        out.line(format_args!("the defaults are as fast here: {} took {against}; cached the defaults ({})", best.choice.describe(), cached.describe()));
    }
    let (plan, tuned) = (&best.plan, &best.dispatches);
    for t in tuned {
        let times: Vec<String> = t.times_ms.iter().map(|(name, ms)| format!("{name} {ms:.2} ms")).collect();
        let nodes = &plan.dispatches[t.dispatch].nodes;
        out.line(format_args!("  {:<8} {:<44} {}", t.chosen, nodes.first().map_or("", String::as_str), times.join(", ")));
    }
    let serial = if beats_defaults { " (and those of the serial schedule)" } else { "" };
    out.line(format_args!("{} dispatches tuned at batch {batch}{serial}; cache: {}", tuned.len(), path.display()));
    out.print()?;
    Ok(ExitCode::SUCCESS)
}
