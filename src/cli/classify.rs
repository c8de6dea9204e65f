//! `googlenet classify`: JPEG or PNG images in, the top ImageNet classes out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use googlenet::preprocess::{open_image, Preprocess};
use googlenet::Result;

use super::ModelArgs;

pub fn run(model: &ModelArgs, top: usize, preprocess: Option<Preprocess>, json: bool, paths: &[PathBuf]) -> Result<ExitCode> {
    let builder = model.builder();
    let session = match preprocess {
        Some(p) => builder.preprocess(p),
        None => builder,
    }
    .build()?;
    let mut images = Vec::with_capacity(paths.len());
    for path in paths {
        images.push(open_image(path)?);
    }
    let started = Instant::now();
    let ranked = session.classify(&images, top)?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let adapter = session.gpu().describe();
    if json {
        let results: Vec<_> = paths
            .iter()
            .zip(&ranked)
            .map(|(path, row)| {
                let classes: Vec<_> = row.iter().map(|p| serde_json::json!({"class": p.class, "label": p.label, "probability": p.probability})).collect();
                serde_json::json!({"image": path, "top": classes})
            })
            .collect();
        let report = serde_json::json!({"adapter": adapter, "preprocess": session.preprocess().name(), "gpu_ms": ms, "images": results});
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
        return Ok(ExitCode::SUCCESS);
    }
    for (path, row) in paths.iter().zip(&ranked) {
        println!("{}", path.display());
        for p in row {
            println!("  {:>8.4}  {:>4}  {}", p.probability, p.class, p.label);
        }
    }
    println!("{} image(s) in {ms:.1} ms on {adapter}", paths.len());
    Ok(ExitCode::SUCCESS)
}
