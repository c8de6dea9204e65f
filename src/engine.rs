//! The GPU executor: a plan's buffers, pipelines and bind groups made once; each inference is
//! one upload, one compute pass with every dispatch, the output copies, and one submit.

use crate::error::{Error, Result};
use crate::gpu::{storage_buffer, uniform_buffer, zeroed_storage_buffer, Gpu, Pipelines};
use crate::plan::{Plan, View};
use crate::tensor::{element_count, Tensor};

/// GPU timestamps around every dispatch, where the adapter can write them inside a pass.
struct Timestamps {
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    readback: wgpu::Buffer,
    count: u32,
}

impl Timestamps {
    fn new(gpu: &Gpu, dispatches: usize) -> Option<Self> {
        let needed = wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES;
        let count = dispatches as u32 + 1;
        if !gpu.features.contains(needed) || count > wgpu::QUERY_SET_MAX_QUERIES {
            return None;
        }
        let size = count as u64 * wgpu::QUERY_SIZE as u64;
        let buffer = |label, usage| gpu.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage, mapped_at_creation: false });
        Some(Timestamps {
            queries: gpu.device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("dispatch timestamps"), ty: wgpu::QueryType::Timestamp, count }),
            resolved: buffer("timestamps", wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC),
            readback: buffer("timestamps read-back", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST),
            count,
        })
    }
}

struct Prepared {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
}

pub struct Engine<'g> {
    gpu: &'g Gpu,
    plan: Plan,
    buffers: Vec<wgpu::Buffer>,
    dispatches: Vec<Prepared>,
    /// One read-back buffer per plan output: (buffer, tensor floats).
    staging: Vec<(wgpu::Buffer, usize)>,
    timestamps: Option<Timestamps>,
}

/// The outputs of one run, and what each dispatch took on the GPU (in ms) when measured.
pub struct Profile {
    pub outputs: Vec<(String, Tensor)>,
    pub dispatch_ms: Option<Vec<f64>>,
}

