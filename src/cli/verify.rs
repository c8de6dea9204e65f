//! `googlenet verify`: every kernel case on this adapter against the CPU reference.

use std::path::Path;
use std::process::ExitCode;

use googlenet::gpu::WeightPrecision;
use googlenet::ops::ConvVariant;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;
use googlenet::verify::{check_op, check_plan, module_outputs, kernel_sweep, random_inputs, CaseResult, NetworkCheck};
use googlenet::plan::PlanOptions;
use googlenet::{Result, Session};

use super::output::Text;

/// Every kernel case, then `model` (a file; by default the built-in network with its auxiliary
/// classifiers) module by module, planned as `run` would plan it here with conv weights held in
/// `weights` (the network check's tolerance follows them).
pub fn run(model: Option<&Path>, weights: WeightPrecision, json: bool) -> Result<ExitCode> {
    let builder = Session::builder().weight_precision(weights);
    let session = match model {
        Some(path) => builder.model_file(path).build()?,
        None => builder.aux(true).build()?,
    };
    let (gpu, kernels) = (session.gpu()?, session.pipelines());
    let sweep = kernel_sweep(gpu);
    let mut progress = super::progress::Progress::new("cases", sweep.len() as u64);
    let results: Vec<CaseResult> = sweep
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let result = check_op(gpu, kernels, op.as_ref(), &random_inputs(op.as_ref(), i as u64));
            progress.advance(1);
            result
        })
        .collect();
    progress.finish();
    let failures = results.iter().filter(|r| !r.passed).count();
    let mut not_offered: Vec<&str> = ConvVariant::all().iter().map(|v| v.name()).filter(|name| !ConvVariant::offered(name, gpu)).collect();
    not_offered.sort();
    not_offered.dedup();
    let graph = session.graph();
    let [c, h, w] = graph.input_chw;
    let image = Tensor::new(vec![1, c, h, w], Rng::new(11).symmetric_vec(c * h * w));
    let plan = session.plan(1, &PlanOptions { keep: module_outputs(graph), ..Default::default() })?;
    let network = check_plan(gpu, kernels, graph, plan, &image)?;
    if json {
        let report = serde_json::json!({
            "adapter": super::json::adapter(gpu),
            "passed": failures == 0 && network.passed,
            "cases": results,
            "cases_passed": results.len() - failures,
            "cases_failed": failures,
            "conv_variants_not_offered": not_offered,
            "network": network,
        });
        super::output::print_json(&report)?;
    } else {
        let mut out = Text::default();
        table(&mut out, &gpu.describe(), &results);
        if !not_offered.is_empty() {
            out.line(format_args!("conv variants this adapter does not offer (not run): {}", not_offered.join(", ")));
        }
        network_table(&mut out, &network);
        out.print()?;
    }
    Ok(if failures == 0 && network.passed { ExitCode::SUCCESS } else { super::Exit::SomeFailed.into() })
}

fn network_table(out: &mut Text, network: &NetworkCheck) {
    out.line(format_args!("\nwhole network, batch 1, against the CPU reference (tolerance: {:.0e} of each value's largest magnitude)", network.rtol));
    out.line(format_args!("{:<24} {:>10} {:>10}  result", "value", "max abs", "max rel"));
    for v in &network.values {
        out.line(format_args!("{:<24} {:>10.2e} {:>10.2e}  {}", v.name, v.max_abs_err, v.max_rel_err, if v.passed { "pass" } else { "FAIL" }));
    }
    out.line(format_args!("top-5 agreement: {}", if network.top5_agree { "yes" } else { "NO" }));
    out.line(format_args!("network: {}", if network.passed { "pass" } else { "FAIL" }));
}

fn table(out: &mut Text, adapter: &str, results: &[CaseResult]) {
    out.line(format_args!("adapter: {adapter}"));
    out.line(format_args!("{:<16} {:<64} {:>10} {:>10} {:>10}  result", "kernel", "shape", "max abs", "max rel", "abs tol"));
    for r in results {
        let verdict = match (&r.error, r.passed) {
            (Some(e), _) => format!("ERROR: {e}"),
            (None, true) => "pass".to_string(),
            (None, false) => "FAIL".to_string(),
        };
        out.line(format_args!("{:<16} {:<64} {:>10.2e} {:>10.2e} {:>10.2e}  {verdict}", r.kernel, r.shape, r.max_abs_err, r.max_rel_err, r.tolerance));
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    out.line(format_args!("{} passed, {} failed", results.len() - failed, failed));
}
