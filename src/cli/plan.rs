//! `googlenet plan`: the dispatch waves of each module against its critical path, the buffer
//! assignment, and how a batch is split at the device's limits; for this adapter's kind of plan
//! or another's (`--for`).

use std::process::ExitCode;

use googlenet::plan::{Plan, PlanOptions, PlanTarget};
use googlenet::Result;

use super::output::Text;
use super::ModelArgs;

/// The kind of adapter whose plan `plan --for` shows.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PlanFor {
    Gpu,
    Cpu,
}

impl From<PlanFor> for PlanTarget {
    fn from(kind: PlanFor) -> Self {
        match kind {
            PlanFor::Gpu => PlanTarget::Gpu,
            PlanFor::Cpu => PlanTarget::CpuLike,
        }
    }
}

pub fn run(model: &ModelArgs, batch: usize, target: Option<PlanFor>, json: bool) -> Result<ExitCode> {
    let session = model.session()?;
    let split = session.split(batch)?;
    let options = PlanOptions { target: target.map(PlanTarget::from), ..session.plan_options() };
    let plan = session.plan(split[0], &options)?;
    if json {
        super::output::print_json(&report_json(&plan, batch, &split))?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = plan.report();
    let mut out = Text::default();
    out.line(report.strip_suffix('\n').unwrap_or(&report));
    if split.len() > 1 {
        let sizes: Vec<String> = split.iter().map(usize::to_string).collect();
        out.line(format_args!("batch {batch} runs as {} sub-batches ({}) to stay within {}'s buffer limits; the plan above is one of {} images", split.len(), sizes.join(" + "), session.gpu()?.info.name, split[0]));
    } else {
        out.line(format_args!("batch {batch} runs whole"));
    }
    out.print()?;
    Ok(ExitCode::SUCCESS)
}

fn report_json(plan: &Plan, batch: usize, split: &[usize]) -> serde_json::Value {
    let modules: Vec<serde_json::Value> = plan
        .modules
        .iter()
        .map(|m| {
            serde_json::json!({
                "name": m.name,
                "branches": m.branches,
                "dispatches": m.dispatches.len(),
                "waves": plan.module_waves(m),
                "critical_path": plan.critical_path(m),
                "barriers": plan.barriers_inside(m),
            })
        })
        .collect();
    serde_json::json!({
        "batch": batch,
        "sub_batches": split,
        "dispatches": plan.dispatches.len(),
        "waves": plan.waves().last().map_or(0, |w| w + 1),
        "buffers": plan.buffer_sizes.len(),
        "modules": modules,
    })
}
