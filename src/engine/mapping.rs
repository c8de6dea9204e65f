//! Mapping read-back buffers as a future: resolved when every buffer's map callback has run,
//! whichever thread's poll (or, in a browser, the event loop) runs it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::gpu::Gpu;

#[derive(Default)]
struct Pending {
    left: usize,
    error: Option<wgpu::BufferAsyncError>,
    waker: Option<Waker>,
}

struct AllMapped(Arc<Mutex<Pending>>);

impl Future for AllMapped {
    type Output = Result<(), wgpu::BufferAsyncError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut pending = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(e) = pending.error.take() {
            return Poll::Ready(Err(e));
        }
        if pending.left == 0 {
            return Poll::Ready(Ok(()));
        }
        pending.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Maps every buffer for reading. On native backends this thread then waits for the GPU to
/// finish its work so far, which runs the callbacks (here or on another thread polling at the
/// same time).
pub(super) async fn map_all(gpu: &Gpu, buffers: &[&wgpu::Buffer]) -> Result<(), String> {
    let pending = Arc::new(Mutex::new(Pending { left: buffers.len(), ..Default::default() }));
    for buffer in buffers {
        let pending = Arc::clone(&pending);
        buffer.map_async(wgpu::MapMode::Read, .., move |result| {
            let mut pending = pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            pending.left -= 1;
            if let Err(e) = result {
                pending.error.get_or_insert(e);
            }
            if let Some(waker) = pending.waker.take() {
                waker.wake();
            }
        });
    }
    // The map requests were made after this run's submit, so waiting for the latest submission
    // at this moment covers them (and no later run's work).
    gpu.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| e.to_string())?;
    AllMapped(pending).await.map_err(|e| e.to_string())
}
