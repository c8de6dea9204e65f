//! One session shared by many threads, each running its own images:
//! `cargo run --release --example threads -- [THREADS] [RUNS_PER_THREAD]`.
//! Prints images per second for 1 thread and for THREADS threads.

use std::sync::Arc;
use std::time::Instant;

use googlenet::{Session, Tensor};

fn throughput(session: &Arc<Session>, threads: usize, runs: usize) -> Result<f64, googlenet::Error> {
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let session = Arc::clone(session);
            std::thread::spawn(move || -> Result<(), googlenet::Error> {
                for run in 0..runs {
                    let value = (t * runs + run) as f32 / 100.0;
                    session.run(&Tensor::new(vec![1, 3, 224, 224], vec![value; 3 * 224 * 224]))?;
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker thread panicked")?;
    }
    Ok((threads * runs) as f64 / started.elapsed().as_secs_f64())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let threads = args.next().transpose()?.unwrap_or(4);
    let runs = args.next().transpose()?.unwrap_or(4);
    let session = Arc::new(Session::builtin()?);
    throughput(&session, 1, 1)?; // plans the batch and compiles the kernels
    for n in [1, threads] {
        println!("{n} thread(s): {:.2} images/s", throughput(&session, n, runs)?);
    }
    let engine = session.engine(1)?;
    println!("{} execution contexts of {:.1} MiB each", engine.contexts(), engine.context_bytes() as f64 / (1 << 20) as f64);
    Ok(())
}
