//! Buffers by liveness: a tensor lives from the first dispatch that touches it to the last (or
//! to the end, if pinned); tensors whose lives do not overlap share a buffer.

use super::layout::{TensorId, TensorInfo};
use super::schedule::Dispatch;

/// The first and last dispatch using each tensor (None for a tensor no dispatch uses).
pub fn lifetimes(dispatches: &[Dispatch], tensor_count: usize, input: TensorId, pinned: &[TensorId]) -> Vec<Option<(usize, usize)>> {
    let mut life: Vec<Option<(usize, usize)>> = vec![None; tensor_count];
    let mut touch = |t: TensorId, i: usize| {
        life[t] = Some(life[t].map_or((i, i), |(first, last)| (first.min(i), last.max(i))));
    };
    for (i, d) in dispatches.iter().enumerate() {
        touch(d.input, i);
        d.residual.iter().for_each(|&t| touch(t, i));
        d.outputs.iter().flatten().for_each(|&t| touch(t, i));
    }
    // The input is uploaded before the first dispatch; pinned tensors are read after the last.
    touch(input, 0);
    for &t in pinned {
        touch(t, dispatches.len());
    }
    life
}

/// Assigns a buffer to every used tensor; returns each tensor's buffer and each buffer's size in
/// floats. Greedy in order of first use: take the smallest free buffer that fits, else grow the
/// largest free one, else open a new one.
pub fn assign_buffers(tensors: &[TensorInfo], life: &[Option<(usize, usize)>]) -> (Vec<Option<usize>>, Vec<usize>) {
    let mut order: Vec<TensorId> = (0..tensors.len()).filter(|&t| life[t].is_some()).collect();
    order.sort_by_key(|&t| life[t].map(|(first, _)| first));
    let mut buffer_of = vec![None; tensors.len()];
    let mut sizes: Vec<usize> = Vec::new();
    let mut busy_until: Vec<usize> = Vec::new(); // last use of each buffer's current tenant
    for t in order {
        let (first, last) = life[t].expect("filtered to used tensors");
        let len = tensors[t].len();
        let free: Vec<usize> = (0..sizes.len()).filter(|&b| busy_until[b] < first).collect();
        let fitting = free.iter().copied().filter(|&b| sizes[b] >= len).min_by_key(|&b| sizes[b]);
        let buffer = match fitting.or_else(|| free.iter().copied().max_by_key(|&b| sizes[b])) {
            Some(b) => b,
            None => {
                sizes.push(0);
                busy_until.push(0);
                sizes.len() - 1
            }
        };
        sizes[buffer] = sizes[buffer].max(len);
        busy_until[buffer] = last;
        buffer_of[t] = Some(buffer);
    }
    (buffer_of, sizes)
}
