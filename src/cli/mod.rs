//! The subcommands of the `googlenet` binary.

pub mod info;
pub mod plan;
pub mod run;
pub mod verify;
