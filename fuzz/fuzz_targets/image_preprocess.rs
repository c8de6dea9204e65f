//! Any bytes through the image decoder (with its limits) and every preprocessing: errors are
//! fine, panics are bugs, and no decode may pass the decoder's memory limit.
#![no_main]

use std::path::Path;

use googlenet::preprocess::{decode_image, image_tensor, Preprocess};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = decode_image(data, Path::new("fuzz.img")) {
        for preprocess in Preprocess::ALL {
            for [height, width] in [[224, 224], [299, 299], [9, 31]] {
                if let Ok(tensor) = image_tensor(&image, preprocess, [height, width]) {
                    assert_eq!(tensor.dims, [3, height, width]);
                }
            }
        }
    }
});
