//! Inputs the fuzz targets (`fuzz/`) once crashed on, and their seeds, replayed through the same
//! code: an error is fine, a panic is a bug. Each target's folder under `fuzz/regressions/` holds
//! what it found; its seeds are replayed too, so every target runs here even before a crash.

use std::path::{Path, PathBuf};

use googlenet::models::torchvision::from_state_dict;
use googlenet::onnx::import::{import_onnx, import_onnx_bytes};
use googlenet::plan::{Plan, PlanOptions};
use googlenet::preprocess::{decode_image, image_tensor, Preprocess};
use googlenet::state_dict::StateDict;
use googlenet::tune::TuneCache;

/// Every file in `fuzz/regressions/<target>` and `fuzz/seeds/<target>`.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<PathBuf> = ["regressions", "seeds"]
        .iter()
        .filter_map(|kind| std::fs::read_dir(fuzz.join(kind).join(target)).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds or regressions for {target}");
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

fn replay(target: &str, run: impl Fn(&[u8])) {
    for (name, bytes) in inputs(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&bytes)));
        assert!(outcome.is_ok(), "{target}: {name} panics");
    }
}

fn plan(graph: &googlenet::graph::Graph) {
    let _ = Plan::build(graph, 1, &PlanOptions::default());
}

#[test]
fn onnx_import_inputs_do_not_panic() {
    replay("onnx_import", |bytes| {
        if let Ok(graph) = import_onnx_bytes(bytes) {
            plan(&graph);
        }
    });
}

#[test]
fn onnx_external_inputs_do_not_panic() {
    // As the fuzz target lays them out: the model, a separator, then `w.bin` beside it.
    let dir = std::env::temp_dir().join(format!("googlenet-fuzz-external-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut imported = 0;
    for (name, bytes) in inputs("onnx_external") {
        let split = bytes.windows(9).position(|w| w == b"--w.bin--").unwrap_or(bytes.len());
        std::fs::write(dir.join("model.onnx"), &bytes[..split]).unwrap();
        std::fs::write(dir.join("w.bin"), bytes.get(split + 9..).unwrap_or_default()).unwrap();
        match std::panic::catch_unwind(|| import_onnx(&dir.join("model.onnx"))) {
            Err(_) => panic!("onnx_external: {name} panics"),
            Ok(result) => imported += usize::from(result.is_ok()),
        }
    }
    assert!(imported >= 1, "the seed with external data must import");
}

#[test]
fn safetensors_load_inputs_do_not_panic() {
    replay("safetensors_load", |bytes| {
        if let Ok(mut dict) = StateDict::from_bytes(Path::new("fuzz.safetensors"), bytes)
            && let Ok(graph) = from_state_dict(&mut dict, false)
        {
            plan(&graph);
        }
    });
}

#[test]
fn npy_read_inputs_do_not_panic() {
    replay("npy_read", |bytes| drop(googlenet::npy::parse_f32(bytes, Path::new("fuzz.npy"))));
}

#[test]
fn image_preprocess_inputs_do_not_panic() {
    replay("image_preprocess", |bytes| {
        if let Ok(image) = decode_image(bytes, Path::new("fuzz.img")) {
            for preprocess in Preprocess::ALL {
                for [height, width] in [[224, 224], [299, 299], [9, 31]] {
                    if let Ok(tensor) = image_tensor(&image, preprocess, [height, width]) {
                        assert_eq!(tensor.dims, [3, height, width]);
                    }
                }
            }
        }
    });
}

#[test]
fn tune_cache_inputs_do_not_panic() {
    replay("tune_cache", |bytes| drop(TuneCache::parse(bytes, Path::new("fuzz.json"))));
}
