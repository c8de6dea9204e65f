//! Runs one op on the GPU and on the CPU reference and compares the two.

use serde::Serialize;

use crate::error::Result;
use crate::gpu::{run_once, Gpu, Pipelines};
use crate::ops::{gpu_inputs, Kernel};
use crate::rng::Rng;

/// The outcome of one case, as `verify` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    pub kernel: String,
    pub shape: String,
    pub max_abs_err: f32,
    /// Largest |GPU - reference| / |reference| over elements not near zero (|ref| >= 1e-3 of
    /// the output's largest magnitude), where a relative error means something.
    pub max_rel_err: f32,
    pub tolerance: f32,
    pub passed: bool,
    /// Set when the case could not run at all (bad shape, device limits, GPU error).
    pub error: Option<String>,
}

/// Random inputs in [-1, 1), one vector per input buffer of `op`.
pub fn random_inputs(op: &dyn Kernel, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    op.input_lens().into_iter().map(|len| rng.symmetric_vec(len)).collect()
}

/// Element-wise comparison of a GPU result with the reference.
///
/// A NaN in the reference is the sentinel of an element the op must not write: the GPU result
/// must be NaN there too. Anywhere else a NaN or a difference over `tolerance` fails.
pub fn compare(gpu: &[f32], reference: &[f32], tolerance: f32) -> (f32, f32, bool) {
    let scale = reference.iter().filter(|v| !v.is_nan()).fold(0.0f32, |m, v| m.max(v.abs()));
    let mut max_abs = 0.0f32;
    let mut max_rel = 0.0f32;
    let mut passed = gpu.len() == reference.len();
    for (&g, &r) in gpu.iter().zip(reference) {
        if r.is_nan() {
            if !g.is_nan() {
                passed = false;
                max_abs = f32::INFINITY;
            }
            continue;
        }
        let err = (g - r).abs();
        if err.is_nan() || err > tolerance {
            passed = false;
        }
        max_abs = if err.is_nan() { f32::INFINITY } else { max_abs.max(err) };
        if r.abs() >= 1e-3 * scale && r != 0.0 {
            max_rel = max_rel.max(err / r.abs());
        }
    }
    (max_abs, max_rel, passed)
}

/// Runs `op` on the GPU and on the CPU with the same inputs; the outputs start as NaN
/// everywhere, so elements outside the op's slices must come back untouched.
pub fn check_op(gpu: &Gpu, kernels: &Pipelines, op: &dyn Kernel, inputs: &[Vec<f32>]) -> CaseResult {
    let mut result = CaseResult {
        kernel: op.kernel_name().to_string(),
        shape: op.describe(),
        max_abs_err: f32::INFINITY,
        max_rel_err: f32::INFINITY,
        tolerance: 0.0,
        passed: false,
        error: None,
    };
    match run_both(gpu, kernels, op, inputs) {
        Ok((gpu_out, reference)) => {
            result.tolerance = op.tolerance(&reference);
            (result.max_abs_err, result.max_rel_err, result.passed) = (0.0, 0.0, true);
            for (g, r) in gpu_out.iter().zip(&reference) {
                let (abs, rel, passed) = compare(g, r, result.tolerance);
                result.max_abs_err = result.max_abs_err.max(abs);
                result.max_rel_err = result.max_rel_err.max(rel);
                result.passed &= passed;
            }
        }
        Err(e) => result.error = Some(e.to_string()),
    }
    result
}

/// A kernel's outputs: one vector per output buffer.
type Outputs = Vec<Vec<f32>>;

/// The kernel's outputs on the GPU and on the CPU reference.
fn run_both(gpu: &Gpu, kernels: &Pipelines, op: &dyn Kernel, inputs: &[Vec<f32>]) -> Result<(Outputs, Outputs)> {
    op.check()?;
    let mut reference: Vec<Vec<f32>> = op.output_lens().into_iter().map(|len| vec![f32::NAN; len]).collect();
    let input_refs: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
    let sentinels: Vec<&[f32]> = reference.iter().map(Vec::as_slice).collect();
    let packed = gpu_inputs(op, &input_refs);
    let packed_refs: Vec<&[f32]> = packed.iter().map(Vec::as_slice).collect();
    let gpu_out = run_once(gpu, kernels, &op.launch(), &packed_refs, &sentinels)?;
    op.reference(&input_refs, &mut reference);
    Ok((gpu_out, reference))
}

#[cfg(test)]
mod tests {
    use super::compare;

    #[test]
    fn a_write_into_a_sentinel_fails() {
        let reference = [f32::NAN, 1.0, 2.0, f32::NAN];
        assert!(compare(&[f32::NAN, 1.0, 2.0, f32::NAN], &reference, 0.0).2);
        assert!(!compare(&[0.0, 1.0, 2.0, f32::NAN], &reference, 0.0).2);
    }

    #[test]
    fn a_missing_write_or_an_error_over_tolerance_fails() {
        let reference = [1.0, 2.0];
        assert!(!compare(&[1.0, f32::NAN], &reference, 1.0).2);
        assert!(!compare(&[1.0, 2.5], &reference, 0.1).2);
        let (max_abs, max_rel, passed) = compare(&[1.0, 2.05], &reference, 0.1);
        assert!(passed && (max_abs - 0.05).abs() < 1e-6 && (max_rel - 0.025).abs() < 1e-6);
    }
}
