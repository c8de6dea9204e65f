//! The whole GoogLeNet on the GPU against the CPU reference network.

mod common;

use googlenet::engine::Engine;
use googlenet::models::googlenet::{googlenet, Options};
use googlenet::plan::{Plan, PlanOptions};
use googlenet::reference::run_reference;
use googlenet::rng::Rng;
use googlenet::tensor::Tensor;

fn random_images(batch: usize, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    Tensor::new(vec![batch, 3, 224, 224], rng.symmetric_vec(batch * 3 * 224 * 224))
}

#[test]
fn quick_look() {
    let (gpu, pipelines) = common::gpu();
    let graph = googlenet(Options::default());
    let input = random_images(1, 1);
    let t = std::time::Instant::now();
    let reference = run_reference(&graph, &input).unwrap();
    eprintln!("cpu {:?}", t.elapsed());
    let keep: Vec<String> = graph.nodes.iter().filter(|n| n.name.ends_with("/output")).map(|n| n.output.clone()).collect();
    let plan = Plan::build(&graph, 1, &PlanOptions { keep }).unwrap();
    let engine = Engine::new(gpu, pipelines, plan).unwrap();
    let t = std::time::Instant::now();
    let outputs = engine.run(&input.data).unwrap();
    eprintln!("gpu {:?}", t.elapsed());
    for (name, t) in &outputs {
        let r = &reference[name];
        let scale = r.data.iter().fold(0f32, |m, v| m.max(v.abs()));
        let err = t.data.iter().zip(&r.data).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("{name}: scale {scale} max abs err {err}");
    }
}
