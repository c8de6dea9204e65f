//! The Inception family's and the classic CNNs' patterns in small models (`tests/data/family`,
//! written by `tools/make_family_models.py`; its README says which real model each stands for),
//! each imported from its file, run at batch 2 on the GPU and on the CPU reference. Both must
//! match onnxruntime's output on the same input: the largest difference at most 1e-4 of the
//! largest output, and the same top 5 in every row.
//!
//! Tolerance: 1e-4 of the largest magnitude is what the real models must meet against
//! onnxruntime; these models are a few dozen layers of f32 convs at most, so summation order
//! stays far inside it. The generator checks that every top-5 gap in the expected outputs is
//! at least 1e-3 of the largest, so no two classes can trade places within the tolerance.
//!
//! Each also runs with the storage binding limit lowered to 1 MiB, where `big_fc`'s weight
//! (1.18 MB) must be split along its outputs.

mod common;

use std::path::{Path, PathBuf};

use googlenet::engine::Engine;
use googlenet::npy::read_f32;
use googlenet::onnx::import::import_onnx;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::reference::run_reference;
use googlenet::verify::{check_value, top5_agree};
use googlenet::{Result, Tensor};

/// The largest difference from onnxruntime, relative to the output's largest magnitude.
const RTOL: f32 = 1e-4;

/// The binding limit the second run of every model plans for.
const LOWERED_BINDING_LIMIT: u64 = 1 << 20;

fn family_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/family")
}

/// Every model's name (its file without `.onnx`), sorted.
fn model_names() -> Vec<String> {
    let dir = family_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".onnx").map(str::to_string))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{} models under {}", names.len(), dir.display());
    names
}

/// `dims` without the unit dims after the first two: [N, C, 1, 1] and [N, C] hold the same classes.
fn classes_dims(dims: &[usize]) -> &[usize] {
    let end = dims.iter().rposition(|&d| d != 1).map_or(0, |i| i + 1).max(2.min(dims.len()));
    &dims[..end]
}

/// The model's first output on the GPU (planned with `options`, and with its fully connected
/// dispatches counted) and on the CPU reference, and onnxruntime's.
fn run_model(name: &str, options: &PlanOptions) -> Result<([Tensor; 3], usize)> {
    let dir = family_dir();
    let graph = import_onnx(&dir.join(format!("{name}.onnx")))?;
    let input = read_f32(&dir.join(format!("{name}.input.npy")))?;
    let expected = read_f32(&dir.join(format!("{name}.expected.npy")))?;
    let (gpu, pipelines) = common::gpu();
    let plan = Plan::build(&graph, input.dims[0], options)?;
    let fc_dispatches = plan.dispatches.iter().filter(|d| d.kernel.kernel_name() == "fully connected").count();
    let gpu_out = Engine::new(gpu, pipelines, plan)?.run(&input.data)?.remove(0).1;
    let reference = run_reference(&graph, &input)?.remove(&graph.outputs[0]).expect("the output is computed");
    Ok(([gpu_out, reference, expected], fc_dispatches))
}

/// Why `got` does not match `expected`, if it does not.
fn disagreement(got: &Tensor, expected: &Tensor) -> Option<String> {
    if classes_dims(&got.dims) != classes_dims(&expected.dims) {
        return Some(format!("dims {:?}, expected {:?}", got.dims, expected.dims));
    }
    let got = Tensor::new(expected.dims.clone(), got.data.clone());
    let check = check_value("output", &got, expected, RTOL);
    if !check.passed {
        return Some(format!("max error {} ({} of the largest output)", check.max_abs_err, check.max_rel_err));
    }
    (!top5_agree(&got, expected, RTOL)).then(|| "a different top 5".to_string())
}

#[test]
fn every_family_model_matches_onnxruntime() {
    let lowered = PlanOptions { max_binding_bytes: Some(LOWERED_BINDING_LIMIT), ..Default::default() };
    let mut failures = Vec::new();
    for name in model_names() {
        for (plan, options) in [("default plan", &PlanOptions::default()), ("1 MiB bindings", &lowered)] {
            match run_model(&name, options) {
                Ok(([gpu_out, reference, expected], fc_dispatches)) => {
                    for (what, got) in [("GPU", &gpu_out), ("CPU reference", &reference)] {
                        if let Some(why) = disagreement(got, &expected) {
                            failures.push(format!("{name} ({what}, {plan}): {why}"));
                        }
                    }
                    if name == "big_fc" && options.max_binding_bytes.is_some() && fc_dispatches < 2 {
                        failures.push(format!("{name}: its weight was not split at a {LOWERED_BINDING_LIMIT}-byte binding limit"));
                    }
                }
                Err(e) => failures.push(format!("{name} ({plan}): {:?}: {e}", e.kind())),
            }
        }
    }
    assert!(failures.is_empty(), "{} family models failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_family_model_has_its_data_and_is_described() {
    let dir = family_dir();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for name in model_names() {
        for suffix in ["input.npy", "expected.npy"] {
            assert!(dir.join(format!("{name}.{suffix}")).is_file(), "{name}.{suffix} is missing");
        }
        assert!(readme.contains(&format!("`{name}.onnx`")), "README.md does not describe {name}.onnx");
    }
}
