//! The plan: the graph lowered to kernel dispatches in order, each value placed in a tensor
//! slice (no concat copies), tensors assigned to buffers by liveness, and the barriers wgpu will
//! put between dispatches predicted, so each inception module's dispatch waves can be shown and
//! tested.

mod absorb;
mod channel_map;
mod layout;
mod liveness;
mod modules;
mod report;
mod schedule;
mod steps;

pub use layout::{TensorId, TensorInfo, View};
pub use modules::{find_modules, Module};
pub use schedule::Dispatch;

use crate::error::{Error, Result};
use crate::graph::{infer_shapes, Graph};
use crate::gpu::WeightPrecision;
use crate::ops::WinogradTile;

#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Values to keep readable after the run (their buffers are not reused), e.g. each module's
    /// output for a per-module check.
    pub keep: Vec<String>,
    /// One dispatch per conv, one branch after another (no grouping): the baseline that shows
    /// what running the inception branches together gains.
    pub serial: bool,
    /// Run each 3x3/1 max pool that feeds a 1x1 conv (the inception pool branch) as its own
    /// dispatch, instead of inside the conv (which then pools on the fly, once per tile of
    /// output channels). The tuner measures which is faster on an adapter.
    pub separate_pools: bool,
    /// Compute 3x3, stride-1, pad-1 convs by Winograd (three dispatches each) with tiles up to
    /// F(2x2, 3x3) or F(4x4, 3x3), each conv the largest its size suits
    /// (`WinogradTile::for_size`: F(4x4) at 28x28 and up, F(2x2) down to 14x14, 7x7 directly);
    /// `None`: directly.
    pub winograd: Option<WinogradTile>,
    /// Split each conv whose output gives a GPU too few workgroups (`Conv2d::k_parts`: the 7x7
    /// and 14x14 stages at small batches) along K: its parts run side by side (one dispatch with
    /// the convs beside it) into a scratch tensor, and a second dispatch adds them with the
    /// bias and ReLU.
    pub split_k: bool,
    /// Conv weights in f32, or rounded to f16 (`WeightPrecision::F16`: an explicit choice, as it
    /// changes the results; a weight beyond f16's range is refused).
    pub weights: WeightPrecision,
    /// The kind of adapter to plan for (its grouping of convs into dispatches; a session also
    /// takes its defaults for pools and Winograd from it). None: the adapter the plan runs on
    /// (a GPU where no adapter is known).
    pub target: Option<PlanTarget>,
    /// The largest weight one storage binding may hold, in bytes (the device's
    /// `max_storage_buffer_binding_size`); a fully connected layer with a larger weight is split
    /// along its outputs into parts that fit. None: WebGPU's default limit, which every device
    /// grants (`DEFAULT_MAX_BINDING_BYTES`).
    pub max_binding_bytes: Option<u64>,
}

/// The kind of adapter a plan is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlanTarget {
    /// A GPU: every conv of one level that reads one buffer shares a dispatch, whatever its
    /// kernel shape, so each module runs in as many waves as its longest branch has convs.
    #[default]
    Gpu,
    /// A CPU-like adapter (lavapipe, SwiftShader): 1x1 convs apart from the others, on the 1x1
    /// loader; a session's defaults for it are pools as their own dispatches and 3x3 convs by
    /// Winograd (`tune::default_choice`).
    CpuLike,
}

/// WebGPU's default `maxStorageBufferBindingSize`: 128 MiB.
pub const DEFAULT_MAX_BINDING_BYTES: u64 = 128 << 20;

pub struct Plan {
    pub batch: usize,
    /// How the conv dispatches hold their weights.
    pub weights: WeightPrecision,
    pub tensors: Vec<TensorInfo>,
    pub dispatches: Vec<Dispatch>,
    pub input: TensorId,
    /// Graph outputs, then kept values.
    pub outputs: Vec<PlannedOutput>,
    /// Each tensor's buffer (None for a tensor no dispatch uses).
    pub buffer_of: Vec<Option<usize>>,
    /// Each buffer's size in floats.
    pub buffer_sizes: Vec<usize>,
    /// Each tensor's first and last dispatch (None where unused).
    pub lifetimes: Vec<Option<(usize, usize)>>,
    /// Whether wgpu puts a barrier before each dispatch.
    pub barrier_before: Vec<bool>,
    pub modules: Vec<PlannedModule>,
}

pub struct PlannedOutput {
    pub name: String,
    /// The value's own dims (its slice of the tensor, for a value inside a concat).
    pub dims: Vec<usize>,
    pub view: View,
}

pub struct PlannedModule {
    pub name: String,
    /// How many branches leave the module's input (`Module::branches`).
    pub branches: usize,
    /// The module's dispatches, in order.
    pub dispatches: Vec<usize>,
}

