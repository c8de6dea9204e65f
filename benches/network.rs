//! The whole GoogLeNet (built-in, synthetic weights) at batch 1 and 8: the GPU engine end to
//! end (upload, compute, read-back) and the CPU reference on the same input. The engine runs the
//! plan `googlenet run` would: with the tuning cache's choices for this adapter, where there are
//! any (`googlenet tune` first).
//!
//! On a software Vulkan device both are CPU-bound: compare the two in one run.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use googlenet::engine::Engine;
use googlenet::gpu::{Gpu, Pipelines};
use googlenet::models::googlenet::{googlenet, Options};
use googlenet::plan::PlanOptions;
use googlenet::reference::run_reference;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;
use googlenet::tune::{default_cache_path, tuned_plan, TuneCache};

fn network(c: &mut Criterion) {
    let gpu = std::sync::Arc::new(Gpu::new().unwrap_or_else(|e| panic!("the network benchmark needs a GPU adapter: {e}")));
    let pipelines = Pipelines::new();
    let graph = googlenet(Options::default());
    let cache = TuneCache::load(&default_cache_path()).unwrap_or_else(|e| {
        eprintln!("warning: {e}; default kernel variants");
        TuneCache::default()
    });
    for batch in [1, 8] {
        let input = Tensor::new(vec![batch, 3, 224, 224], Rng::new(1).symmetric_vec(batch * 3 * 224 * 224));
        let plan = tuned_plan(&gpu, &graph, batch, &PlanOptions::default(), &cache).unwrap();
        let engine = Engine::new(&gpu, &pipelines, plan).unwrap();
        let mut group = c.benchmark_group(format!("googlenet batch {batch}"));
        group.throughput(Throughput::Elements(batch as u64));
        group.sample_size(10).warm_up_time(Duration::from_millis(100)).measurement_time(Duration::from_secs(5));
        group.bench_function("gpu", |b| b.iter(|| engine.run(&input.data).expect("runs")));
        group.bench_function("cpu reference", |b| b.iter(|| run_reference(&graph, &input).expect("runs")));
        group.finish();
    }
}

criterion_group!(benches, network);
criterion_main!(benches);
