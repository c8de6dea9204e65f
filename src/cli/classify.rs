//! `googlenet classify`: JPEG or PNG images in, the top ImageNet classes out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use googlenet::engine::Engine;
use googlenet::gpu::{Gpu, Pipelines};
use googlenet::labels::class_name;
use googlenet::plan::PlanOptions;
use googlenet::preprocess::{load_image, Preprocess};
use googlenet::tensor::Tensor;
use googlenet::verify::top_k;
use googlenet::{Error, Result};

use super::{tuned_plan, ModelArgs};

/// Rows that are not already probabilities (a model ending in logits) go through a softmax.
fn to_probabilities(mut scores: Tensor) -> Tensor {
    let classes = scores.dims[1];
    for row in scores.data.chunks_mut(classes) {
        let is_distribution = row.iter().all(|&p| (0.0..=1.0).contains(&p)) && (row.iter().sum::<f32>() - 1.0).abs() < 1e-3;
        if !is_distribution {
            let max = row.iter().copied().fold(f32::MIN, f32::max);
            row.iter_mut().for_each(|v| *v = (*v - max).exp());
            let sum: f32 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= sum);
        }
    }
    scores
}

pub fn run(model: &ModelArgs, top: usize, preprocess: Option<Preprocess>, json: bool, images: &[PathBuf]) -> Result<ExitCode> {
    let graph = model.load()?;
    let is_onnx = model.model.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e == "onnx"));
    let preprocess = preprocess.unwrap_or(if is_onnx { Preprocess::Caffe } else { Preprocess::Torchvision });
    if graph.input_chw != [3, 224, 224] {
        return Err(Error::shape("model", format!("input is {:?}; classify feeds 3x224x224 images", graph.input_chw)));
    }
    let mut data = Vec::with_capacity(images.len() * 3 * 224 * 224);
    for path in images {
        data.extend(load_image(path, preprocess)?.data);
    }
    let gpu = Gpu::new()?;
    let engine = Engine::new(&gpu, &Pipelines::new(), tuned_plan(&gpu, &graph, images.len(), &PlanOptions::default())?)?;
    let started = Instant::now();
    let outputs = engine.run(&data)?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let (_, scores) = outputs.into_iter().next().ok_or_else(|| Error::shape("model", "no output"))?;
    if scores.dims.len() != 2 {
        return Err(Error::shape("model", format!("output dims {:?}; classify expects [N, classes]", scores.dims)));
    }
    let ranked = top_k(&to_probabilities(scores), top);
    if json {
        let results: Vec<_> = images
            .iter()
            .zip(&ranked)
            .map(|(path, row)| {
                let classes: Vec<_> = row.iter().map(|(c, p)| serde_json::json!({"class": c, "label": class_name(*c), "probability": p})).collect();
                serde_json::json!({"image": path, "top": classes})
            })
            .collect();
        let report = serde_json::json!({"adapter": gpu.describe(), "preprocess": format!("{preprocess:?}").to_lowercase(), "gpu_ms": ms, "images": results});
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
        return Ok(ExitCode::SUCCESS);
    }
    for (path, row) in images.iter().zip(&ranked) {
        println!("{}", path.display());
        for (class, p) in row {
            println!("  {p:>8.4}  {class:>4}  {}", class_name(*class));
        }
    }
    println!("{} image(s) in {ms:.1} ms on {}", images.len(), gpu.describe());
    Ok(ExitCode::SUCCESS)
}
