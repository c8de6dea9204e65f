//! `googlenet plan`: the dispatch waves of each inception module, the buffer assignment, and
//! how a batch is split at the device's limits.

use std::process::ExitCode;

use googlenet::plan::PlanOptions;
use googlenet::Result;

use super::output::Text;
use super::ModelArgs;

pub fn run(model: &ModelArgs, batch: usize) -> Result<ExitCode> {
    let session = model.session()?;
    let split = session.split(batch)?;
    let plan = session.plan(split[0], &PlanOptions::default())?;
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
