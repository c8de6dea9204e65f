//! `googlenet plan`: the dispatch waves of each inception module and the buffer assignment.

use std::process::ExitCode;

use googlenet::models::googlenet::{googlenet, Options};
use googlenet::plan::{Plan, PlanOptions};
use googlenet::Result;

pub fn run(batch: usize, aux: bool) -> Result<ExitCode> {
    let graph = googlenet(Options { aux, ..Options::default() });
    let plan = Plan::build(&graph, batch, &PlanOptions::default())?;
    print!("{}", plan.report());
    Ok(ExitCode::SUCCESS)
}
