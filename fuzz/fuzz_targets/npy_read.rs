//! Any bytes through the `.npy` reader: errors are fine, panics and allocations past the element
//! cap are bugs.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = googlenet::npy::parse_f32(data, Path::new("fuzz.npy"));
});
