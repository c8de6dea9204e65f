//! An ONNX model with external data, in a folder of its own: the input is the model's bytes, then
//! `EXTERNAL_SPLIT`, then the bytes of `w.bin` beside it. A `sealed.bin` lies outside the folder;
//! whatever the model names, importing must never read it (its bytes are NaN-free markers that
//! would show in the weights), and must never panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use googlenet::onnx::import::import_onnx;
use libfuzzer_sys::fuzz_target;

/// Separates the model from its external data file in a fuzz input.
const EXTERNAL_SPLIT: &[u8] = b"--w.bin--";
/// What `sealed.bin`, outside the model's folder, holds: 12345.0 as f32, over and over.
const SEALED: f32 = 12345.0;

fn folders() -> &'static (PathBuf, PathBuf) {
    static FOLDERS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FOLDERS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("googlenet-fuzz-external-{}", std::process::id()));
        let model = root.join("model");
        std::fs::create_dir_all(&model).unwrap();
        let sealed: Vec<u8> = std::iter::repeat_n(SEALED.to_le_bytes(), 1 << 16).flatten().collect();
        std::fs::write(root.join("sealed.bin"), sealed).unwrap();
        (root, model)
    })
}

fuzz_target!(|data: &[u8]| {
    let (_, model_dir) = folders();
    let split = data.windows(EXTERNAL_SPLIT.len()).position(|w| w == EXTERNAL_SPLIT);
    let (model, weights) = match split {
        Some(at) => (&data[..at], &data[at + EXTERNAL_SPLIT.len()..]),
        None => (data, &[][..]),
    };
    let path = model_dir.join("model.onnx");
    std::fs::write(&path, model).unwrap();
    std::fs::write(model_dir.join("w.bin"), weights).unwrap();
    if let Ok(graph) = import_onnx(&path) {
        for node in &graph.nodes {
            for (_, values) in node.op.parameters() {
                let sealed_run = values.windows(4).any(|w| w.iter().all(|&v| v == SEALED));
                assert!(!sealed_run || weights.windows(16).any(|w| w == [SEALED.to_le_bytes(); 4].concat()), "read outside the model's folder");
            }
        }
    }
});
