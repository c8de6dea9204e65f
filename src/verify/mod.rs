//! Kernel verification: every op case run on the GPU and on the CPU reference, compared.

mod cases;
mod compare;
mod network;

pub use cases::{kernel_cases, kernel_sweep};
pub use compare::{check_op, compare, random_inputs, CaseResult};
pub use network::{check_network, check_plan, check_value, module_outputs, network_rtol, top5_agree, top_k, NetworkCheck, ValueCheck, NETWORK_RTOL, NETWORK_RTOL_F16_WEIGHTS};
