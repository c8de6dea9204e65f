//! One execution context: the activation buffers, bind groups and read-back buffers of one
//! in-flight run. An engine keeps a pool of them, so that runs on several threads never share a
//! buffer while each one's upload, compute and read-back overlap with the others'.

use std::sync::{Condvar, Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::gpu::{input_texture_bytes, zeroed_storage_buffer, Gpu, InputTexture};
use crate::plan::Plan;

use super::{Kernel, Unused};

/// GPU timestamps around every dispatch: inside one pass where the adapter can write them there,
/// else at the start and end of a pass of its own per dispatch (all WebGPU offers).
pub(super) struct Timestamps {
    pub queries: wgpu::QuerySet,
    pub resolved: wgpu::Buffer,
    pub readback: wgpu::Buffer,
    pub count: u32,
    pub placement: Placement,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Placement {
    /// Query 0 before the first dispatch, query i + 1 after dispatch i.
    InsidePass,
    /// Queries 2i and 2i + 1 at the start and end of dispatch i's own pass.
    PassPerDispatch,
}

impl Timestamps {
    fn new(gpu: &Gpu, dispatches: usize) -> Option<Self> {
        if !gpu.features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            return None;
        }
        let (placement, count) = if gpu.features.contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES) {
            (Placement::InsidePass, dispatches as u32 + 1)
        } else {
            (Placement::PassPerDispatch, 2 * dispatches as u32)
        };
        if count > wgpu::QUERY_SET_MAX_QUERIES {
            return None;
        }
        let size = count as u64 * wgpu::QUERY_SIZE as u64;
        let buffer = |label, usage| gpu.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage, mapped_at_creation: false });
        Some(Timestamps {
            queries: gpu.device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("dispatch timestamps"), ty: wgpu::QueryType::Timestamp, count }),
            resolved: buffer("timestamps", wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC),
            readback: buffer("timestamps read-back", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST),
            count,
            placement,
        })
    }

    /// Dispatch `i`'s own pass's writes (for `Placement::PassPerDispatch`).
    pub fn pass_writes(&self, i: usize) -> wgpu::ComputePassTimestampWrites<'_> {
        let start = 2 * i as u32;
        wgpu::ComputePassTimestampWrites { query_set: &self.queries, beginning_of_pass_write_index: Some(start), end_of_pass_write_index: Some(start + 1) }
    }

    /// Each dispatch's time in ms, from the resolved ticks.
    pub fn dispatch_ms(&self, ticks: &[u64], ms_per_tick: f64) -> Vec<f64> {
        let span = |start: u64, end: u64| end.saturating_sub(start) as f64 * ms_per_tick;
        match self.placement {
            Placement::InsidePass => ticks.windows(2).map(|w| span(w[0], w[1])).collect(),
            Placement::PassPerDispatch => ticks.chunks_exact(2).map(|c| span(c[0], c[1])).collect(),
        }
    }
}

pub(super) struct Context {
    pub buffers: Vec<wgpu::Buffer>,
    /// One per dispatch, binding the engine's shared kernel buffers and this context's activations.
    pub bind_groups: Vec<wgpu::BindGroup>,
    /// Per dispatch, the texture its input is copied into before it runs, where it reads one.
    pub input_textures: Vec<Option<InputTexture>>,
    /// One read-back buffer per plan output: (buffer, tensor floats).
    pub staging: Vec<(wgpu::Buffer, usize)>,
    pub timestamps: Option<Timestamps>,
}

