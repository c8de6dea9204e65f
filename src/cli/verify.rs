//! `googlenet verify`: every kernel case on this adapter against the CPU reference.

use std::process::ExitCode;

use googlenet::gpu::{Gpu, Pipelines};
use googlenet::verify::{check_op, kernel_sweep, random_inputs, CaseResult};
use googlenet::Result;

pub fn run(json: bool) -> Result<ExitCode> {
    let gpu = Gpu::new()?;
    let kernels = Pipelines::new();
    let results: Vec<CaseResult> = kernel_sweep()
        .iter()
        .enumerate()
        .map(|(i, op)| check_op(&gpu, &kernels, op.as_ref(), &random_inputs(op.as_ref(), i as u64)))
        .collect();
    let failures = results.iter().filter(|r| !r.passed).count();
    if json {
        let report = serde_json::json!({
            "adapter": gpu.describe(),
            "cases": results,
            "passed": results.len() - failures,
            "failed": failures,
        });
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
    } else {
        print_table(&gpu.describe(), &results);
    }
    Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_table(adapter: &str, results: &[CaseResult]) {
    println!("adapter: {adapter}");
    println!("{:<16} {:<64} {:>10} {:>10} {:>10}  result", "kernel", "shape", "max abs", "max rel", "tolerance");
    for r in results {
        let verdict = match (&r.error, r.passed) {
            (Some(e), _) => format!("ERROR: {e}"),
            (None, true) => "pass".to_string(),
            (None, false) => "FAIL".to_string(),
        };
        println!(
            "{:<16} {:<64} {:>10.2e} {:>10.2e} {:>10.2e}  {verdict}",
            r.kernel, r.shape, r.max_abs_err, r.max_rel_err, r.tolerance
        );
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    println!("{} passed, {} failed", results.len() - failed, failed);
}
