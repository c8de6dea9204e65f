//! The kernel sweep: every op's cases (`ops::sweep_cases`, each beside its op) in every variant.

use crate::gpu::Gpu;
use crate::ops::Kernel;

/// Every kernel case that `verify` and the tests run on `gpu`, in each variant of its kernel that
/// fits it and that the adapter offers.
pub fn kernel_sweep(gpu: &Gpu) -> Vec<Box<dyn Kernel>> {
    kernel_cases().into_iter().filter(|op| op.runs_on(gpu)).collect()
}

/// Every kernel case (each op's `sweep_cases`, beside its reference) in every variant that fits
/// it, whatever runs it (for checks without a device).
pub fn kernel_cases() -> Vec<Box<dyn Kernel>> {
    let mut variants: Vec<Box<dyn Kernel>> = Vec::new();
    for op in crate::ops::sweep_cases() {
        match op.variants() {
            none if none.is_empty() => variants.push(op),
            some => variants.extend(some),
        }
    }
    variants
}
