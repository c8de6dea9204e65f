//! A kernel's activation input as a read-only storage texture: the input buffer's floats in
//! order, four to an `rgba32float` texel, `INPUT_TEXTURE_ROW` texels to a row, filled from the
//! buffer by a copy just before the kernel runs.
//!
//! Why: llvmpipe (lavapipe) turns a storage-buffer load whose address differs between lanes
//! into a scalar loop over the lanes, and a texture load into one vector gather
//! (docs/PERFORMANCE.md, "Where a conv's time goes on lavapipe"). The shader side is
//! `shaders/conv_input_texture.wgsl`; the pipeline sets its `TEXTURE_ROW_SHIFT` to log2 of this
//! row length (`KernelId::constants`).

use super::Gpu;
use crate::error::{Error, Result};

/// Texels per texture row: a power of two (the shader splits a texel index with a shift and a
/// mask) within WebGPU's default `max_texture_dimension_2d` (8192), and a row of it is a
/// multiple of the 256 bytes a buffer-to-texture copy needs per row.
pub const INPUT_TEXTURE_ROW: u32 = 4096;

const TEXEL_BYTES: u32 = 16;

/// The texture rows that hold `floats` floats.
fn rows(floats: usize) -> usize {
    floats.div_ceil(4).div_ceil(INPUT_TEXTURE_ROW as usize).max(1)
}

/// Device memory of the texture for `floats` floats (whole rows), in bytes.
pub fn input_texture_bytes(floats: usize) -> u64 {
    rows(floats) as u64 * u64::from(INPUT_TEXTURE_ROW * TEXEL_BYTES)
}

/// Whether `gpu` can hold an input of `floats` floats (a whole number of texels) in one texture.
pub fn input_texture_fits(gpu: &Gpu, floats: usize) -> bool {
    floats.is_multiple_of(4) && rows(floats) <= gpu.limits.max_texture_dimension_2d as usize
}

/// One kernel's input texture (per execution context: it holds a copy of activations).
pub struct InputTexture {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    floats: usize,
}

impl InputTexture {
    /// A texture for the first `floats` floats of an input buffer.
    pub fn new(gpu: &Gpu, label: &str, floats: usize) -> Result<Self> {
        if !input_texture_fits(gpu, floats) {
            return Err(Error::OverLimit {
                what: format!("input texture `{label}` ({floats} floats, {INPUT_TEXTURE_ROW} texels a row)"),
                needed: rows(floats) as u64,
                limit: gpu.limits.max_texture_dimension_2d as u64,
                limit_name: "max_texture_dimension_2d",
            });
        }
        let texture = gpu.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d { width: INPUT_TEXTURE_ROW, height: rows(floats) as u32, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba32Float,
            usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let view = texture.create_view(&Default::default());
        Ok(InputTexture { texture, view, floats })
    }

    /// The texture as the kernel binds it (binding 1).
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::TextureView(&self.view)
    }

    /// Records the copy of `buffer`'s first floats into the texture: the whole rows, then the
    /// last, partial one (a copy reads whole rows from the buffer, which ends inside it).
    pub fn fill(&self, encoder: &mut wgpu::CommandEncoder, buffer: &wgpu::Buffer) {
        let texels = (self.floats / 4) as u32;
        let (full_rows, rest) = (texels / INPUT_TEXTURE_ROW, texels % INPUT_TEXTURE_ROW);
        let row_bytes = INPUT_TEXTURE_ROW * TEXEL_BYTES;
        let mut copy = |first_row: u32, width: u32, height: u32| {
            if width == 0 || height == 0 {
                return;
            }
            let layout = wgpu::TexelCopyBufferLayout { offset: u64::from(first_row) * u64::from(row_bytes), bytes_per_row: Some(row_bytes), rows_per_image: None };
            encoder.copy_buffer_to_texture(
                wgpu::TexelCopyBufferInfo { buffer, layout },
                wgpu::TexelCopyTextureInfo { texture: &self.texture, mip_level: 0, origin: wgpu::Origin3d { x: 0, y: first_row, z: 0 }, aspect: wgpu::TextureAspect::All },
                wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
            );
        };
        copy(0, INPUT_TEXTURE_ROW, full_rows);
        copy(full_rows, rest, 1);
    }
}
