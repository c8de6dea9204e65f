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
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
