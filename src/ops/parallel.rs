//! The one concession to speed in the CPU reference: independent output planes in parallel.

/// Computes `count` planes of `plane_len` floats, `plane(i, out)` filling plane i, spread over
/// the machine's threads (in this thread where there is one, or none to spawn: in a browser).
/// Returns them back to back in index order.
pub fn planes(count: usize, plane_len: usize, plane: impl Fn(usize, &mut [f32]) + Sync) -> Vec<f32> {
    let mut result = vec![0.0f32; count * plane_len];
    if plane_len == 0 {
        return result;
    }
    let threads = if cfg!(target_arch = "wasm32") { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
    let per_thread = count.div_ceil(threads).max(1);
    let fill = |first: usize, chunk: &mut [f32]| {
        for (i, out) in chunk.chunks_mut(plane_len).enumerate() {
            plane(first + i, out);
        }
    };
    if threads == 1 {
        fill(0, &mut result);
        return result;
    }
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in result.chunks_mut(per_thread * plane_len).enumerate() {
            let fill = &fill;
            scope.spawn(move || fill(chunk_index * per_thread, chunk));
        }
    });
    result
}
