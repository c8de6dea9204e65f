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
//! Every model is accounted for: it runs and matches, or it is listed in `NOT_YET` with the
//! error kind and the words its error must contain. A listed model that runs fails the test,
//! so that the list shrinks as the engine learns each pattern.

mod common;

use std::path::{Path, PathBuf};

use googlenet::engine::Engine;
use googlenet::npy::read_f32;
use googlenet::onnx::import::import_onnx;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::reference::run_reference;
use googlenet::verify::{check_value, top5_agree};
use googlenet::{ErrorKind, Result, Tensor};

/// The largest difference from onnxruntime, relative to the output's largest magnitude.
const RTOL: f32 = 1e-4;

use ErrorKind::Unsupported;

/// Models the engine refuses today: the kind of error and words it must contain.
const NOT_YET: &[(&str, ErrorKind, &str)] = &[
    ("alexnet_grouped", Unsupported, "`group` = 2 (only 1)"),
    ("bn_inception", Unsupported, "operator `Unsqueeze`"),
    ("densenet_block", Unsupported, "operator `Unsqueeze`"),
    ("depthwise_multiplier", Unsupported, "`group` = 8 (only 1)"),
    ("inception_resnet", Unsupported, "operator `Mul`"),
    ("reducemean_head", Unsupported, "operator `ReduceMean`"),
    ("reducemean_head_opset13", Unsupported, "operator `ReduceMean`"),
    // The residual add: Add of two activations.
    ("resnet_bottleneck", Unsupported, "must be a float constant"),
    ("resnet_sum", Unsupported, "operator `Sum`"),
    ("shufflenet_unit", Unsupported, "`group` = 4 (only 1)"),
    ("squeeze_head", Unsupported, "operator `Unsqueeze`"),
    ("squeeze_head_squeezed", Unsupported, "operator `Unsqueeze`"),
];

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

/// The model's first output on the GPU and on the CPU reference, and onnxruntime's.
fn run_model(name: &str) -> Result<[Tensor; 3]> {
    let dir = family_dir();
    let graph = import_onnx(&dir.join(format!("{name}.onnx")))?;
    let input = read_f32(&dir.join(format!("{name}.input.npy")))?;
    let expected = read_f32(&dir.join(format!("{name}.expected.npy")))?;
    let (gpu, pipelines) = common::gpu();
    let plan = Plan::build(&graph, input.dims[0], &PlanOptions::default())?;
    let gpu_out = Engine::new(gpu, pipelines, plan)?.run(&input.data)?.remove(0).1;
    let reference = run_reference(&graph, &input)?.remove(&graph.outputs[0]).expect("the output is computed");
    Ok([gpu_out, reference, expected])
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
fn every_family_model_matches_onnxruntime_or_is_listed() {
    let (mut ran, mut failures) = (Vec::new(), Vec::new());
    for name in model_names() {
        let listed = NOT_YET.iter().find(|(model, ..)| *model == name);
        match (run_model(&name), listed) {
            (Ok([gpu_out, reference, expected]), None) => {
                for (what, got) in [("GPU", &gpu_out), ("CPU reference", &reference)] {
                    if let Some(why) = disagreement(got, &expected) {
                        failures.push(format!("{name} ({what}): {why}"));
                    }
                }
                ran.push(name);
            }
            (Ok(_), Some(_)) => failures.push(format!("{name} ran, but is listed as not yet supported")),
            (Err(e), Some((_, kind, words))) if e.kind() == *kind && e.to_string().contains(words) => {}
            (Err(e), listed) => failures.push(format!("{name}: {:?}: {e} (listed: {listed:?})", e.kind())),
        }
    }
    assert!(failures.is_empty(), "{} family models failed:\n{}", failures.len(), failures.join("\n"));
    eprintln!("ran and matched: {ran:?}; {} refused as listed", NOT_YET.len());
}

#[test]
fn every_listed_model_exists() {
    let names = model_names();
    for (model, ..) in NOT_YET {
        assert!(names.iter().any(|n| n == model), "{model} is listed but has no file");
    }
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
