//! The GPU executor: a plan's pipelines and constant buffers made once and shared by every run;
//! each run takes an execution context of its own (activations, bind groups, read-back buffers)
//! from a small pool, and is one upload, one compute pass with every dispatch, the output
//! copies, and one submit.

mod context;
mod mapping;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gpu::{storage_buffer, uniform_buffer, zeroed_storage_buffer, Gpu, Pipelines};
use crate::plan::{Plan, View};
use crate::tensor::{element_count, Tensor};

use context::{gpu_error, Context, Placement, Pool, Timestamps};
use mapping::map_all;

/// How many execution contexts an engine makes at most unless told otherwise: enough for a few
/// threads' runs to overlap, few enough that memory stays a small multiple of one run's.
pub const DEFAULT_CONTEXTS: usize = 4;

/// One dispatch's compiled kernel and the buffers every context shares: its parameter block and
/// its constants (weights, biases).
pub(crate) struct Kernel {
    pipeline: wgpu::ComputePipeline,
    params: wgpu::Buffer,
    constants: Vec<wgpu::Buffer>,
    workgroups: [u32; 3],
    /// Whether it reads its input through a texture (`KernelId::reads_input_texture`), which
    /// each context fills from the input buffer before the dispatch.
    reads_input_texture: bool,
    /// Whether it has a residual binding after its constants (`Kernel::reads_residual`).
    reads_residual: bool,
}

/// Buffers bound where a dispatch leaves a binding unused: an output (written) and a residual
/// (read); two, as one buffer may not be bound for reading and for writing in one dispatch.
pub(crate) struct Unused {
    output: wgpu::Buffer,
    residual: wgpu::Buffer,
}

