//! `googlenet run`: the whole network on the GPU, top-5 classes, time, and a check against the
//! CPU reference.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use googlenet::error::Error;
use googlenet::reference::run_reference;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;
use googlenet::verify::{check_value, network_rtol, top5_agree};
use googlenet::{files, npy, Result};

use super::output::Text;
use super::{FallbackArgs, ModelArgs};

pub struct RunArgs {
    pub input: Option<PathBuf>,
    pub batch: Option<usize>,
    pub output: Option<PathBuf>,
    pub json: bool,
    pub check: bool,
}

fn load_input(args: &RunArgs, session: &googlenet::Session) -> Result<Tensor> {
    let chw = session.input_chw();
    let Some(path) = &args.input else {
        // A seeded synthetic batch, so the command runs with no files at all (its size is
        // within `flags::BATCH`, checked when the flags were parsed).
        let batch = args.batch.unwrap_or(1);
        // Planned (and checked against the device's limits) before any host memory is taken.
        session.split(batch)?;
        let mut rng = Rng::new(7);
        let dims = vec![batch, chw[0], chw[1], chw[2]];
        return Ok(Tensor::new(dims.clone(), rng.symmetric_vec(dims.iter().product())));
    };
    let mut tensor = npy::read_f32(path)?;
    if tensor.dims.len() == 3 {
        tensor.dims.insert(0, 1);
    }
    if tensor.dims.len() != 4 || tensor.dims[1..] != chw || tensor.dims[0] == 0 {
        return Err(Error::file(path, format!("array of shape {:?}; the network takes [N, {}, {}, {}] with N >= 1", tensor.dims, chw[0], chw[1], chw[2])));
    }
    if let Some((index, value)) = tensor.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::file(path, format!("holds {value} at element {index}: inputs must be finite")));
    }
    if let Some(batch) = args.batch.filter(|&b| b != tensor.dims[0]) {
        return Err(Error::file(path, format!("holds {} images but --batch {batch} was given", tensor.dims[0])));
    }
    Ok(tensor)
}

/// `out.npy` -> `out.loss1_prob.npy` for an auxiliary output named `loss1/prob`.
fn aux_path(main: &Path, name: &str) -> PathBuf {
    let stem = main.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    main.with_file_name(format!("{stem}.{}.npy", name.replace('/', "_")))
}

/// The file of each output, in order: the main one at `main`, the others at their `aux_path`.
/// Two outputs whose names map to one file (`feat/a` and `feat_a`) are refused, before any run.
fn output_paths(main: &Path, names: &[String]) -> Result<Vec<PathBuf>> {
    let mut first_writer: HashMap<PathBuf, &str> = HashMap::new();
    let mut paths = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let path = if i == 0 { main.to_path_buf() } else { aux_path(main, name) };
        // One output listed twice is one value: writing it twice loses nothing.
        if let Some(other) = first_writer.insert(path.clone(), name).filter(|&other| other != name) {
            let message = format!("outputs `{other}` and `{name}` would both be written to {} (`/` becomes `_` in file names); rename one in the model", path.display());
            return Err(Error::unsupported("--output", message));
        }
        paths.push(path);
    }
    Ok(paths)
}

pub fn run(model: &ModelArgs, fallback: &FallbackArgs, args: RunArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let session = fallback.build(model.builder())?;
    super::note_synthetic_weights(&session);
    super::note_untuned(&session);
    let build_ms = started.elapsed().as_secs_f64() * 1e3;
    // Fail now, not after the run, where an output cannot be written.
    let output_paths = args.output.as_deref().map(|main| output_paths(main, session.output_names())).transpose()?;
    for path in output_paths.iter().flatten() {
        files::check_writable(path)?;
    }
    let graph = session.graph();
    // On the CPU reference there is nothing to check the run against.
    let on_gpu = session.gpu().is_ok();
    let input = load_input(&args, &session)?;
    let batch = input.dims[0];
    let started = Instant::now();
    let outputs = session.run(&input)?;
    let run_ms = started.elapsed().as_secs_f64() * 1e3;
    // Classes only where the model is a classifier ([N, classes] or [N, classes, 1, 1]); other
    // outputs are printed by shape.
    let top5 = if outputs.main_classes().is_some() { session.predictions(&outputs, 5)? } else { Vec::new() };
    let main_dims = outputs.main().dims.clone();
    let outputs = outputs.into_vec();

    for (path, (_, tensor)) in output_paths.iter().flatten().zip(&outputs) {
        npy::write_f32(path, tensor)?;
    }
    let check = if args.check && on_gpu {
        let started = Instant::now();
        let reference = run_reference(graph, &input)?;
        let cpu_ms = started.elapsed().as_secs_f64() * 1e3;
        let rtol = network_rtol(session.plan_options().weights);
        let values: Vec<_> = outputs.iter().map(|(name, t)| check_value(name, t, &reference[name], rtol)).collect();
        let agree = outputs.iter().all(|(name, t)| top5_agree(t, &reference[name], rtol));
        Some((values, agree, cpu_ms))
    } else {
        None
    };
    let passed = check.as_ref().is_none_or(|(values, agree, _)| *agree && values.iter().all(|v| v.passed));
    if args.json {
        let report = serde_json::json!({
            "adapter": super::json::backend(session.backend()),
            "batch": batch,
            "engine_build_ms": build_ms,
            "run_ms": run_ms,
            "gpu_ms": if on_gpu { Some(run_ms) } else { None },
            "main_output_dims": main_dims,
            "images": top5.iter().map(|row| serde_json::json!({"top": super::json::top(row)})).collect::<Vec<_>>(),
            "passed": passed,
            "check": check.as_ref().map(|(values, agree, cpu_ms)| serde_json::json!({
                "cpu_reference_ms": cpu_ms, "values": values, "top5_agree": agree,
            })),
        });
        super::output::print_json(&report)?;
    } else {
        let mut out = Text::default();
        out.line(format_args!("adapter: {}", session.backend().describe()));
        if top5.is_empty() {
            out.line(format_args!("main output: dims {main_dims:?} (not [N, classes] or [N, classes, 1, 1]: no classes to rank)"));
        }
        for (image, row) in top5.iter().enumerate() {
            out.line(format_args!("image {image}: top-5 classes"));
            for p in row {
                out.line(format_args!("  {:.5}  {:>4}  {}", p.probability, p.class, p.label));
            }
        }
        if on_gpu {
            out.line(format_args!(
                "GPU: {run_ms:.1} ms for batch {batch}, first run (planning, kernel compilation, upload, compute, read-back; model loaded and device opened in {build_ms:.0} ms; `googlenet bench` times warm runs)"
            ));
        } else {
            out.line(format_args!("CPU reference: {run_ms:.1} ms for batch {batch} (model loaded in {build_ms:.0} ms); nothing to check it against"));
        }
        if let Some((values, agree, cpu_ms)) = &check {
            out.line(format_args!("CPU reference: {cpu_ms:.1} ms"));
            for v in values {
                out.line(format_args!("  {}: max abs err {:.2e}, max rel err {:.2e}", v.name, v.max_abs_err, v.max_rel_err));
            }
            out.line(format_args!("top-5 agreement: {}; {}", if *agree { "yes" } else { "NO" }, if passed { "pass" } else { "FAIL" }));
        }
        out.print()?;
    }
    Ok(if passed { ExitCode::SUCCESS } else { super::Exit::SomeFailed.into() })
}
