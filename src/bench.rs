//! Timing summaries for `googlenet bench`: statistics over runs, and each dispatch's GPU time
//! gathered into layers and inception modules with their throughput.

use std::time::Instant;

use serde::Serialize;

use crate::error::Result;
use crate::gpu::{Gpu, Pipelines, Prepared};
use crate::engine::Engine;
use crate::ops::{gpu_inputs, Kernel};
use crate::plan::Plan;
use crate::verify::random_inputs;

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    /// None for no samples.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Stats { median, min: sorted[0], max: sorted[n - 1] })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Timed {
    pub name: String,
    pub ms: f64,
    /// Floating-point operations per second, counting a multiply-add as two (the direct
    /// convolution's count, so a cheaper algorithm shows as a higher rate).
    pub gflops: f64,
}

/// Floating-point operations of dispatch `d`: 2 per multiply-add for convs and FC layers, one
/// per window element or element for the others. A Winograd conv counts the direct conv's
/// multiply-adds at its GEMMs and nothing at its transforms.
pub fn dispatch_flops(plan: &Plan, d: usize) -> f64 {
    let dispatch = &plan.dispatches[d];
    if let Some(work) = dispatch.direct_work {
        return 2.0 * work as f64;
    }
    dispatch.kernel.flops()
}

/// The network's floating-point operations per run (at the plan's batch).
pub fn total_flops(plan: &Plan) -> f64 {
    (0..plan.dispatches.len()).map(|d| dispatch_flops(plan, d)).sum()
}

fn timed(name: String, ms: f64, flops: f64) -> Timed {
    Timed { name, ms, gflops: if ms > 0.0 { flops / ms / 1e6 } else { 0.0 } }
}

/// One row per dispatch (named by the nodes it computes), from per-dispatch milliseconds.
pub fn layers(plan: &Plan, dispatch_ms: &[f64]) -> Vec<Timed> {
    plan.dispatches
        .iter()
        .enumerate()
        .map(|(d, dispatch)| {
            let nodes: Vec<&str> = dispatch.nodes.iter().map(String::as_str).filter(|n| !n.ends_with("/relu") && !n.ends_with(".relu")).collect();
            timed(format!("{} [{}]", dispatch.kernel.kernel_name(), nodes.join(", ")), dispatch_ms[d], dispatch_flops(plan, d))
        })
        .collect()
}

/// The whole run in plan order, one row per part: each inception module (the sum of its
/// dispatches), and each run of dispatches outside the modules ("stem" before the first, "head"
/// after the last, and the pools between them by their first node), so that the rows add up to
/// the run.
pub fn modules(plan: &Plan, dispatch_ms: &[f64]) -> Vec<Timed> {
    let module_of = |d: usize| plan.modules.iter().position(|m| m.dispatches.contains(&d));
    let first_module = plan.modules.iter().filter_map(|m| m.dispatches.iter().min()).min().copied();
    let last_module = plan.modules.iter().filter_map(|m| m.dispatches.iter().max()).max().copied();
    let mut parts: Vec<(String, Vec<usize>)> = Vec::new();
    for d in 0..plan.dispatches.len() {
        let module = module_of(d);
        match parts.last_mut() {
            Some((_, dispatches)) if dispatches.last().is_some_and(|&last| module_of(last) == module) => dispatches.push(d),
            _ => {
                let name = match module {
                    Some(m) => plan.modules[m].name.clone(),
                    None if first_module.is_none_or(|first| d < first) => "stem".to_string(),
                    None if last_module.is_some_and(|last| d > last) => "head".to_string(),
                    None => plan.dispatches[d].nodes.first().cloned().unwrap_or_default(),
                };
                parts.push((name, vec![d]));
            }
        }
    }
    parts
        .into_iter()
        .map(|(name, dispatches)| {
            let ms = dispatches.iter().map(|&d| dispatch_ms[d]).sum();
            let flops = dispatches.iter().map(|&d| dispatch_flops(plan, d)).sum();
            timed(name, ms, flops)
        })
        .collect()
}

/// Milliseconds of one dispatch of `kernel` alone: the fastest of `iters` runs (random inputs,
/// after one warm-up run).
pub fn time_kernel(gpu: &Gpu, pipelines: &Pipelines, kernel: &dyn Kernel, iters: usize) -> Result<f64> {
    KernelTimer::new(gpu, pipelines, kernel)?.fastest_ms(gpu, iters)
}

/// One kernel with its random inputs uploaded, ready to be timed any number of times.
pub struct KernelTimer {
    prepared: Prepared,
}

impl KernelTimer {
    pub fn new(gpu: &Gpu, pipelines: &Pipelines, kernel: &dyn Kernel) -> Result<Self> {
        let inputs = random_inputs(kernel, 1);
        let outputs: Vec<Vec<f32>> = kernel.output_lens().into_iter().map(|len| vec![0.0; len]).collect();
        let inputs = gpu_inputs(kernel, &inputs.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let input_refs: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
        let output_refs: Vec<&[f32]> = outputs.iter().map(Vec::as_slice).collect();
        Ok(KernelTimer { prepared: Prepared::new(gpu, pipelines, &kernel.launch(), &input_refs, &output_refs)? })
    }

    /// The fastest of `iters` runs, after one warm-up run.
    pub fn fastest_ms(&self, gpu: &Gpu, iters: usize) -> Result<f64> {
        fastest_ms(iters, || self.prepared.run(gpu))
    }
}

/// End-to-end milliseconds of a whole plan on `input`: the fastest of `iters` runs, after one
/// warm-up.
pub fn time_engine(engine: &Engine, input: &[f32], iters: usize) -> Result<f64> {
    fastest_ms(iters, || engine.run(input).map(drop))
}

/// Wall-clock milliseconds of the fastest of `iters` (at least one) calls of `run`, after one
/// warm-up: what the tuner compares, as noise from a shared machine only ever adds time.
fn fastest_ms(iters: usize, mut run: impl FnMut() -> Result<()>) -> Result<f64> {
    run()?;
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters.max(1) {
        let started = Instant::now();
        run()?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Stats::of(&samples).expect("at least one sample").min)
}

/// The GEMM rate the 1x1 conv kernels reach at this plan's 1x1 shapes, each timed alone:
/// (dispatch, GFLOP/s) per 1x1 dispatch.
pub fn pointwise_rates(gpu: &Gpu, pipelines: &Pipelines, plan: &Plan, iters: usize) -> Result<Vec<(usize, f64)>> {
    let mut rates = Vec::new();
    for (d, dispatch) in plan.dispatches.iter().enumerate() {
        if dispatch.kernel.kernel_name().starts_with("conv 1x1") {
            let ms = time_kernel(gpu, pipelines, dispatch.kernel.as_ref(), iters)?;
            rates.push((d, dispatch_flops(plan, d) / ms / 1e6));
        }
    }
    Ok(rates)
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn median_min_max() {
        let s = Stats::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 10.0));
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert!(Stats::of(&[]).is_none());
    }
}
