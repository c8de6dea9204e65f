use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

#[derive(Parser)]
#[command(name = "googlenet", version, about = "GoogLeNet inference on hand-written WGSL compute kernels")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every kernel case on this adapter against the CPU reference.
    Verify {
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run GoogLeNet on the GPU: top-5 classes, time, and a check against the CPU reference.
    Run {
        /// Input images: an NCHW float32 .npy of shape [N, 3, 224, 224] (or [3, 224, 224]).
        /// Without it, a seeded synthetic batch.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Images per batch (synthetic input), or the count the input file must hold.
        #[arg(long)]
        batch: Option<usize>,
        /// Also compute the auxiliary classifiers (after 4a and 4d).
        #[arg(long)]
        aux: bool,
        /// Write the class probabilities as .npy (auxiliary outputs next to it).
        #[arg(long)]
        output: Option<PathBuf>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
        /// Skip the check against the CPU reference.
        #[arg(long)]
        no_check: bool,
    },
    /// Show how the network runs: each inception module's dispatch waves, and the buffers.
    Plan {
        /// Images per batch.
        #[arg(long, default_value_t = 1)]
        batch: usize,
        /// Include the auxiliary classifiers.
        #[arg(long)]
        aux: bool,
    },
    /// Show the adapter, its backend, driver, features and the limits the engine uses.
    Info {
        /// Print the same as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = match args.command {
        Command::Verify { json } => cli::verify::run(json),
        Command::Info { json } => cli::info::run(json),
        Command::Plan { batch, aux } => cli::plan::run(batch, aux),
        Command::Run { input, batch, aux, output, json, no_check } => {
            cli::run::run(cli::run::RunArgs { input, batch, aux, output, json, check: !no_check })
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
