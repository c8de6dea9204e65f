//! The subcommands of the `googlenet` binary: thin clients of `Session`.

pub mod bench;
mod chart;
pub mod classify;
pub mod flags;
pub mod info;
mod json;
mod output;
pub mod plan;
mod progress;
pub mod run;
pub mod soak;
pub mod tune;
pub mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use googlenet::gpu::WeightPrecision;
use googlenet::{ModelFormat, Result, Session, SessionBuilder};

/// The binary's exit statuses (clap exits with 2 for usage errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything ran and passed.
    Success = 0,
    /// An error stopped the command.
    Error = 1,
    /// The command finished, but not everything passed: some images could not be classified,
    /// or the GPU and the CPU reference disagree.
    SomeFailed = 3,
    /// Stopped by Ctrl-C, with the results so far written.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

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
    /// Hold conv weights in f16 instead of f32: half the weight memory; the results change by
    /// the weights' rounding (see docs/PERFORMANCE.md). A weight beyond f16's range is refused.
    #[arg(long)]
    pub f16_weights: bool,
}

impl ModelArgs {
    /// The session's builder for this model, for a command to add its own settings.
    pub fn builder(&self) -> SessionBuilder {
        let builder = Session::builder().aux(self.aux).transform_input(self.transform_input).weight_precision(WeightPrecision::f16_if(self.f16_weights));
        match &self.model {
            Some(path) => builder.model_file(path),
            None => builder,
        }
    }

    pub fn session(&self) -> Result<Session> {
        self.builder().build()
    }
}

/// For the commands that can run without a GPU: whether they may fall back to the CPU reference.
#[derive(clap::Args)]
pub struct FallbackArgs {
    /// Fail where no GPU adapter can be opened, instead of running on the CPU reference.
    #[arg(long)]
    pub require_gpu: bool,
}

impl FallbackArgs {
    /// The session `builder` makes; without `--require-gpu`, on the CPU reference where no
    /// adapter can be opened, saying so in one line on stderr.
    pub fn build(&self, builder: SessionBuilder) -> Result<Session> {
        let session = builder.cpu_fallback(!self.require_gpu).build()?;
        if let googlenet::Backend::CpuReference { why } = session.backend() {
            eprintln!("note: running on the CPU reference, far slower than a GPU: {why}; `--require-gpu` makes this an error");
        }
        Ok(session)
    }
}

/// Says so on stderr when the adapter has no tuning cache entry: the plan is the default for
/// the adapter's kind, and `tune` may find a faster one.
pub fn note_untuned(session: &Session) {
    let Ok(gpu) = session.gpu() else { return };
    if !session.tune_cache().has_entry(gpu) {
        let kind = gpu.info.device_type;
        eprintln!("note: no tuning cache entry for this adapter: the defaults for a {kind:?} adapter; `googlenet tune` times every variant here");
    }
}

/// Says so on stderr when the session's classes mean nothing (the built-in network's weights are
/// seeded noise).
pub fn note_synthetic_weights(session: &Session) {
    if session.format() == ModelFormat::Builtin {
        eprintln!("note: the built-in network has seeded synthetic weights, so its classes mean nothing; give --model FILE for real ones");
    }
}
