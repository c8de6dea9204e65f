//! `googlenet plan`: the dispatch waves of each inception module and the buffer assignment.

use std::process::ExitCode;

use googlenet::plan::{Plan, PlanOptions};
use googlenet::Result;

use super::ModelArgs;

pub fn run(model: &ModelArgs, batch: usize) -> Result<ExitCode> {
    let graph = model.load()?;
    let plan = Plan::build(&graph, batch, &PlanOptions::default())?;
    print!("{}", plan.report());
    Ok(ExitCode::SUCCESS)
}
