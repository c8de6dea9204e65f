//! Built-in networks.

mod builder;
pub mod googlenet;
pub mod torchvision;

use std::path::Path;

use crate::error::{Error, Result};
use crate::graph::Graph;

/// What the engine runs: a model file, or the built-in GoogLeNet with synthetic weights.
#[derive(Clone, Debug, Default)]
pub struct ModelChoice<'a> {
    /// `.onnx` (any GoogLeNet-like ONNX model) or `.safetensors` (a torchvision GoogLeNet state
    /// dict); None for the built-in network.
    pub path: Option<&'a Path>,
    /// Built-in network: add the auxiliary classifiers.
    pub aux: bool,
    /// torchvision state dicts: re-scale the input from ImageNet mean/std to [-1, 1] first, as
    /// torchvision's pretrained GoogLeNet expects.
    pub transform_input: bool,
}

pub fn load(choice: &ModelChoice) -> Result<Graph> {
    let Some(path) = choice.path else {
        return Ok(googlenet::googlenet(googlenet::Options { aux: choice.aux, ..Default::default() }));
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("onnx") => crate::onnx::import::import_onnx(path),
        Some("safetensors") => {
            let mut dict = crate::state_dict::StateDict::read(path)?;
            torchvision::from_state_dict(&mut dict, choice.transform_input).map_err(|e| match e {
                Error::File { .. } => e,
                other => Error::file(path, other.to_string()),
            })
        }
        _ => Err(Error::file(path, "unknown model format: expected a .onnx or .safetensors file")),
    }
}
