//! Splitting a batch at the device's limits, and joining the sub-batches' outputs.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::tensor::Tensor;

/// The largest batch up to `wanted` for which `fits` holds. Activations grow linearly with the
/// batch, so `per_image_bytes` (the largest buffer at batch 1) bounds the search, and no batch
/// is planned whose sizes the device could never hold.
pub(super) fn largest_fitting(gpu: &Gpu, per_image_bytes: u64, wanted: usize, fits: impl Fn(usize) -> Result<bool>) -> Result<usize> {
    let limit = gpu.limits.max_storage_buffer_binding_size.min(gpu.limits.max_buffer_size);
    let bound = usize::try_from(limit / per_image_bytes.max(1)).unwrap_or(usize::MAX).min(wanted);
    if bound == 0 || !fits(1)? {
        return Err(Error::OverLimit { what: "one image's activations".into(), needed: per_image_bytes, limit, limit_name: "max_storage_buffer_binding_size" });
    }
    if fits(bound)? {
        return Ok(bound);
    }
    // Binary search: `low` fits, `high` does not (a grid limit can bind before the buffers do).
    let (mut low, mut high) = (1, bound);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if fits(middle)? {
            low = middle;
        } else {
            high = middle;
        }
    }
    Ok(low)
}

/// Each output's sub-batches joined along the batch axis.
pub(super) fn concat(parts: Vec<Vec<(String, Tensor)>>) -> Vec<(String, Tensor)> {
    let mut parts = parts.into_iter();
    let mut joined = parts.next().expect("at least one sub-batch");
    for part in parts {
        for ((_, whole), (_, tensor)) in joined.iter_mut().zip(part) {
            whole.dims[0] += tensor.dims[0];
            whole.data.extend(tensor.data);
        }
    }
    joined
}