impl Context {
    pub fn new(gpu: &Gpu, plan: &Plan, kernels: &[Kernel], unused: &Unused) -> Result<Self> {
        let buffers = plan
            .buffer_sizes
            .iter()
            .enumerate()
            .map(|(b, &floats)| zeroed_storage_buffer(gpu, &format!("activations {b}"), floats))
            .collect::<Result<Vec<_>>>()?;
        let mut bind_groups = Vec::with_capacity(kernels.len());
        let mut input_textures = Vec::with_capacity(kernels.len());
        for (d, kernel) in plan.dispatches.iter().zip(kernels) {
            let label = d.nodes.first().map_or("dispatch", String::as_str);
            let texture = match kernel.reads_input_texture {
                true => Some(InputTexture::new(gpu, label, plan.tensors[d.input].len())?),
                false => None,
            };
            let mut bound: Vec<&wgpu::Buffer> = vec![&kernel.params, &buffers[plan.buffer(d.input)]];
            bound.extend(&kernel.constants);
            if kernel.reads_residual {
                bound.push(d.residual.map_or(&unused.residual, |t| &buffers[plan.buffer(t)]));
            }
            bound.extend(d.outputs.iter().map(|o| o.map_or(&unused.output, |t| &buffers[plan.buffer(t)])));
            let bind_group = gpu.checked(&format!("binding {label}"), || {
                let entries: Vec<wgpu::BindGroupEntry> = bound
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let resource = match (&texture, i) {
                            (Some(texture), 1) => texture.binding(),
                            _ => b.as_entire_binding(),
                        };
                        wgpu::BindGroupEntry { binding: i as u32, resource }
                    })
                    .collect();
                gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(label),
                    layout: &kernel.pipeline.get_bind_group_layout(0),
                    entries: &entries,
                })
            })?;
            bind_groups.push(bind_group);
            input_textures.push(texture);
        }
        let staging = plan
            .outputs
            .iter()
            .map(|o| {
                let floats = plan.tensors[o.view.tensor].len();
                let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&o.name),
                    size: (floats.max(1) * 4) as u64,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                (buffer, floats)
            })
            .collect();
        let timestamps = Timestamps::new(gpu, plan.dispatches.len());
        Ok(Context { buffers, bind_groups, input_textures, staging, timestamps })
    }

    /// Device memory one context holds: its activations, input textures and read-back
    /// buffers, in bytes.
    pub fn bytes(plan: &Plan, kernels: &[Kernel]) -> u64 {
        let textures = plan.dispatches.iter().zip(kernels).filter(|(_, k)| k.reads_input_texture).map(|(d, _)| input_texture_bytes(plan.tensors[d.input].len()));
        let floats: usize = plan.buffer_sizes.iter().sum::<usize>() + plan.outputs.iter().map(|o| plan.tensors[o.view.tensor].len()).sum::<usize>();
        floats as u64 * 4 + textures.sum::<u64>()
    }
}

struct PoolState {
    idle: Vec<Context>,
    /// Contexts in existence (idle, in use, or being made).
    made: usize,
}

/// Up to `capacity` contexts, made on demand: a run takes an idle one, makes one while under the
/// cap, or waits for one to come back.
pub(super) struct Pool {
    state: Mutex<PoolState>,
    returned: Condvar,
    capacity: usize,
}

impl Pool {
    pub fn new(first: Context, capacity: usize) -> Self {
        Pool { state: Mutex::new(PoolState { idle: vec![first], made: 1 }), returned: Condvar::new(), capacity: capacity.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A context of the caller's own: an idle one, else one made with `make` while the pool is
    /// under its cap, else the next one another run gives back.
    pub fn lease(&self, make: impl FnOnce() -> Result<Context>) -> Result<Lease<'_>> {
        let idle = {
            let mut state = self.lock();
            loop {
                if let Some(context) = state.idle.pop() {
                    break Some(context);
                }
                if state.made < self.capacity {
                    state.made += 1;
                    break None;
                }
                // A browser's one thread cannot wait for a run that only its event loop can end.
                if cfg!(target_arch = "wasm32") {
                    return Err(Error::unsupported("run", format!("{} runs are in flight (max_contexts); in a browser await one before starting another", self.capacity)));
                }
                state = self.returned.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        let context = match idle {
            Some(context) => context,
            None => make().inspect_err(|_| self.forget())?,
        };
        Ok(Lease { pool: self, context: Some(context), succeeded: false })
    }

    fn forget(&self) {
        self.lock().made -= 1;
        self.returned.notify_one();
    }

    /// How many contexts exist now.
    pub fn made(&self) -> usize {
        self.lock().made
    }
}

/// A leased context; it goes back to the pool when dropped, unless its run failed (it may then
/// hold a mapped buffer), in which case it is dropped and a fresh one is made when needed.
pub(super) struct Lease<'p> {
    pool: &'p Pool,
    context: Option<Context>,
    succeeded: bool,
}

impl Lease<'_> {
    pub fn context(&self) -> &Context {
        self.context.as_ref().expect("a lease holds its context until dropped")
    }

    pub fn succeeded(&mut self) {
        self.succeeded = true;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let context = self.context.take().expect("dropped once");
        if self.succeeded {
            self.pool.lock().idle.push(context);
            self.pool.returned.notify_one();
        } else {
            drop(context);
            self.pool.forget();
        }
    }
}

pub(super) fn gpu_error(context: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Gpu { context: context.into(), message: e.to_string() }
}
