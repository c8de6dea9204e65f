//! The subcommands of the `googlenet` binary.

pub mod bench;
pub mod classify;
pub mod info;
pub mod plan;
pub mod run;
pub mod tune;
pub mod verify;

use std::path::PathBuf;

use googlenet::gpu::Gpu;
use googlenet::graph::Graph;
use googlenet::models::{load, ModelChoice};
use googlenet::plan::{Plan, PlanOptions};
use googlenet::tune::{default_cache_path, TuneCache};
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

/// The plan for `graph`, with the kernel variants `googlenet tune` chose for this adapter (the
/// defaults where it has not been run; a broken cache is reported and ignored).
pub fn tuned_plan(gpu: &Gpu, graph: &Graph, batch: usize, options: &PlanOptions) -> Result<Plan> {
    let cache = TuneCache::load(&default_cache_path()).unwrap_or_else(|e| {
        eprintln!("warning: {e}; using the default kernel variants");
        TuneCache::default()
    });
    googlenet::tune::tuned_plan(gpu, graph, batch, options, &cache)
}
