//! Kernel verification: every op case run on the GPU and on the CPU reference, compared.

mod cases;
mod compare;

pub use cases::kernel_sweep;
pub use compare::{check_op, compare, random_inputs, CaseResult};
