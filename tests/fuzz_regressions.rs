//! Inputs the fuzz targets (`fuzz/`) once crashed on, replayed through the same code: an error
//! is fine, a panic is a bug.

use std::path::Path;

use googlenet::models::torchvision::from_state_dict;
use googlenet::onnx::import::import_onnx_bytes;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::state_dict::StateDict;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn onnx_import_regressions_do_not_panic() {
    let cases = inputs("onnx_import");
    assert!(!cases.is_empty());
    for (name, bytes) in cases {
        let outcome = std::panic::catch_unwind(|| {
            if let Ok(graph) = import_onnx_bytes(&bytes) {
                let _ = Plan::build(&graph, 1, &PlanOptions::default());
            }
        });
        assert!(outcome.is_ok(), "{name} panics");
    }
}

#[test]
fn safetensors_load_regressions_do_not_panic() {
    for (name, bytes) in inputs("safetensors_load") {
        let outcome = std::panic::catch_unwind(|| {
            if let Ok(mut dict) = StateDict::from_bytes(Path::new(&name), &bytes)
                && let Ok(graph) = from_state_dict(&mut dict, false) {
                    let _ = Plan::build(&graph, 1, &PlanOptions::default());
                }
        });
        assert!(outcome.is_ok(), "{name} panics");
    }
}
