//! Any bytes through the tuning-cache parser; what parses must save and parse back the same.
#![no_main]

use std::path::Path;

use googlenet::tune::TuneCache;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cache) = TuneCache::parse(data, Path::new("fuzz.json")) {
        let text = serde_json::to_vec(&cache).expect("a parsed cache serialises");
        TuneCache::parse(&text, Path::new("fuzz.json")).expect("a saved cache parses");
    }
});
