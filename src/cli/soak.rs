//! `googlenet soak`: inference in a loop on one session from several threads, with throughput
//! and resident memory sampled over time. Memory must level off after warm-up: a run whose
//! resident set still grows afterwards fails (exit status 3).

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use googlenet::rng::Rng;
use googlenet::{Result, Tensor};

use super::{Exit, ModelArgs};

pub struct SoakArgs {
    pub minutes: f64,
    pub threads: usize,
    pub batch: usize,
    pub json: bool,
}

/// The share of the run counted as warm-up (engines built, pools and caches filled).
const WARM_UP_SHARE: f64 = 0.25;
/// Growth after warm-up that still counts as level: allocator noise, not a leak.
const ALLOWED_GROWTH_BYTES: u64 = 16 << 20;

/// The resident set of this process, where the OS says (Linux: `VmRSS` in `/proc/self/status`).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

struct Sample {
    seconds: f64,
    images: usize,
    resident: Option<u64>,
}

pub fn run(model: &ModelArgs, args: SoakArgs) -> Result<ExitCode> {
    let session = model.session()?;
    let [c, h, w] = session.input_chw();
    let batch = args.batch;
    // Planned (and checked against the device's limits) before the input is made.
    session.split(batch)?;
    let input = Tensor::new(vec![batch, c, h, w], Rng::new(17).symmetric_vec(batch * c * h * w));
    // Finite and at least 3 s: `flags::MINUTES` was checked when the flags were parsed.
    let duration = Duration::from_secs_f64(args.minutes * 60.0);
    let every = (duration / 10).min(Duration::from_secs(30));
    let (images, stop) = (AtomicUsize::new(0), AtomicBool::new(false));
    let started = Instant::now();
    let mut samples = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..args.threads)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    while !stop.load(Ordering::Relaxed) {
                        session.run(&input)?;
                        images.fetch_add(batch, Ordering::Relaxed);
                    }
                    Ok(())
                })
            })
            .collect();
        while started.elapsed() < duration && !workers.iter().any(|w| w.is_finished()) {
            std::thread::sleep(every.min(duration.saturating_sub(started.elapsed())));
            let sample = Sample { seconds: started.elapsed().as_secs_f64(), images: images.load(Ordering::Relaxed), resident: resident_bytes() };
            if !args.json {
                let rss = sample.resident.map_or("unknown".into(), |r| format!("{:.1} MiB", r as f64 / (1 << 20) as f64));
                eprintln!("{:>7.1} s  {:>6} images  {:>7.2} images/s  resident {rss}", sample.seconds, sample.images, sample.images as f64 / sample.seconds);
            }
            samples.push(sample);
        }
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().try_for_each(|w| w.join().expect("a soak thread panicked"))
    })?;
    let warm = samples.iter().find(|s| s.seconds >= WARM_UP_SHARE * duration.as_secs_f64()).and_then(|s| s.resident);
    let last = samples.last().and_then(|s| s.resident);
    let growth = warm.zip(last).map(|(warm, last)| last.saturating_sub(warm));
    let level = growth.is_none_or(|g| g <= ALLOWED_GROWTH_BYTES);
    let total = samples.last().map_or(0, |s| s.images);
    let rate = total as f64 / started.elapsed().as_secs_f64();
    if args.json {
        let report = serde_json::json!({
            "adapter": super::json::adapter(session.gpu()?),
            "threads": args.threads,
            "batch": batch,
            "seconds": started.elapsed().as_secs_f64(),
            "images": total,
            "images_per_s": rate,
            "samples": samples.iter().map(|s| serde_json::json!({"seconds": s.seconds, "images": s.images, "resident_bytes": s.resident})).collect::<Vec<_>>(),
            "growth_after_warm_up_bytes": growth,
            "passed": level,
        });
        super::output::print_json(&report)?;
    } else {
        let growth = growth.map_or("not measured on this OS".into(), |g| format!("{:.1} MiB", g as f64 / (1 << 20) as f64));
        super::output::print(&format!(
            "{total} images in {:.1} s: {rate:.2} images/s; resident growth after warm-up {growth}: {}\n",
            started.elapsed().as_secs_f64(),
            if level { "level" } else { "GROWING" }
        ))?;
    }
    Ok(if level { Exit::Success } else { Exit::SomeFailed }.into())
}
