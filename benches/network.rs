//! The whole GoogLeNet (built-in, synthetic weights) at batch 1 and 8: the GPU engine end to
//! end (upload, compute, read-back) and the CPU reference on the same input.
//!
//! On a software Vulkan device both are CPU-bound: compare the two in one run.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use googlenet::engine::Engine;
use googlenet::gpu::{Gpu, Pipelines};
use googlenet::models::googlenet::{googlenet, Options};
use googlenet::plan::{Plan, PlanOptions};
use googlenet::reference::run_reference;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;

fn network(c: &mut Criterion) {
    let gpu = Gpu::new().unwrap_or_else(|e| panic!("the network benchmark needs a GPU adapter: {e}"));
    let pipelines = Pipelines::new();
    let graph = googlenet(Options::default());
    for batch in [1, 8] {
        let input = Tensor::new(vec![batch, 3, 224, 224], Rng::new(1).symmetric_vec(batch * 3 * 224 * 224));
        let engine = Engine::new(&gpu, &pipelines, Plan::build(&graph, batch, &PlanOptions::default()).unwrap()).unwrap();
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
