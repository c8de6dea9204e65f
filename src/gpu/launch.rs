//! One kernel launch: which kernel, its parameter block, its grid; and running one by itself.

use super::{read_back, storage_buffer, uniform_buffer, Gpu, InputTexture, KernelId, Pipelines};
use crate::error::{Error, Result};

/// Everything needed to dispatch one kernel except its buffers, which are bound in order after
/// the uniform parameter block (binding 0): the op's inputs, then its outputs.
#[derive(Clone, Debug)]
pub struct Launch {
    pub kernel: KernelId,
    pub params: Vec<u8>,
    pub workgroups: [u32; 3],
}

impl Launch {
    pub fn new<P: bytemuck::Pod>(kernel: KernelId, params: &P, workgroups: [u32; 3]) -> Self {
        Launch { kernel, params: bytemuck::bytes_of(params).to_vec(), workgroups }
    }

    pub fn check_grid(&self, gpu: &Gpu) -> Result<()> {
        let limit = gpu.limits.max_compute_workgroups_per_dimension;
        for (axis, &count) in self.workgroups.iter().enumerate() {
            if count > limit {
                return Err(Error::OverLimit {
                    what: format!("kernel {:?} grid axis {axis}", self.kernel),
                    needed: count as u64,
                    limit: limit as u64,
                    limit_name: "max_compute_workgroups_per_dimension",
                });
            }
        }
        Ok(())
    }
}

/// Workgroups for one invocation per item, `group_size` invocations a group: along x up to the
/// per-axis limit that every device offers (65535), the rest along y. Shaders rebuild the flat
/// index as `gid.x + gid.y * num_workgroups.x * group_size` and skip indices past the end.
pub fn flat_workgroups(items: usize, group_size: usize) -> [u32; 3] {
    const MAX_PER_AXIS: usize = 65535;
    let groups = items.div_ceil(group_size).max(1);
    if groups <= MAX_PER_AXIS {
        [groups as u32, 1, 1]
    } else {
        [MAX_PER_AXIS as u32, groups.div_ceil(MAX_PER_AXIS) as u32, 1]
    }
}

/// A launch with its buffers and bind group made, ready to dispatch any number of times.
pub struct Prepared {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
    outputs: Vec<(wgpu::Buffer, usize)>,
    kernel: KernelId,
    /// For a kernel that reads its input through a texture: the texture and the input buffer
    /// it is filled from before each dispatch.
    input_texture: Option<(InputTexture, wgpu::Buffer)>,
}

impl Prepared {
    /// Uploads `inputs` and output buffers holding `outputs_init`, so a kernel that writes only
    /// its slices leaves the rest visible to the caller.
    pub fn new(gpu: &Gpu, kernels: &Pipelines, launch: &Launch, inputs: &[&[f32]], outputs_init: &[&[f32]]) -> Result<Self> {
        launch.check_grid(gpu)?;
        let pipeline = kernels.pipeline(gpu, launch.kernel)?;
        let params = uniform_buffer(gpu, "params", &launch.params);
        let input_buffers = inputs
            .iter()
            .enumerate()
            .map(|(i, data)| storage_buffer(gpu, &format!("input {i}"), data))
            .collect::<Result<Vec<_>>>()?;
        let outputs = outputs_init
            .iter()
            .enumerate()
            .map(|(i, data)| Ok((storage_buffer(gpu, &format!("output {i}"), data)?, data.len())))
            .collect::<Result<Vec<_>>>()?;
        let texture = match (launch.kernel.reads_input_texture(), inputs.first()) {
            (true, Some(input)) => Some(InputTexture::new(gpu, "input 0", input.len())?),
            _ => None,
        };
        let bind_group = gpu.checked(&format!("binding kernel {:?}", launch.kernel), || {
            let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: params.as_entire_binding() }];
            for (i, buffer) in input_buffers.iter().chain(outputs.iter().map(|(b, _)| b)).enumerate() {
                let resource = match (&texture, i) {
                    (Some(texture), 0) => texture.binding(),
                    _ => buffer.as_entire_binding(),
                };
                entries.push(wgpu::BindGroupEntry { binding: i as u32 + 1, resource });
            }
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            })
        })?;
        let input_texture = texture.zip(input_buffers.into_iter().next());
        Ok(Prepared { pipeline, bind_group, workgroups: launch.workgroups, outputs, kernel: launch.kernel, input_texture })
    }

    /// Dispatches once and waits for the GPU to finish.
    pub fn run(&self, gpu: &Gpu) -> Result<()> {
        gpu.checked(&format!("running kernel {:?}", self.kernel), || {
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            if let Some((texture, input)) = &self.input_texture {
                texture.fill(&mut encoder, input);
            }
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &self.bind_group, &[]);
                let [x, y, z] = self.workgroups;
                pass.dispatch_workgroups(x, y, z);
            }
            gpu.queue.submit([encoder.finish()]);
        })?;
        gpu.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu { context: format!("waiting for kernel {:?}", self.kernel), message: e.to_string() })?;
        Ok(())
    }

    pub fn read_outputs(&self, gpu: &Gpu) -> Result<Vec<Vec<f32>>> {
        self.outputs.iter().map(|(buffer, len)| read_back(gpu, buffer, *len)).collect()
    }
}

/// Runs one launch on fresh buffers and returns the whole output buffers.
pub fn run_once(gpu: &Gpu, kernels: &Pipelines, launch: &Launch, inputs: &[&[f32]], outputs_init: &[&[f32]]) -> Result<Vec<Vec<f32>>> {
    let prepared = Prepared::new(gpu, kernels, launch, inputs, outputs_init)?;
    prepared.run(gpu)?;
    prepared.read_outputs(gpu)
}
