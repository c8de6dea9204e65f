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
        /// Input images: an NCHW float32 .npy of shape [N, C, H, W] (or [C, H, W]), the model's
        /// input size (3x224x224 for GoogLeNet). Without it, a seeded synthetic batch.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Images per batch (synthetic input), or the count the input file must hold: 1 to 4096.
        #[arg(long, allow_negative_numbers = true, value_parser = cli::flags::BATCH.parser())]
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
        /// How many classes to show per image: 1 to 1000 (a model with fewer shows them all).
        #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = cli::flags::TOP.parser())]
        top: usize,
        /// Images per GPU run: 1 to 256.
        #[arg(long, default_value_t = 8, allow_negative_numbers = true, value_parser = cli::flags::CLASSIFY_BATCH.parser())]
        batch: usize,
        /// Input normalisation (images are resized and cropped to the model's input size); by
        /// default torchvision's for .safetensors models and the built-in network; for .onnx
        /// models Caffe's (BGR, mean-subtracted 0-255), `inception` ([-1, 1]) at 3x299x299.
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
        /// Images per batch: 1 to 4096.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = cli::flags::BATCH.parser())]
        batch: usize,
        /// Timed runs (after two warm-up runs): 1 to 10000.
        #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = cli::flags::BENCH_ITERS.parser())]
        iters: usize,
        /// Timed runs of the CPU reference: 0 to 100 (0 skips it).
        #[arg(long, default_value_t = 2, allow_negative_numbers = true, value_parser = cli::flags::CPU_ITERS.parser())]
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
        /// Images per batch (shapes depend on it): 1 to 4096.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = cli::flags::BATCH.parser())]
        batch: usize,
        /// Timed runs per variant: 1 to 100.
        #[arg(long, default_value_t = 3, allow_negative_numbers = true, value_parser = cli::flags::TUNE_ITERS.parser())]
        iters: usize,
        /// The cache file (default: GOOGLENET_TUNE_CACHE, else ~/.cache/googlenet/tune.json).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show how the network runs: each module's dispatch waves against its critical path, and
    /// the buffers.
    Plan {
        #[command(flatten)]
        model: cli::ModelArgs,
        /// Images per batch: 1 to 4096.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = cli::flags::BATCH.parser())]
        batch: usize,
        /// The plan a GPU or a CPU-like adapter (lavapipe, SwiftShader) gets, with that kind's
        /// defaults, whatever adapter this machine has. Without it: this adapter's plan, tuned.
        #[arg(long = "for", value_enum)]
        target: Option<cli::plan::PlanFor>,
        /// Print the plan's dispatches, waves and modules as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run inference in a loop on one session from several threads for a while, reporting
    /// images/s and resident memory over time; fails (exit status 3) if memory still grows after
    /// the first quarter of the run.
    Soak {
        #[command(flatten)]
        model: cli::ModelArgs,
        /// How long to run, in minutes: 0.05 to 1440.
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = cli::flags::MINUTES.parser())]
        minutes: f64,
        /// Threads sharing the session: 1 to 64.
        #[arg(long, default_value_t = 2, allow_negative_numbers = true, value_parser = cli::flags::THREADS.parser())]
        threads: usize,
        /// Images per run: 1 to 4096.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = cli::flags::BATCH.parser())]
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

/// Mesa's Vulkan device-selection layer (`VK_LAYER_MESA_device_select`, loaded into every Vulkan
/// process where Mesa is installed) asks libwayland for a display each time the adapters are
/// listed, and libwayland prints `error: XDG_RUNTIME_DIR is invalid or not set in the
/// environment.` where there is none: on every start on a server or in a container. Where no
/// Wayland display can be reached the layer has no display to go by, so it is switched off with
/// its own variable, `NODEVICE_SELECT=1`, unless the user set one of the variables it reads.
fn quiet_device_select_layer() {
    let set = |name: &str| std::env::var_os(name).is_some();
    let absolute = |name: &str| std::env::var_os(name).is_some_and(|v| std::path::Path::new(&v).is_absolute());
    let wayland_reachable = set("WAYLAND_SOCKET") || absolute("WAYLAND_DISPLAY") || absolute("XDG_RUNTIME_DIR");
    let layer_configured = ["NODEVICE_SELECT", "MESA_VK_DEVICE_SELECT", "MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE", "DRI_PRIME"].into_iter().any(set);
    if !wayland_reachable && !layer_configured {
        // SAFETY: called first thing in main, before any thread exists.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of stdout goes away
    // (`googlenet classify --json DIR | head`) instead of panicking on the failed write.
    #[cfg(unix)]
    // SAFETY: at the start of main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    quiet_device_select_layer();
    // RUST_LOG picks what is logged (e.g. `RUST_LOG=wgpu=warn`, `RUST_LOG=debug`); by default
    // the engine's warnings only, so that reports stay readable.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("googlenet=warn")).init();
    let args = Args::parse();
    let outcome = match args.command {
        Command::Verify { model, f16_weights, json } => {
            cli::verify::run(model.as_deref(), WeightPrecision::f16_if(f16_weights), json)
        }
        Command::Info { json } => cli::info::run(json),
        Command::Plan { model, batch, target, json } => cli::plan::run(&model, batch, target, json),
        Command::Run { model, input, batch, output, json, no_check, fallback } => {
            cli::run::run(&model, &fallback, cli::run::RunArgs { input, batch, output, json, check: !no_check })
        }
        Command::Bench { model, batch, iters, cpu_iters, serial, split_k, roofline, svg, json } => {
            cli::bench::run(&model, cli::bench::BenchArgs { batch, iters, cpu_iters, serial, split_k, roofline, svg, json })
        }
        Command::Soak { model, minutes, threads, batch, json } => cli::soak::run(&model, cli::soak::SoakArgs { minutes, threads, batch, json }),
        Command::Tune { model, batch, iters, cache, json } => cli::tune::run(&model, batch, iters, cache, json),
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