impl Kernel {
    fn record(&self, pass: &mut wgpu::ComputePass<'_>, bind_group: &wgpu::BindGroup) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}

/// A plan made runnable on one device. `run` takes `&self` and may be called from any number of
/// threads at once: each call gets an execution context of its own.
pub struct Engine {
    gpu: Arc<Gpu>,
    plan: Plan,
    kernels: Vec<Kernel>,
    /// Bound where a dispatch leaves a binding unused.
    unused: Unused,
    contexts: Pool,
}

/// The outputs of one run, and what each dispatch took on the GPU (in ms) when measured.
pub struct Profile {
    /// The plan's outputs by name, in plan order.
    pub outputs: Vec<(String, Tensor)>,
    /// GPU time per dispatch, where the adapter writes timestamps inside passes.
    pub dispatch_ms: Option<Vec<f64>>,
}

/// Checks, before anything is allocated, that every buffer and grid of `plan` is within the
/// device's limits.
pub fn check_limits(gpu: &Gpu, plan: &Plan) -> Result<()> {
    for (b, &floats) in plan.buffer_sizes.iter().enumerate() {
        gpu.check_buffer_size(&format!("buffer `activations {b}` ({floats} floats) at batch {} (a smaller batch needs less)", plan.batch), floats as u64 * 4)?;
    }
    plan.dispatches.iter().try_for_each(|d| d.kernel.launch().check_grid(gpu))
}

impl Engine {
    /// Compiles (or reuses from `pipelines`) every kernel of `plan`, uploads its constants and
    /// makes one execution context; up to `DEFAULT_CONTEXTS` more are made as concurrent runs need them.
    pub fn new(gpu: &Arc<Gpu>, pipelines: &Pipelines, plan: Plan) -> Result<Self> {
        Self::with_contexts(gpu, pipelines, plan, DEFAULT_CONTEXTS)
    }

    /// As `new`, with at most `contexts` runs in flight at once (further callers wait).
    pub fn with_contexts(gpu: &Arc<Gpu>, pipelines: &Pipelines, plan: Plan, contexts: usize) -> Result<Self> {
        check_limits(gpu, &plan)?;
        let launches: Vec<_> = plan.dispatches.iter().map(|d| d.kernel.launch()).collect();
        pipelines.prepare(gpu, launches.iter().map(|launch| launch.kernel))?;
        let mut kernels = Vec::with_capacity(plan.dispatches.len());
        for (d, launch) in plan.dispatches.iter().zip(launches) {
            let pipeline = pipelines.pipeline(gpu, launch.kernel)?;
            let label = d.nodes.first().map_or("dispatch", String::as_str);
            // Constants are inputs 1.. of the kernel (after the activation it reads).
            let constants = d
                .constants
                .iter()
                .enumerate()
                .map(|(i, c)| storage_buffer(gpu, label, d.kernel.pack_input(1 + i, c).as_deref().unwrap_or(c)))
                .collect::<Result<Vec<_>>>()?;
            kernels.push(Kernel {
                pipeline,
                params: uniform_buffer(gpu, label, &launch.params),
                constants,
                workgroups: launch.workgroups,
                reads_input_texture: launch.kernel.reads_input_texture(),
                reads_residual: d.kernel.reads_residual(),
            });
        }
        let unused = Unused { output: zeroed_storage_buffer(gpu, "unused output", 1)?, residual: zeroed_storage_buffer(gpu, "no residual", 1)? };
        let first = Context::new(gpu, &plan, &kernels, &unused)?;
        Ok(Engine { gpu: Arc::clone(gpu), contexts: Pool::new(first, contexts), plan, kernels, unused })
    }

    /// The plan the engine runs.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The plan back, the engine's device resources released.
    pub fn into_plan(self) -> Plan {
        self.plan
    }

    /// Device memory of one execution context (activations and read-back), in bytes.
    pub fn context_bytes(&self) -> u64 {
        Context::bytes(&self.plan, &self.kernels)
    }

    /// How many execution contexts exist now (at least one; more after concurrent runs).
    pub fn contexts(&self) -> usize {
        self.contexts.made()
    }

    /// Runs the network on `input` (`[batch, C, H, W]` as planned) and returns the plan's
    /// outputs by name.
    pub fn run(&self, input: &[f32]) -> Result<Vec<(String, Tensor)>> {
        pollster::block_on(self.run_async(input))
    }

    /// As `run`, awaitable: on native adapters it still waits for the GPU in the calling thread;
    /// in a browser the outputs arrive through the event loop.
    pub async fn run_async(&self, input: &[f32]) -> Result<Vec<(String, Tensor)>> {
        Ok(self.execute(input, false).await?.outputs)
    }

    /// As `run`, with a GPU timestamp around every dispatch where the adapter supports it.
    /// Where timestamps can only be written at the ends of passes (WebGPU), each dispatch runs
    /// in a pass of its own, so none overlaps another while measured.
    pub fn profile(&self, input: &[f32]) -> Result<Profile> {
        pollster::block_on(self.profile_async(input))
    }

    /// As `profile`, awaitable.
    pub async fn profile_async(&self, input: &[f32]) -> Result<Profile> {
        self.execute(input, true).await
    }

    async fn execute(&self, input: &[f32], profile: bool) -> Result<Profile> {
        let expected = self.plan.tensors[self.plan.input].len();
        if input.len() != expected {
            return Err(Error::shape("input", format!("{} values, the plan takes {expected} ({:?})", input.len(), self.plan.tensors[self.plan.input].dims)));
        }
        let make = || Context::new(&self.gpu, &self.plan, &self.kernels, &self.unused);
        let mut lease = self.contexts.lease(make)?;
        let context = lease.context();
        let timestamps = context.timestamps.as_ref().filter(|_| profile);
        self.submit(context, input, timestamps)?;
        let profile = self.read_back(context, timestamps).await?;
        lease.succeeded();
        Ok(profile)
    }

    fn submit(&self, context: &Context, input: &[f32], timestamps: Option<&Timestamps>) -> Result<()> {
        let gpu = &self.gpu;
        gpu.checked("running the network", || {
            gpu.queue.write_buffer(&context.buffers[self.plan.buffer(self.plan.input)], 0, bytemuck::cast_slice(input));
            let mut encoder = gpu.device.create_command_encoder(&Default::default());
            match timestamps.filter(|t| t.placement == Placement::PassPerDispatch) {
                Some(t) => {
                    for i in 0..self.kernels.len() {
                        self.fill_input_texture(context, i, &mut encoder);
                        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: Some(t.pass_writes(i)) });
                        self.kernels[i].record(&mut pass, &context.bind_groups[i]);
                    }
                }
                None => {
                    // One pass, split before each dispatch whose input texture a copy fills
                    // (copies cannot be recorded inside a pass). A split leaves the timestamp
                    // after the previous dispatch in the pass before it, so the copy counts in
                    // the dispatch it serves.
                    let starts = (0..self.kernels.len()).filter(|&i| i == 0 || self.kernels[i].reads_input_texture);
                    let mut bounds: Vec<usize> = starts.collect();
                    bounds.push(self.kernels.len());
                    for segment in bounds.windows(2) {
                        self.fill_input_texture(context, segment[0], &mut encoder);
                        let mut pass = encoder.begin_compute_pass(&Default::default());
                        if let (Some(t), 0) = (timestamps, segment[0]) {
                            pass.write_timestamp(&t.queries, 0);
                        }
                        for i in segment[0]..segment[1] {
                            self.kernels[i].record(&mut pass, &context.bind_groups[i]);
                            if let Some(t) = timestamps {
                                pass.write_timestamp(&t.queries, i as u32 + 1);
                            }
                        }
                    }
                }
            }
            if let Some(t) = timestamps {
                encoder.resolve_query_set(&t.queries, 0..t.count, &t.resolved, 0);
                encoder.copy_buffer_to_buffer(&t.resolved, 0, &t.readback, 0, None);
            }
            for (output, (staging, floats)) in self.plan.outputs.iter().zip(&context.staging) {
                let source = &context.buffers[self.plan.buffer(output.view.tensor)];
                encoder.copy_buffer_to_buffer(source, 0, staging, 0, (floats * 4) as u64);
            }
            gpu.queue.submit([encoder.finish()]);
        })
    }

