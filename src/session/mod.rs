//! The front door: one [`Session`] owns a device, a network and its plans, and runs batches of
//! any size from any number of threads.
//!
//! Concurrency: a session keeps one [`Engine`] per batch size it has run (planned on first use).
//! An engine's kernels and weights are shared; each run takes an execution context of its own
//! (activations, bind groups, read-back buffers) from a pool that grows on demand up to
//! `max_contexts`, so runs on different threads never share a buffer, and one run's upload and
//! read-back overlap another's compute. Past the cap a run waits for a context rather than
//! allocating without bound.

mod backend;
mod batches;
mod builder;
mod outputs;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

pub use backend::Backend;
pub use builder::SessionBuilder;
pub use outputs::{Outputs, Prediction};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Pipelines, WeightPrecision};
use crate::graph::{Graph, Op};
use crate::models::ModelFormat;
use crate::plan::{Plan, PlanOptions};
use crate::preprocess::{image_tensor, Preprocess};
use crate::tensor::{element_count, Tensor};
use crate::tune::{tuned_plan, TuneCache};

/// A network ready to run on one device. `Send + Sync + 'static`: share one between threads as
/// an `Arc<Session>`; every method takes `&self`.
pub struct Session {
    setup: Setup,
    /// By batch size.
    engines: Mutex<HashMap<usize, Arc<Engine>>>,
    /// The largest batch whose plan fits the device, found the first time a batch does not.
    largest_fit: OnceLock<usize>,
}

/// What the builder decides: the device, the network and the settings.
struct Setup {
    backend: Backend,
    graph: Graph,
    format: ModelFormat,
    preprocess: Preprocess,
    cache: TuneCache,
    /// Compiled kernels, shared by every plan of the session.
    pipelines: Pipelines,
    max_batch: Option<usize>,
    max_contexts: usize,
    weights: WeightPrecision,
}

impl Session {
    /// A `.onnx` (e.g. the ONNX model zoo's GoogLeNet) or `.safetensors` (a torchvision
    /// GoogLeNet state dict) model, on the default adapter.
    pub fn open(path: impl AsRef<Path>) -> Result<Session> {
        Session::builder().model_file(path.as_ref()).build()
    }

    /// As `open`, awaitable.
    pub async fn open_async(path: impl AsRef<Path>) -> Result<Session> {
        Session::builder().model_file(path.as_ref()).build_async().await
    }

    /// The built-in GoogLeNet with seeded synthetic weights.
    pub fn builtin() -> Result<Session> {
        Session::builder().build()
    }