impl Plan {
    pub fn build(graph: &Graph, batch: usize, options: &PlanOptions) -> Result<Plan> {
        let mut shapes = infer_shapes(graph, batch)?;
        let mut steps = steps::lower(graph, &mut shapes, options)?;
        if options.split_k {
            steps::split_along_k(&mut steps, &mut shapes);
        }
        let mut layout = layout::place(graph, &shapes, &mut steps)?;
        let mut outputs = Vec::new();
        for name in graph.outputs.iter().chain(&options.keep) {
            let view = *layout.views.get(name).ok_or_else(|| Error::shape("plan", format!("no value `{name}` to output")))?;
            outputs.push(PlannedOutput { name: name.clone(), dims: shapes[name].clone(), view });
        }
        let pinned: Vec<TensorId> = outputs.iter().map(|o| o.view.tensor).collect();
        let dispatches = schedule::schedule(&steps.steps, &mut layout, &pinned, options)?;
        let input = layout.view(&graph.input).tensor;
        let lifetimes = liveness::lifetimes(&dispatches, layout.tensors.len(), input, &pinned);
        let (buffer_of, buffer_sizes) = liveness::assign_buffers(&layout.tensors, &lifetimes);
        let barrier_before = predict_barriers(&dispatches, &buffer_of);
        let modules = find_modules(graph)
            .into_iter()
            .map(|m| PlannedModule {
                dispatches: (0..dispatches.len()).filter(|&i| dispatches[i].nodes.iter().any(|n| m.nodes.contains(n))).collect(),
                name: m.name,
                branches: m.branches,
            })
            .collect();
        Ok(Plan { batch, weights: options.weights, tensors: layout.tensors, dispatches, input, outputs, buffer_of, buffer_sizes, lifetimes, barrier_before, modules })
    }

    /// The buffer a dispatch-used tensor lives in.
    pub fn buffer(&self, tensor: TensorId) -> usize {
        self.buffer_of[tensor].expect("every tensor a dispatch uses has a buffer")
    }

    /// Wave of each dispatch: dispatches in one wave run with no barrier between them.
    pub fn waves(&self) -> Vec<usize> {
        let mut wave = 0;
        self.barrier_before
            .iter()
            .enumerate()
            .map(|(i, &barrier)| {
                if barrier && i > 0 {
                    wave += 1;
                }
                wave
            })
            .collect()
    }

    /// Barriers between a module's first and last dispatch, before its own dispatches.
    pub fn barriers_inside(&self, module: &PlannedModule) -> usize {
        module.dispatches.iter().skip(1).filter(|&&d| self.barrier_before[d]).count()
    }

    /// The waves a module's dispatches run in.
    pub fn module_waves(&self, module: &PlannedModule) -> usize {
        let waves = self.waves();
        let mut seen: Vec<usize> = module.dispatches.iter().map(|&d| waves[d]).collect();
        seen.dedup();
        seen.len()
    }

    /// The longest chain of the module's dispatches that depend on each other: the fewest waves
    /// it can run in (dispatch levels count the steps before each one).
    pub fn critical_path(&self, module: &PlannedModule) -> usize {
        let levels = module.dispatches.iter().map(|&d| self.dispatches[d].level);
        match (levels.clone().min(), levels.max()) {
            (Some(first), Some(last)) => last - first + 1,
            _ => 0,
        }
    }

    /// Pairs of a module's dispatches of one level (independent of each other) that a barrier
    /// separates all the same, because both use one buffer and one of them writes it (wgpu
    /// tracks whole buffers), with that buffer.
    pub fn serialized_pairs(&self, module: &PlannedModule) -> Vec<(usize, usize, usize)> {
        let uses = |d: &Dispatch| -> Vec<(usize, bool)> {
            let reads = std::iter::once(d.input).chain(d.residual).map(|t| (self.buffer(t), false));
            reads.chain(d.outputs.iter().flatten().map(|&t| (self.buffer(t), true))).collect()
        };
        let mut pairs = Vec::new();
        for (i, &a) in module.dispatches.iter().enumerate() {
            for &b in &module.dispatches[i + 1..] {
                if self.dispatches[a].level != self.dispatches[b].level {
                    continue;
                }
                let (ua, ub) = (uses(&self.dispatches[a]), uses(&self.dispatches[b]));
                if let Some(&(buffer, _)) = ua.iter().find(|(x, wa)| ub.iter().any(|(y, wb)| x == y && (*wa || *wb))) {
                    pairs.push((a, b, buffer));
                }
            }
        }
        pairs
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// wgpu tracks whole buffers: a dispatch gets a barrier when it uses a buffer that an earlier
/// dispatch of the pass used, unless both only read it. (A buffer's first use in the pass needs
/// no barrier inside the pass: wgpu resolves it at submit.)
fn predict_barriers(dispatches: &[Dispatch], buffer_of: &[Option<usize>]) -> Vec<bool> {
    let mut last_access = std::collections::HashMap::new();
    dispatches
        .iter()
        .map(|d| {
            let reads = std::iter::once(d.input).chain(d.residual).map(|t| (t, Access::Read));
            let writes = d.outputs.iter().flatten().map(|&t| (t, Access::Write));
            let uses: Vec<(usize, Access)> = reads.into_iter().chain(writes).map(|(t, a)| (buffer_of[t].expect("used"), a)).collect();
            let barrier = uses.iter().any(|(b, a)| last_access.get(b).is_some_and(|prev| !(*prev == Access::Read && *a == Access::Read)));
            for (b, a) in uses {
                last_access.insert(b, a);
            }
            barrier
        })
        .collect()
}
