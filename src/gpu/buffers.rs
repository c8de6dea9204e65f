//! Buffer creation with the device's limits checked first, and read-back.

use wgpu::util::DeviceExt;

use super::Gpu;
use crate::error::{Error, Result};

/// A storage buffer holding `data`, readable and writable by kernels and copyable out.
pub fn storage_buffer(gpu: &Gpu, label: &str, data: &[f32]) -> Result<wgpu::Buffer> {
    gpu.check_buffer_size(&format!("buffer `{label}` ({} floats)", data.len()), (data.len() * 4) as u64)?;
    // wgpu refuses zero-sized bindings; an empty tensor still gets one (unused) element.
    let contents: &[f32] = if data.is_empty() { &[0.0] } else { data };
    Ok(gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::cast_slice(contents),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
    }))
}

/// A zero-filled storage buffer of `floats` elements (at least one: wgpu refuses empty bindings).
pub fn zeroed_storage_buffer(gpu: &Gpu, label: &str, floats: usize) -> Result<wgpu::Buffer> {
    gpu.check_buffer_size(&format!("buffer `{label}` ({floats} floats)"), (floats * 4) as u64)?;
    Ok(gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (floats.max(1) * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    }))
}

/// A uniform buffer holding `bytes` (a kernel's parameter block).
pub fn uniform_buffer(gpu: &Gpu, label: &str, bytes: &[u8]) -> wgpu::Buffer {
    gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytes,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    })
}

/// Copies the first `len` floats of `buffer` back to the host (waits for the GPU).
pub fn read_back(gpu: &Gpu, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<f32>> {
    let bytes = (len * 4) as u64;
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("read-back"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
    gpu.queue.submit([encoder.finish()]);
    let (sender, receiver) = std::sync::mpsc::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |result| {
        let _ = sender.send(result);
    });
    gpu.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| Error::Gpu { context: "read-back".into(), message: e.to_string() })?;
    receiver
        .recv()
        .map_err(|e| Error::Gpu { context: "read-back".into(), message: e.to_string() })?
        .map_err(|e| Error::Gpu { context: "read-back".into(), message: e.to_string() })?;
    let view = staging
        .get_mapped_range(..)
        .map_err(|e| Error::Gpu { context: "read-back".into(), message: e.to_string() })?;
    let data = bytemuck::cast_slice(&view).to_vec();
    drop(view);
    staging.unmap();
    Ok(data)
}
