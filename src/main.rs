use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use googlenet::gpu::WeightPrecision;
use googlenet::preprocess::Preprocess;

mod cli;

#[derive(Parser)]
#[command(name = "googlenet", version, about = "GoogLeNet inference on hand-written WGSL compute kernels")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every kernel case on this adapter against the CPU reference, then the whole network
    /// module by module.
    Verify {
        /// The network to check: a .onnx or .safetensors file (default: the built-in GoogLeNet
        /// with its auxiliary classifiers).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Check the network with its conv weights held in f16 (at the tolerance stated for them).
        #[arg(long)]
        f16_weights: bool,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run GoogLeNet on the GPU: top-5 classes, time, and a check against the CPU reference.
    Run {
        #[command(flatten)]
        model: cli::ModelArgs,
        /// Input images: an NCHW float32 .npy of shape [N, 3, 224, 224] (or [3, 224, 224]).
        /// Without it, a seeded synthetic batch.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Images per batch (synthetic input), or the count the input file must hold.
        #[arg(long)]
        batch: Option<usize>,
        /// Write the first output (class probabilities) as .npy, any others next to it.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
        /// Skip the check against the CPU reference.
        #[arg(long)]
        no_check: bool,
        #[command(flatten)]
        fallback: cli::FallbackArgs,
    },
    /// Classify JPEG or PNG images, and every image under the folders given: the top classes of
    /// each. A file that cannot be read is reported and skipped. Exit status 0: every image was
    /// classified; 3: some failed; 1: an error stopped the run; 130: stopped by Ctrl-C.
    Classify {
        #[command(flatten)]
        model: cli::ModelArgs,
        /// How many classes to show per image.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Images per GPU run.
        #[arg(long, default_value_t = 8)]
        batch: usize,
        /// Input normalisation; by default torchvision's for .safetensors models and the built-in
        /// network, Caffe's (BGR, mean-subtracted 0-255) for .onnx models.
        #[arg(long)]
        preprocess: Option<Preprocess>,
        /// Write one JSON line per image to this file (`-`: stdout) instead of text.
        #[arg(long, conflicts_with = "json")]
        json_lines: Option<PathBuf>,
        /// The JSON lines on stdout (`--json-lines -`).
        #[arg(long)]
        json: bool,
        /// Image files and folders (walked recursively for .jpg, .jpeg and .png files).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        fallback: cli::FallbackArgs,
    },
    /// Time the network: end to end and on the GPU, per layer and per inception module, against
    /// the CPU reference.
    Bench {
        #[command(flatten)]
        model: cli::ModelArgs,
        /// Images per batch.
        #[arg(long, default_value_t = 1)]
        batch: usize,
        /// Timed runs (after two warm-up runs).
        #[arg(long, default_value_t = 10)]
        iters: usize,
        /// Timed runs of the CPU reference (0 to skip it).
        #[arg(long, default_value_t = 2)]
        cpu_iters: usize,
        /// Also time the same network with one branch after another.
        #[arg(long)]
        serial: bool,
        /// Also time the same network with its small convs split along K (split-K: what `tune`
        /// tries on a GPU, whose cores the 7x7 and 14x14 convs leave idle).
        #[arg(long)]
        split_k: bool,
        /// Also time each 1x1 conv alone: the best GEMM rate, against the network's rates.
        #[arg(long)]
        roofline: bool,
        /// Draw the per-module GPU time as an SVG bar chart.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Time each kernel variant at the network's shapes on this adapter and keep the fastest
    /// (used by run, bench and classify from then on).
    Tune {
        #[command(flatten)]
        model: cli::ModelArgs,
        /// Images per batch (shapes depend on it).
        #[arg(long, default_value_t = 1)]
        batch: usize,
        /// Timed runs per variant.
        #[arg(long, default_value_t = 3)]
        iters: usize,
        /// The cache file (default: GOOGLENET_TUNE_CACHE, else ~/.cache/googlenet/tune.json).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show how the network runs: each inception module's dispatch waves, and the buffers.
    Plan {
        #[command(flatten)]
        model: cli::ModelArgs,
        /// Images per batch.
        #[arg(long, default_value_t = 1)]
        batch: usize,
    },
    /// Run inference in a loop on one session from several threads for a while, reporting
    /// images/s and resident memory over time; fails (exit status 3) if memory still grows after
    /// the first quarter of the run.
    Soak {
        #[command(flatten)]
        model: cli::ModelArgs,
        /// How long to run.
        #[arg(long, default_value_t = 1.0)]
        minutes: f64,
        /// Threads sharing the session.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Images per run.
        #[arg(long, default_value_t = 1)]
        batch: usize,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the adapter, its backend, driver, features and the limits the engine uses.
    Info {
        /// Print the same as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of stdout goes away
    // (`googlenet classify --json DIR | head`) instead of panicking on the failed write.
    #[cfg(unix)]
    // SAFETY: at the start of main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // RUST_LOG picks what is logged (e.g. `RUST_LOG=wgpu=warn`, `RUST_LOG=debug`); by default
    // the engine's warnings only, so that reports stay readable.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("googlenet=warn")).init();
    let args = Args::parse();
    let outcome = match args.command {
        Command::Verify { model, f16_weights, json } => {
            cli::verify::run(model.as_deref(), WeightPrecision::f16_if(f16_weights), json)
        }
        Command::Info { json } => cli::info::run(json),
        Command::Plan { model, batch } => cli::plan::run(&model, batch),
        Command::Run { model, input, batch, output, json, no_check, fallback } => {
            cli::run::run(&model, &fallback, cli::run::RunArgs { input, batch, output, json, check: !no_check })
        }
        Command::Bench { model, batch, iters, cpu_iters, serial, split_k, roofline, svg, json } => {
            cli::bench::run(&model, cli::bench::BenchArgs { batch, iters: iters.max(1), cpu_iters, serial, split_k, roofline, svg, json })
        }
        Command::Soak { model, minutes, threads, batch, json } => cli::soak::run(&model, cli::soak::SoakArgs { minutes, threads, batch, json }),
        Command::Tune { model, batch, iters, cache, json } => cli::tune::run(&model, batch, iters.max(1), cache, json),
        Command::Classify { model, top, batch, preprocess, json_lines, json, paths, fallback } => {
            let json_lines = if json { Some(PathBuf::from("-")) } else { json_lines };
            cli::classify::run(&model, &fallback, cli::classify::ClassifyArgs { paths, batch, top, preprocess, json_lines })
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            cli::Exit::Error.into()
        }
    }
}
