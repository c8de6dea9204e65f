//! The subcommands of the `googlenet` binary.

pub mod bench;
pub mod classify;
pub mod info;
pub mod plan;
pub mod run;
pub mod verify;

use std::path::PathBuf;

use googlenet::graph::Graph;
use googlenet::models::{load, ModelChoice};
use googlenet::Result;

/// Which network to run, shared by the commands that run one.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// A model file: .onnx (e.g. the ONNX model zoo's GoogLeNet) or .safetensors (a torchvision
    /// GoogLeNet state dict). Without it, the built-in GoogLeNet with seeded synthetic weights.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Built-in network: also compute the auxiliary classifiers (after 4a and 4d).
    #[arg(long)]
    pub aux: bool,
    /// torchvision state dicts: map the input from ImageNet mean/std normalisation to [-1, 1]
    /// first. Use it with torchvision's pretrained weights (its `transform_input=True`).
    #[arg(long)]
    pub transform_input: bool,
}

impl ModelArgs {
    pub fn load(&self) -> Result<Graph> {
        load(&ModelChoice { path: self.model.as_deref(), aux: self.aux, transform_input: self.transform_input })
    }
}
