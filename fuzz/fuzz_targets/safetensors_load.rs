//! Any bytes through the safetensors loader and the torchvision GoogLeNet builder, then the
//! planner: errors are fine, panics are bugs.
#![no_main]

use std::path::Path;

use googlenet::models::torchvision::from_state_dict;
use googlenet::plan::{Plan, PlanOptions};
use googlenet::state_dict::StateDict;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut dict) = StateDict::from_bytes(Path::new("fuzz.safetensors"), data) {
        if let Ok(graph) = from_state_dict(&mut dict, false) {
            let _ = Plan::build(&graph, 1, &PlanOptions::default());
        }
    }
});
