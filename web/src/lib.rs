//! The engine in a browser: what `web/index.html` calls, through wasm-bindgen. The same
//! `Session`, planner, scheduler and WGSL kernels as the native build, on the page's WebGPU
//! adapter with WebGPU's default limits. Results go back to the page as JSON text.

use std::path::Path;
use std::sync::Arc;

use googlenet::engine::Engine;
use googlenet::gpu::{AdapterChoice, KernelId, LimitsChoice, WeightPrecision};
use googlenet::preprocess::{decode_image, image_tensor};
use googlenet::{ModelSource, Session, Tensor};
use serde_json::json;
use wasm_bindgen::prelude::*;

/// One model on the page's WebGPU device, and its engine for one image once `prepare`d.
#[wasm_bindgen]
pub struct Demo {
    session: Session,
    engine: Option<Arc<Engine>>,
}

#[wasm_bindgen]
impl Demo {
    /// Opens the WebGPU adapter and loads the model: the bytes of the `.onnx` or `.safetensors`
    /// file called `name`, or, without them, the built-in GoogLeNet with synthetic weights; its
    /// conv weights in f16 with `f16_weights` (half their memory, results moved by the rounding).
    pub async fn open(name: Option<String>, bytes: Option<Vec<u8>>, f16_weights: bool) -> Result<Demo, JsError> {
        console_error_panic_hook::set_once();
        let source = match (name, bytes) {
            (_, None) => ModelSource::Builtin,
            (Some(name), Some(bytes)) if name.ends_with(".onnx") => ModelSource::OnnxBytes(bytes),
            (Some(name), Some(bytes)) if name.ends_with(".safetensors") => ModelSource::SafetensorsBytes(bytes),
            (name, Some(_)) => return Err(JsError::new(&format!("{}: not a .onnx or .safetensors file", name.unwrap_or_default()))),
        };
        // What a browser grants unless asked for more.
        let adapter = AdapterChoice { limits: LimitsChoice::WebGpuDefaults, ..Default::default() };
        let weights = WeightPrecision::f16_if(f16_weights);
        let session = Session::builder().model(source).adapter(adapter).weight_precision(weights).build_async().await.map_err(error)?;
        Ok(Demo { session, engine: None })
    }

    /// What wgpu knows of the adapter, in a few words (a browser names it only to the page:
    /// `adapter.info`).
    pub fn adapter(&self) -> String {
        match self.session.gpu() {
            Ok(gpu) => format!("{:?} device on {:?}, WebGPU's default limits", gpu.info.device_type, gpu.info.backend),
            Err(_) => self.session.backend().describe(),
        }
    }

    /// The kernel variants the prepared plan runs (the defaults for this adapter's kind), e.g.
    /// `blocked, blocked-vec4, rows`.
    pub fn variants(&self) -> String {
        let Some(engine) = &self.engine else { return String::new() };
        let mut names: Vec<&str> = engine.plan().dispatches.iter().map(|d| d.kernel.variant_name()).filter(|&name| name != "default").collect();
        names.sort();
        names.dedup();
        names.join(", ")
    }

    /// The model, in a few words: its format and whether its classes mean anything.
    pub fn model(&self) -> String {
        let format = self.session.format();
        match format {
            googlenet::ModelFormat::Builtin => "built-in GoogLeNet, synthetic weights (its classes mean nothing)".into(),
            _ => format!("{format:?} model, preprocessing {}", self.session.preprocess().name()),
        }
    }

    /// Plans the network for one image, compiles its kernels and uploads its weights.
    pub fn prepare(&mut self) -> Result<u32, JsError> {
        let engine = self.session.engine(1).map_err(error)?;
        let dispatches = engine.plan().dispatches.len() as u32;
        self.engine = Some(engine);
        Ok(dispatches)
    }

    /// Classifies the JPEG or PNG image in `bytes` (called `name` in errors): its `top` classes,
    /// the time of its first run and of a second one, and each part of the network's GPU time
    /// (a third, profiled run) where the adapter has timestamps. JSON: `{"predictions": [{"class",
    /// "label", "probability"}], "first_run_ms", "run_ms", "modules": [{"name", "ms"}] | null}`.
    pub async fn classify(&self, name: String, bytes: Vec<u8>, top: usize) -> Result<String, JsError> {
        let engine = self.engine.as_ref().ok_or_else(|| JsError::new("call prepare() first"))?;
        let image = decode_image(&bytes, Path::new(&name)).map_err(error)?;
        let [height, width] = self.session.image_size().map_err(error)?;
        let tensor = image_tensor(&image, self.session.preprocess(), [height, width]).map_err(|message| JsError::new(&format!("{name}: {message}")))?;
        let input = Tensor::new(vec![1, 3, height, width], tensor.data);
        let started = now_ms();
        let outputs = self.session.run_async(&input).await.map_err(error)?;
        let first_run_ms = now_ms() - started;
        // The first run may include the browser's own shader compiles: time one more.
        let started = now_ms();
        self.session.run_async(&input).await.map_err(error)?;
        let run_ms = now_ms() - started;
        let predictions = self.session.predictions(&outputs, top).map_err(error)?;
        let profile = engine.profile_async(&input.data).await.map_err(error)?;
        let modules = profile.dispatch_ms.map(|ms| googlenet::bench::modules(engine.plan(), &ms));
        let predictions: Vec<_> = predictions[0].iter().map(|p| json!({ "class": p.class, "label": p.label, "probability": p.probability })).collect();
        let modules = modules.map(|rows| rows.iter().map(|row| json!({ "name": row.name, "ms": row.ms })).collect::<Vec<_>>());
        Ok(json!({ "predictions": predictions, "first_run_ms": first_run_ms, "run_ms": run_ms, "modules": modules }).to_string())
    }
}

/// Every kernel a browser can run, as JSON `[{"kernel", "source", "entry_point", "constants"}]`:
/// web/test.mjs makes a pipeline of each with the browser's own WGSL compiler, which is stricter
/// than naga in places, on a device with WebGPU's default limits. The
/// subgroup kernels are left out: wgpu's WebGPU backend does not ask for the `subgroups`
/// feature, so they are never offered here.
#[wasm_bindgen]
pub fn kernel_sources() -> String {
    let runnable = KernelId::all().into_iter().filter(|id| id.subgroup_width().is_none());
    let kernels: Vec<_> = runnable
        .map(|id| {
            let constants: serde_json::Map<String, serde_json::Value> = id.constants().into_iter().map(|(name, value)| (name.to_string(), value.into())).collect();
            json!({ "kernel": format!("{id:?}"), "source": id.source(), "entry_point": id.entry_point(), "constants": constants })
        })
        .collect();
    serde_json::Value::from(kernels).to_string()
}

fn error(e: googlenet::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// The page's clock, in ms.
fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}