impl<'g> Engine<'g> {
    pub fn new(gpu: &'g Gpu, pipelines: &Pipelines, plan: Plan) -> Result<Self> {
        let buffers = plan
            .buffer_sizes
            .iter()
            .enumerate()
            .map(|(b, &floats)| zeroed_storage_buffer(gpu, &format!("activations {b}"), floats))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| match e {
                Error::OverLimit { what, needed, limit, limit_name } => {
                    Error::OverLimit { what: format!("{what} at batch {} (a smaller batch needs less)", plan.batch), needed, limit, limit_name }
                }
                other => other,
            })?;
        // A binding the kernel leaves unused still needs a buffer.
        let unused = zeroed_storage_buffer(gpu, "unused output", 1)?;
        let mut dispatches = Vec::with_capacity(plan.dispatches.len());
        for d in &plan.dispatches {
            let launch = d.kernel.launch();
            launch.check_grid(gpu)?;
            let pipeline = pipelines.pipeline(gpu, launch.kernel)?;
            let label = d.nodes.first().map_or("dispatch", String::as_str);
            let params = uniform_buffer(gpu, label, &launch.params);
            // Constants are inputs 1.. of the kernel (after the activation it reads).
            let constants = d
                .constants
                .iter()
                .enumerate()
                .map(|(i, c)| storage_buffer(gpu, label, d.kernel.pack_input(1 + i, c).as_deref().unwrap_or(c)))
                .collect::<Result<Vec<_>>>()?;
            let mut bound: Vec<&wgpu::Buffer> = vec![&params, &buffers[plan.buffer(d.input)]];
            bound.extend(&constants);
            bound.extend(d.outputs.iter().map(|o| o.map_or(&unused, |t| &buffers[plan.buffer(t)])));
            let bind_group = gpu.checked(&format!("binding {label}"), || {
                let entries: Vec<wgpu::BindGroupEntry> = bound
                    .iter()
                    .enumerate()
                    .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
                    .collect();
                gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(label),
                    layout: &pipeline.get_bind_group_layout(0),
                    entries: &entries,
                })
            })?;
            dispatches.push(Prepared { pipeline, bind_group, workgroups: launch.workgroups });
        }
        let staging = plan
            .outputs
            .iter()
            .map(|o| {
                let floats = plan.tensors[o.view.tensor].len();
                let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&o.name),
                    size: (floats * 4) as u64,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                (buffer, floats)
            })
            .collect();
        let timestamps = Timestamps::new(gpu, dispatches.len());
        Ok(Engine { gpu, plan, buffers, dispatches, staging, timestamps })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn into_plan(self) -> Plan {
        self.plan
    }

    /// Runs the network on `input` (`[batch, C, H, W]` as planned) and returns the plan's
    /// outputs by name.
    pub fn run(&self, input: &[f32]) -> Result<Vec<(String, Tensor)>> {
        Ok(self.execute(input, false)?.outputs)
    }

    /// As `run`, with a GPU timestamp around every dispatch where the adapter supports it.
    pub fn profile(&self, input: &[f32]) -> Result<Profile> {
        self.execute(input, true)
    }

    fn execute(&self, input: &[f32], profile: bool) -> Result<Profile> {
        let timestamps = self.timestamps.as_ref().filter(|_| profile);
        let expected = self.plan.tensors[self.plan.input].len();
        if input.len() != expected {
            return Err(Error::shape("input", format!("{} values, the plan takes {expected} ({:?})", input.len(), self.plan.tensors[self.plan.input].dims)));
        }
        let gpu = self.gpu;
        gpu.checked("running the network", || {
            gpu.queue.write_buffer(&self.buffers[self.plan.buffer(self.plan.input)], 0, bytemuck::cast_slice(input));
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                if let Some(t) = timestamps {
                    pass.write_timestamp(&t.queries, 0);
                }
                for (i, d) in self.dispatches.iter().enumerate() {
                    pass.set_pipeline(&d.pipeline);
                    pass.set_bind_group(0, &d.bind_group, &[]);
                    let [x, y, z] = d.workgroups;
                    pass.dispatch_workgroups(x, y, z);
                    if let Some(t) = timestamps {
                        pass.write_timestamp(&t.queries, i as u32 + 1);
                    }
                }
            }
            if let Some(t) = timestamps {
                encoder.resolve_query_set(&t.queries, 0..t.count, &t.resolved, 0);
                encoder.copy_buffer_to_buffer(&t.resolved, 0, &t.readback, 0, None);
            }
            for (output, (staging, floats)) in self.plan.outputs.iter().zip(&self.staging) {
                let source = &self.buffers[self.plan.buffer(output.view.tensor)];
                encoder.copy_buffer_to_buffer(source, 0, staging, 0, (floats * 4) as u64);
            }
            gpu.queue.submit([encoder.finish()]);
        })?;
        self.read_back(timestamps)
    }

    fn read_back(&self, timestamps: Option<&Timestamps>) -> Result<Profile> {
        let gpu_error = |e: &dyn std::fmt::Display| Error::Gpu { context: "reading outputs".into(), message: e.to_string() };
        let (sender, receiver) = std::sync::mpsc::channel();
        let mut mapped: Vec<&wgpu::Buffer> = self.staging.iter().map(|(b, _)| b).collect();
        mapped.extend(timestamps.map(|t| &t.readback));
        for buffer in &mapped {
            let sender = sender.clone();
            buffer.map_async(wgpu::MapMode::Read, .., move |result| {
                let _ = sender.send(result);
            });
        }
        self.gpu.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| gpu_error(&e))?;
        for _ in &mapped {
            receiver.recv().map_err(|e| gpu_error(&e))?.map_err(|e| gpu_error(&e))?;
        }
        let dispatch_ms = match timestamps {
            None => None,
            Some(t) => {
                let ticks: Vec<u64> = bytemuck::cast_slice(&t.readback.get_mapped_range(..).map_err(|e| gpu_error(&e))?).to_vec();
                t.readback.unmap();
                let ms_per_tick = self.gpu.queue.get_timestamp_period() as f64 / 1e6;
                Some(ticks.windows(2).map(|w| w[1].saturating_sub(w[0]) as f64 * ms_per_tick).collect())
            }
        };
        let mut outputs = Vec::new();
        for (output, (staging, _)) in self.plan.outputs.iter().zip(&self.staging) {
            let data: Vec<f32> = bytemuck::cast_slice(&staging.get_mapped_range(..).map_err(|e| gpu_error(&e))?).to_vec();
            staging.unmap();
            let [n, _, h, w] = self.plan.tensors[output.view.tensor].dims;
            // The value's channels in its tensor (a Flatten keeps the elements, not the dims).
            let channels = element_count(&output.dims) / (n * h * w);
            let values = slice_of(&data, self.plan.tensors[output.view.tensor].dims, output.view, channels);
            outputs.push((output.name.clone(), Tensor::new(output.dims.clone(), values)));
        }
        Ok(Profile { outputs, dispatch_ms })
    }
}

/// The `channels` channels of `view` out of a whole NCHW tensor.
fn slice_of(data: &[f32], [n, total, h, w]: [usize; 4], view: View, channels: usize) -> Vec<f32> {
    let pixels = h * w;
    (0..n)
        .flat_map(|image| {
            let start = (image * total + view.slice.offset) * pixels;
            data[start..start + channels * pixels].iter().copied()
        })
        .collect()
}
