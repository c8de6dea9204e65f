//! `googlenet bench`: end-to-end and GPU time over runs, per layer and per inception module,
//! against the CPU reference, and the concurrent schedule against one branch after another.

use std::process::ExitCode;
use std::time::Instant;

use googlenet::bench::{dispatch_flops, layers, modules, pointwise_rates, total_flops, Stats, Timed};
use googlenet::engine::Engine;
use googlenet::plan::PlanOptions;
use googlenet::reference::run_reference;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;
use googlenet::{Result, Session};

use super::output::Text;
use super::progress::Progress;
use super::ModelArgs;

pub struct BenchArgs {
    pub batch: usize,
    pub iters: usize,
    pub cpu_iters: usize,
    pub serial: bool,
    pub split_k: bool,
    pub roofline: bool,
    pub svg: Option<std::path::PathBuf>,
    pub json: bool,
}

/// End-to-end and GPU-timestamp milliseconds of `iters` runs after warm-up, and the summed
/// per-dispatch GPU times of the median run.
struct Measured {
    end_to_end: Vec<f64>,
    gpu: Vec<f64>,
    dispatch_ms: Option<Vec<f64>>,
}

/// Warm-up runs before the timed ones.
const WARM_UP: usize = 2;

fn measure(engine: &Engine, input: &[f32], iters: usize, progress: &mut Progress) -> Result<Measured> {
    for _ in 0..WARM_UP {
        engine.run(input)?;
        progress.advance(1);
    }
    let mut runs = Vec::with_capacity(iters);
    for _ in 0..iters {
        let started = Instant::now();
        let profile = engine.profile(input)?;
        runs.push((started.elapsed().as_secs_f64() * 1e3, profile.dispatch_ms));
        progress.advance(1);
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let gpu: Vec<f64> = runs.iter().filter_map(|(_, d)| d.as_ref().map(|d| d.iter().sum())).collect();
    let median_run = runs[runs.len() / 2].1.clone();
    Ok(Measured { end_to_end: runs.iter().map(|r| r.0).collect(), gpu, dispatch_ms: median_run })
}

fn build(session: &Session, batch: usize, options: &PlanOptions) -> Result<Engine> {
    Engine::new(session.gpu()?, session.pipelines(), session.plan(batch, options)?)
}

/// End-to-end times of the network planned with `options` instead, when `wanted`.
fn time_other_plan(wanted: bool, session: &Session, options: PlanOptions, input: &Tensor, iters: usize, progress: &mut Progress) -> Result<Option<Stats>> {
    if !wanted {
        return Ok(None);
    }
    let engine = build(session, input.dims[0], &options)?;
    Ok(Some(Stats::of(&measure(&engine, &input.data, iters, progress)?.end_to_end).expect("at least one iteration")))
}

pub fn run(model: &ModelArgs, args: BenchArgs) -> Result<ExitCode> {
    let session = model.session()?;
    super::note_untuned(&session);
    let (graph, gpu, pipelines) = (session.graph(), session.gpu()?, session.pipelines());
    // Planned (and checked against the device's limits) before the input is made, and the chart's
    // file checked before the timing.
    let engine = build(&session, args.batch, &PlanOptions::default())?;
    if let Some(path) = &args.svg {
        googlenet::files::check_writable(path)?;
    }
    let [c, h, w] = graph.input_chw;
    let input = Tensor::new(vec![args.batch, c, h, w], Rng::new(3).symmetric_vec(args.batch * c * h * w));
    let flops = total_flops(engine.plan());
    let network_runs = (WARM_UP + args.iters) * (1 + args.serial as usize + args.split_k as usize);
    let mut progress = Progress::new("runs", (network_runs + args.cpu_iters) as u64);
    let measured = measure(&engine, &input.data, args.iters, &mut progress)?;
    let end_to_end = Stats::of(&measured.end_to_end).expect("at least one iteration");
    let gpu_time = Stats::of(&measured.gpu);
    let (layer_rows, module_rows) = match &measured.dispatch_ms {
        Some(ms) => (layers(engine.plan(), ms), modules(engine.plan(), ms)),
        None => (Vec::new(), Vec::new()),
    };
    let serial = time_other_plan(args.serial, &session, PlanOptions { serial: true, ..Default::default() }, &input, args.iters, &mut progress)?;
    let split_k = time_other_plan(args.split_k, &session, PlanOptions { split_k: true, ..Default::default() }, &input, args.iters, &mut progress)?;
    // The best GEMM rate the 1x1 kernels reach alone at the network's 1x1 shapes, and how close
    // the whole network and each 1x1 dispatch in it come to that.
    let roofline = if args.roofline { Some(pointwise_rates(gpu, pipelines, engine.plan(), 5)?) } else { None };
    let best_gemm = roofline.as_ref().and_then(|r| r.iter().map(|&(_, g)| g).reduce(f64::max));
    if let Some(path) = &args.svg {
        if module_rows.is_empty() {
            return Err(googlenet::Error::file(path, "no per-module GPU times to draw: the adapter offers no timestamp queries"));
        }
        let title = format!("GPU time per part of the network, batch {} ({})", args.batch, gpu.info.name);
        super::chart::bar_chart(path, &title, &module_rows)?;
    }
    let mut cpu = Vec::new();
    for _ in 0..args.cpu_iters {
        let started = Instant::now();
        run_reference(graph, &input)?;
        cpu.push(started.elapsed().as_secs_f64() * 1e3);
        progress.advance(1);
    }
    progress.finish();
    let cpu = Stats::of(&cpu);

    if args.json {
        let report = serde_json::json!({
            "adapter": super::json::adapter(gpu),
            "batch": args.batch,
            "iterations": args.iters,
            "gflop_per_run": flops / 1e9,
            "end_to_end_ms": end_to_end,
            "gpu_ms": gpu_time.unwrap_or(end_to_end),
            "gpu_time_source": if gpu_time.is_some() { "timestamps" } else { "wall clock" },
            "cpu_reference_ms": cpu,
            "serial_end_to_end_ms": serial,
            "split_k_end_to_end_ms": split_k,
            "roofline_gflops": best_gemm,
            "layers": layer_rows,
            "modules": module_rows,
        });
        super::output::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = Text::default();
    out.line(format_args!("adapter: {}", gpu.describe()));
    out.line(format_args!("batch {}: {:.2} GFLOP per run, {} runs after {WARM_UP} warm-up runs", args.batch, flops / 1e9, args.iters));
    let line = |what: &str, s: Stats| format!("{what:<34} median {:>9.2} ms  min {:>9.2}  max {:>9.2}  ({:.1} GFLOP/s)", s.median, s.min, s.max, flops / s.median / 1e6);
    out.line(line("end to end (upload, compute, read)", end_to_end));
    match gpu_time {
        Some(s) => out.line(line("GPU time (timestamps)", s)),
        None => out.line(format_args!("GPU time: no timestamps on this adapter; end-to-end wall clock above")),
    }
    if let Some(s) = serial {
        out.line(line("serial branches, end to end", s));
        out.line(format_args!("  concurrent branches: {:.2}x the serial schedule's speed", s.median / end_to_end.median));
    }
    if let Some(s) = split_k {
        out.line(line("convs split along K, end to end", s));
        out.line(format_args!("  whole convs: {:.2}x the split plan's speed", s.median / end_to_end.median));
    }
    if let Some(s) = cpu {
        out.line(line("CPU reference", s));
        out.line(format_args!("  GPU path: {:.2}x the CPU reference's speed", s.median / end_to_end.median));
    }
    if let (Some(best), Some(rates)) = (best_gemm, &roofline) {
        let network = flops / gpu_time.unwrap_or(end_to_end).median / 1e6;
        out.line(format_args!("\nroofline: the best 1x1 (GEMM) rate alone is {best:.2} GFLOP/s"));
        out.line(format_args!("  whole network: {network:.2} GFLOP/s = {:.0}% of it", 100.0 * network / best));
        for &(d, alone) in rates {
            let in_network = measured.dispatch_ms.as_ref().map(|ms| dispatch_flops(engine.plan(), d) / ms[d] / 1e6);
            let in_network = in_network.map_or("-".to_string(), |g| format!("{g:.2} GFLOP/s in the network ({:.0}% of the best)", 100.0 * g / best));
            out.line(format_args!("  {:<60} alone {alone:.2} GFLOP/s; {in_network}", engine.plan().dispatches[d].nodes.first().map_or("", String::as_str)));
        }
    }
    // Both tables share one denominator: the median run's summed dispatch times.
    let total: f64 = layer_rows.iter().map(|r| r.ms).sum();
    rows(&mut out, "per part of the network (GPU time of the median run; shares of the whole run)", &module_rows, total);
    rows(&mut out, "per dispatch (GPU time of the median run; shares of the whole run)", &layer_rows, total);
    out.print()?;
    Ok(ExitCode::SUCCESS)
}

fn rows(out: &mut Text, title: &str, rows: &[Timed], total: f64) {
    if rows.is_empty() {
        return;
    }
    out.line(format_args!("\n{title}"));
    out.line(format_args!("  {:>9} {:>6} {:>9}  name", "ms", "share", "GFLOP/s"));
    for r in rows {
        out.line(format_args!("  {:>9.3} {:>5.1}% {:>9.2}  {}", r.ms, 100.0 * r.ms / total.max(f64::MIN_POSITIVE), r.gflops, r.name));
    }
}