    /// Records the copy of dispatch `i`'s input into its texture, where it reads one.
    fn fill_input_texture(&self, context: &Context, i: usize, encoder: &mut wgpu::CommandEncoder) {
        if let Some(texture) = &context.input_textures[i] {
            texture.fill(encoder, &context.buffers[self.plan.buffer(self.plan.dispatches[i].input)]);
        }
    }

    /// Maps this run's read-back buffers and reads its outputs once they are mapped.
    async fn read_back(&self, context: &Context, timestamps: Option<&Timestamps>) -> Result<Profile> {
        let error = |e: &dyn std::fmt::Display| gpu_error("reading outputs", e);
        let mut mapped: Vec<&wgpu::Buffer> = context.staging.iter().map(|(b, _)| b).collect();
        mapped.extend(timestamps.map(|t| &t.readback));
        map_all(&self.gpu, &mapped).await.map_err(|e| error(&e))?;
        self.gpu.deferred_error()?;
        let dispatch_ms = match timestamps {
            None => None,
            Some(t) => {
                let ticks: Vec<u64> = bytemuck::cast_slice(&t.readback.get_mapped_range(..).map_err(|e| error(&e))?).to_vec();
                t.readback.unmap();
                Some(t.dispatch_ms(&ticks, self.gpu.queue.get_timestamp_period() as f64 / 1e6))
            }
        };
        let mut outputs = Vec::new();
        for (output, (staging, _)) in self.plan.outputs.iter().zip(&context.staging) {
            let data: Vec<f32> = bytemuck::cast_slice(&staging.get_mapped_range(..).map_err(|e| error(&e))?).to_vec();
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
