//! Any bytes through the ONNX importer and, if they import, shape inference and the planner:
//! errors are fine, panics are bugs.
#![no_main]

use googlenet::onnx::import::import_onnx_bytes;
use googlenet::plan::{Plan, PlanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(graph) = import_onnx_bytes(data) {
        let _ = Plan::build(&graph, 1, &PlanOptions::default());
    }
});