    /// Everything else: model bytes, auxiliary heads, preprocessing, adapter, device, limits.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::default()
    }

    fn assemble(setup: Setup) -> Session {
        Session { setup, engines: Mutex::new(HashMap::new()), largest_fit: OnceLock::new() }
    }

    /// Runs the network on `input`, `[N, C, H, W]` for any N >= 1, and returns what the model
    /// outputs. A batch too large for the device runs as sub-batches; each image's result is
    /// the one it gets alone.
    pub fn run(&self, input: &Tensor) -> Result<Outputs> {
        pollster::block_on(self.run_async(input))
    }

    /// As `run`, awaitable.
    pub async fn run_async(&self, input: &Tensor) -> Result<Outputs> {
        let batch = self.check_input(input)?;
        if let Backend::CpuReference { .. } = self.setup.backend {
            return self.run_reference(input);
        }
        let image = input.data.len() / batch;
        let sub_batch = self.sub_batch(batch)?;
        let mut parts = Vec::with_capacity(batch.div_ceil(sub_batch));
        for chunk in input.data.chunks(sub_batch * image) {
            let engine = self.engine(chunk.len() / image)?;
            parts.push(engine.run_async(chunk).await?);
        }
        Ok(Outputs::new(batches::concat(parts)))
    }

    /// The `k` most probable classes of each image, most probable first. Images of any size are
    /// resized and cropped to the network's input size, normalised per `preprocess()`; a model
    /// that outputs logits gets a softmax.
    pub fn classify(&self, images: &[image::DynamicImage], k: usize) -> Result<Vec<Vec<Prediction>>> {
        pollster::block_on(self.classify_async(images, k))
    }

    /// As `classify`, awaitable.
    pub async fn classify_async(&self, images: &[image::DynamicImage], k: usize) -> Result<Vec<Vec<Prediction>>> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        let [height, width] = self.image_size()?;
        let mut data = Vec::with_capacity(images.len() * 3 * height * width);
        for (i, image) in images.iter().enumerate() {
            data.extend(image_tensor(image, self.setup.preprocess, [height, width]).map_err(|message| Error::shape(format!("image {i}"), message))?.data);
        }
        let outputs = self.run_async(&Tensor::new(vec![images.len(), 3, height, width], data)).await?;
        self.predictions(&outputs, k)
    }

    /// The `[height, width]` images are resized and cropped to: the model's input size. An
    /// error where the model's input is not 3 channels (an RGB image).
    pub fn image_size(&self) -> Result<[usize; 2]> {
        match self.setup.graph.input_chw {
            [3, height, width] => Ok([height, width]),
            chw => Err(Error::shape("model", format!("input is {chw:?} per image; images need 3 channels"))),
        }
    }

    /// The `k` most probable classes of each image in a run's main output (`[N, classes]`, or
    /// `[N, classes, 1, 1]`), through a softmax where the model outputs logits. A NaN or
    /// infinite score is an error.
    pub fn predictions(&self, outputs: &Outputs, k: usize) -> Result<Vec<Vec<Prediction>>> {
        outputs::rank(outputs.main(), self.outputs_probabilities(), k)
    }

    /// Whether the main output already is a distribution (the model ends in a softmax, perhaps
    /// followed by nodes that do not change values).
    pub fn outputs_probabilities(&self) -> bool {
        self.setup.graph.origin(&self.setup.graph.outputs[0]).is_some_and(|n| matches!(n.op, Op::Softmax))
    }

    /// The names of the model's outputs, main first.
    pub fn output_names(&self) -> &[String] {
        &self.setup.graph.outputs
    }

    /// Channels, height and width of one input image.
    pub fn input_chw(&self) -> [usize; 3] {
        self.setup.graph.input_chw
    }

    /// The preprocessing `classify` applies.
    pub fn preprocess(&self) -> Preprocess {
        self.setup.preprocess
    }

    /// What kind of model this is.
    pub fn format(&self) -> ModelFormat {
        self.setup.format
    }

    /// The network the session runs.
    pub fn graph(&self) -> &Graph {
        &self.setup.graph
    }

    /// What the session computes on.
    pub fn backend(&self) -> &Backend {
        &self.setup.backend
    }

    /// The device the session runs on; an error where it runs on the CPU reference.
    pub fn gpu(&self) -> Result<&Arc<Gpu>> {
        self.setup.backend.gpu()
    }

    /// The compiled kernels, shared by every plan of the session.
    pub fn pipelines(&self) -> &Pipelines {
        &self.setup.pipelines
    }

    /// The tuning cache the session applies.
    pub fn tune_cache(&self) -> &TuneCache {
        &self.setup.cache
    }

    /// The plan options this session's settings imply (its weight precision); a command
    /// planning the network its own way starts from these.
    pub fn plan_options(&self) -> PlanOptions {
        PlanOptions { weights: self.setup.weights, ..Default::default() }
    }

    /// The plan for `batch` images, with this adapter's tuned choices (not yet on the device).
    /// Its conv weights are f16 where `options` or the session asks for it.
    pub fn plan(&self, batch: usize, options: &PlanOptions) -> Result<Plan> {
        let options = PlanOptions { weights: options.weights.max(self.setup.weights), ..options.clone() };
        tuned_plan(self.gpu()?, &self.setup.graph, batch, &options, &self.setup.cache)
    }

    /// The sizes `batch` images run as: full sub-batches, then the rest.
    pub fn split(&self, batch: usize) -> Result<Vec<usize>> {
        let sub_batch = self.sub_batch(batch)?;
        Ok((0..batch).step_by(sub_batch).map(|start| sub_batch.min(batch - start)).collect())
    }

    /// The engine for `batch` images, planned on first use.
    pub fn engine(&self, batch: usize) -> Result<Arc<Engine>> {
        let mut engines = self.engines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(engine) = engines.get(&batch) {
            return Ok(Arc::clone(engine));
        }
        let plan = self.plan(batch, &PlanOptions::default())?;
        log::debug!("building the engine for batch {batch}: {} dispatches", plan.dispatches.len());
        let engine = Arc::new(Engine::with_contexts(self.gpu()?, &self.setup.pipelines, plan, self.setup.max_contexts)?);
        // A cache that cannot be written costs the next process its compile time, not this run.
        if let Err(e) = self.setup.pipelines.save() {
            log::warn!("{e}");
        }
        engines.insert(batch, Arc::clone(&engine));
        Ok(engine)
    }

    /// The whole batch through the CPU reference, keeping the model's outputs.
    fn run_reference(&self, input: &Tensor) -> Result<Outputs> {
        let graph = &self.setup.graph;
        let mut values = crate::reference::run_reference(graph, input)?;
        let outputs = graph.outputs.iter().map(|name| {
            let value = values.remove(name).ok_or_else(|| Error::shape(name.as_str(), "the reference computed no such output"))?;
            Ok((name.clone(), value))
        });
        Ok(Outputs::new(outputs.collect::<Result<_>>()?))
    }

    fn check_input(&self, input: &Tensor) -> Result<usize> {
        let [c, h, w] = self.setup.graph.input_chw;
        let &[batch, ic, ih, iw] = input.dims.as_slice() else {
            return Err(Error::shape("input", format!("dims {:?}; the network takes [N, {c}, {h}, {w}]", input.dims)));
        };
        if [ic, ih, iw] != [c, h, w] || batch == 0 {
            return Err(Error::shape("input", format!("dims {:?}; the network takes [N, {c}, {h}, {w}] with N >= 1", input.dims)));
        }
        if input.data.len() != element_count(&input.dims) {
            return Err(Error::shape("input", format!("{} values for dims {:?}", input.data.len(), input.dims)));
        }
        Ok(batch)
    }

    /// The largest sub-batch `batch` images run in.
    fn sub_batch(&self, batch: usize) -> Result<usize> {
        let wanted = self.setup.max_batch.map_or(batch, |cap| cap.min(batch));
        if let Some(&largest) = self.largest_fit.get() {
            return Ok(largest.min(wanted));
        }
        if self.has_engine(wanted) || matches!(self.setup.backend, Backend::CpuReference { .. }) {
            return Ok(wanted);
        }
        let one = self.plan(1, &PlanOptions::default())?;
        let per_image_bytes = one.buffer_sizes.iter().max().map_or(0, |&floats| floats as u64 * 4);
        let largest = batches::largest_fitting(self.gpu()?, per_image_bytes, wanted, |b| self.fits(b))?;
        if largest < wanted {
            self.largest_fit.get_or_init(|| largest);
        }
        Ok(largest)
    }

    fn has_engine(&self, batch: usize) -> bool {
        self.engines.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).contains_key(&batch)
    }

    /// Whether the plan for `batch` images is within the device's limits.
    fn fits(&self, batch: usize) -> Result<bool> {
        if self.has_engine(batch) {
            return Ok(true);
        }
        let plan = self.plan(batch, &PlanOptions::default())?;
        match crate::engine::check_limits(self.gpu()?, &plan) {
            Ok(()) => Ok(true),
            Err(Error::OverLimit { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }
}
