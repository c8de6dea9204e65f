//! The whole network on the GPU against the CPU reference, module by module, so a wrong module
//! is named rather than just a wrong answer.

use std::sync::Arc;

use serde::Serialize;

use crate::engine::Engine;
use crate::error::Result;
use crate::gpu::{Gpu, Pipelines, WeightPrecision};
use crate::graph::Graph;
use crate::plan::{find_modules, Plan, PlanOptions};
use crate::reference::run_reference;
use crate::tensor::Tensor;

/// Accepted error of a network value relative to its largest magnitude. Each layer may differ
/// from the reference by rounding in another summation order (n * eps for n terms, up to ~5e-4
/// in the worst case, ~1e-6 observed as errors average out); 1e-4 leaves room for that over 22
/// layers while a wrong element, slice or pad anywhere shows up as an error of order 1.
pub const NETWORK_RTOL: f32 = 1e-4;

/// The same with conv weights rounded to f16 (the reference keeps f32): rounding moves a weight
/// by at most 2^-11 (f16's unit roundoff, 4.9e-4) of itself, so a layer's output by at most
/// 2^-11 of the sum of its terms' magnitudes; over GoogLeNet's 22 layers these add up to about
/// 22 * 2^-11 = 1.1e-2 to first order. Measured: 1.3e-3 on the full-width test model's
/// probabilities. A wrong index still errs by the order of the value itself.
pub const NETWORK_RTOL_F16_WEIGHTS: f32 = 1e-2;

/// The accepted error of network values for conv weights held in `weights`.
pub fn network_rtol(weights: WeightPrecision) -> f32 {
    match weights {
        WeightPrecision::F32 => NETWORK_RTOL,
        WeightPrecision::F16 => NETWORK_RTOL_F16_WEIGHTS,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ValueCheck {
    pub name: String,
    pub max_abs_err: f32,
    /// max_abs_err / max |reference|.
    pub max_rel_err: f32,
    pub passed: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct NetworkCheck {
    /// Each inception module's output, then the graph outputs.
    pub values: Vec<ValueCheck>,
    /// Per image and graph output: do GPU and reference agree on the top-5 classes?
    pub top5_agree: bool,
    /// The accepted error relative to each value's largest magnitude (`network_rtol`).
    pub rtol: f32,
    pub passed: bool,
}

/// Whether `gpu` lies within `rtol` of `reference`'s largest magnitude everywhere.
pub fn check_value(name: &str, gpu: &Tensor, reference: &Tensor, rtol: f32) -> ValueCheck {
    let scale = reference.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let max_abs_err = if gpu.dims != reference.dims {
        f32::INFINITY
    } else {
        gpu.data.iter().zip(&reference.data).fold(0.0f32, |m, (g, r)| if (g - r).is_nan() { f32::INFINITY } else { m.max((g - r).abs()) })
    };
    let max_rel_err = max_abs_err / scale.max(f32::MIN_POSITIVE);
    ValueCheck { name: name.into(), max_abs_err, max_rel_err, passed: max_rel_err <= rtol }
}

/// The `k` largest entries of a row, best first, as (class, value).
fn ranked(row: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = row.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(k);
    ranked
}

/// The `k` most probable classes of each row of `[N, classes]`, best first.
pub fn top_k(probabilities: &Tensor, k: usize) -> Vec<Vec<(usize, f32)>> {
    probabilities.data.chunks(probabilities.dims[1]).map(|row| ranked(row, k)).collect()
}

/// Whether GPU and reference rank the same five classes first in every row. Two classes whose
/// reference values lie within `rtol` (of the largest) of each other may trade places.
pub fn top5_agree(gpu: &Tensor, reference: &Tensor, rtol: f32) -> bool {
    let classes = reference.dims[1];
    let tolerance = rtol * reference.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    gpu.data.chunks(classes).zip(reference.data.chunks(classes)).all(|(g_row, r_row)| {
        ranked(g_row, 5).iter().zip(ranked(r_row, 5)).all(|(&(g, _), (r, _))| g == r || (r_row[g] - r_row[r]).abs() <= tolerance)
    })
}

/// The value names of the inception modules' outputs.
pub fn module_outputs(graph: &Graph) -> Vec<String> {
    find_modules(graph)
        .iter()
        .filter_map(|m| graph.nodes.iter().find(|n| n.name == m.name).map(|n| n.output.clone()))
        .collect()
}

/// Runs `graph` on `input` on the GPU and on the CPU reference and compares every module output
/// and graph output.
pub fn check_network(gpu: &Arc<Gpu>, pipelines: &Pipelines, graph: &Graph, input: &Tensor) -> Result<NetworkCheck> {
    let plan = Plan::build(graph, input.dims[0], &PlanOptions { keep: module_outputs(graph), ..Default::default() })?;
    check_plan(gpu, pipelines, graph, plan, input)
}

/// As `check_network`, for a given plan of `graph` (which keeps `module_outputs(graph)`).
/// The tolerance follows the plan's weight precision (`network_rtol`).
pub fn check_plan(gpu: &Arc<Gpu>, pipelines: &Pipelines, graph: &Graph, plan: Plan, input: &Tensor) -> Result<NetworkCheck> {
    let rtol = network_rtol(plan.weights);
    let engine = Engine::new(gpu, pipelines, plan)?;
    let outputs = engine.run(&input.data)?;
    let reference = run_reference(graph, input)?;
    let mut values: Vec<ValueCheck> = outputs.iter().map(|(name, t)| check_value(name, t, &reference[name], rtol)).collect();
    // Modules first, in network order, then the graph outputs.
    values.rotate_left(graph.outputs.len());
    let top5_agree = graph.outputs.iter().all(|name| {
        let gpu_out = &outputs.iter().find(|(n, _)| n == name).expect("every graph output is read").1;
        top5_agree(gpu_out, &reference[name], rtol)
    });
    let passed = top5_agree && values.iter().all(|v| v.passed);
    Ok(NetworkCheck { values, top5_agree, rtol, passed })
}
