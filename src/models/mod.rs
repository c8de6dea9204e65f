//! Built-in networks, and where a session's network comes from.

mod builder;
/// The built-in GoogLeNet of the 2014 paper.
#[allow(missing_docs)]
pub mod googlenet;
#[allow(missing_docs)]
pub mod torchvision;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::preprocess::Preprocess;
use crate::state_dict::StateDict;

/// Where a network comes from.
#[derive(Clone, Debug)]
pub enum ModelSource {
    /// The built-in GoogLeNet (the 2014 paper's Table 1) with seeded synthetic weights.
    Builtin,
    /// A `.onnx` (any GoogLeNet-like ONNX model; external data is read from its folder only) or
    /// `.safetensors` (a torchvision GoogLeNet state dict) file.
    File(PathBuf),
    /// The bytes of an ONNX model (its weights inside it: there is no folder for external data).
    OnnxBytes(Vec<u8>),
    /// The bytes of a safetensors torchvision GoogLeNet state dict.
    SafetensorsBytes(Vec<u8>),
}

/// The kinds of model the engine reads; each has the preprocessing its weights were trained with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelFormat {
    /// The built-in GoogLeNet.
    Builtin,
    /// An ONNX model.
    Onnx,
    /// A safetensors torchvision state dict.
    Safetensors,
}

impl ModelFormat {
    /// The preprocessing a model of this format with input `input_chw` most likely takes (an
    /// ONNX file does not say). ONNX files at 224x224 are taken for the model zoo's Caffe models
    /// (BGR, mean-subtracted 0-255); at 299x299 for the Inceptions of torchvision and timm
    /// (v3, v4, Inception-ResNet-v2), trained on [-1, 1] (no Caffe model of the family is
    /// 299x299). torchvision state dicts and the built-in net take torchvision's normalisation.
    pub fn default_preprocess(self, input_chw: [usize; 3]) -> Preprocess {
        match self {
            ModelFormat::Onnx if input_chw == [3, 299, 299] => Preprocess::Inception,
            ModelFormat::Onnx => Preprocess::Caffe,
            ModelFormat::Builtin | ModelFormat::Safetensors => Preprocess::Torchvision,
        }
    }
}

/// How to build the network beyond its source.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Built-in network: add the auxiliary classifiers (outputs `loss1/prob`, `loss2/prob`).
    pub aux: bool,
    /// torchvision state dicts: re-scale the input from ImageNet mean/std to [-1, 1] first, as
    /// torchvision's pretrained GoogLeNet expects.
    pub transform_input: bool,
}

impl ModelSource {
    /// The format of the source; a file's comes from its extension.
    pub fn format(&self) -> Result<ModelFormat> {
        match self {
            ModelSource::Builtin => Ok(ModelFormat::Builtin),
            ModelSource::OnnxBytes(_) => Ok(ModelFormat::Onnx),
            ModelSource::SafetensorsBytes(_) => Ok(ModelFormat::Safetensors),
            ModelSource::File(path) => match path.extension().and_then(|e| e.to_str()) {
                Some("onnx") => Ok(ModelFormat::Onnx),
                Some("safetensors") => Ok(ModelFormat::Safetensors),
                _ => Err(Error::file(path, "unknown model format: expected a .onnx or .safetensors file")),
            },
        }
    }

    /// The network, with weights. An option the format has no use for is an error, not ignored.
    pub fn load(&self, options: LoadOptions) -> Result<Graph> {
        let format = self.format()?;
        let refuse = |flag: &str, applies: &str| Err(Error::unsupported(flag, format!("applies to {applies} only; this model is {format:?}")));
        if options.aux && format != ModelFormat::Builtin {
            return refuse("aux", "the built-in network (a model file has the outputs it declares)");
        }
        if options.transform_input && format != ModelFormat::Safetensors {
            return refuse("transform_input", "torchvision state dicts (.safetensors)");
        }
        let state_dict = |dict: &mut StateDict, path: &Path| torchvision::from_state_dict(dict, options.transform_input).map_err(|e| e.in_file(path));
        let graph = match self {
            ModelSource::Builtin => Ok(googlenet::googlenet(googlenet::Options { aux: options.aux, ..Default::default() })),
            ModelSource::OnnxBytes(bytes) => crate::onnx::import::import_onnx_bytes(bytes),
            ModelSource::SafetensorsBytes(bytes) => {
                let name = Path::new("<safetensors bytes>");
                state_dict(&mut StateDict::from_bytes(name, bytes)?, name)
            }
            ModelSource::File(path) if format == ModelFormat::Onnx => crate::onnx::import::import_onnx(path),
            ModelSource::File(path) => state_dict(&mut StateDict::read(path)?, path),
        }?;
        graph.check_finite().map_err(|e| match self {
            ModelSource::File(path) => e.in_file(path),
            _ => e,
        })?;
        Ok(graph)
    }
}
