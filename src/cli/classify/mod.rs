//! `googlenet classify PATH...`: images, and folders of them, in; each image's top classes out, as
//! text or as one JSON line per image. Images are decoded and preprocessed on a thread of their
//! own while the GPU runs the batch before (a pipeline one batch deep). A file that cannot be read
//! or decoded gets its error line and the run goes on.

mod inputs;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use googlenet::preprocess::{image_tensor, open_image, Preprocess};
use googlenet::{Error, Prediction, Result, Session, Tensor};

use super::output::Text;
use super::progress::Progress;
use super::{Exit, FallbackArgs, ModelArgs};
use inputs::Input;

pub struct ClassifyArgs {
    pub paths: Vec<PathBuf>,
    /// Images per GPU run.
    pub batch: usize,
    pub top: usize,
    pub preprocess: Option<Preprocess>,
    /// Where the JSON lines go (`-`: stdout); without it, text on stdout.
    pub json_lines: Option<PathBuf>,
}

/// Set by Ctrl-C: the run stops after the batch in flight, its lines written.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// One batch, decoded: each image's path and its input tensor, or why it has none.
type Decoded = Vec<(PathBuf, std::result::Result<Tensor, String>)>;

/// One image's classes, or why it has none.
type Outcome = std::result::Result<Vec<Prediction>, String>;

pub fn run(model: &ModelArgs, fallback: &FallbackArgs, args: ClassifyArgs) -> Result<ExitCode> {
    let builder = model.builder();
    let session = fallback.build(match args.preprocess {
        Some(p) => builder.preprocess(p),
        None => builder,
    })?;
    let size = session.image_size()?;
    super::note_synthetic_weights(&session);
    let inputs = inputs::collect(&args.paths);
    if inputs.is_empty() {
        return Err(Error::shape("classify", "no JPEG or PNG images (.jpg, .jpeg or .png files) under the paths given"));
    }
    // Planned (and checked against the device's limits) before any image is decoded.
    session.split(args.batch)?;
    let mut sink = Sink::open(args.json_lines.as_deref())?;
    // Without a handler Ctrl-C still stops the process, just not between two lines.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));

    let started = Instant::now();
    let mut progress = Progress::new("images", inputs.len() as u64);
    let mut tally = Tally::default();
    let mut images = Vec::new();
    for input in inputs {
        match input {
            Input::Image(path) => images.push(path),
            Input::Unlistable { path, error } => tally.record(&mut sink, &progress, &path, Err(error))?,
        }
    }
    progress.advance(tally.failed as u64);
    let preprocess = session.preprocess();
    let batch = args.batch;
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = sync_channel::<Decoded>(1);
        scope.spawn(move || {
            for chunk in images.chunks(batch) {
                let decoded = chunk.iter().map(|path| (path.clone(), decode(path, preprocess, size))).collect();
                if INTERRUPTED.load(Ordering::SeqCst) || sender.send(decoded).is_err() {
                    break;
                }
            }
        });
        for decoded in receiver {
            let count = decoded.len() as u64;
            for (path, outcome) in classify_batch(&session, decoded, args.top)? {
                tally.record(&mut sink, &progress, &path, outcome)?;
            }
            progress.advance(count);
            if INTERRUPTED.load(Ordering::SeqCst) {
                break;
            }
        }
        Ok(())
    })?;
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    let stopped = if INTERRUPTED.load(Ordering::SeqCst) { " (stopped by Ctrl-C)" } else { "" };
    eprintln!(
        "{} classified, {} failed in {seconds:.1} s ({:.2} images/s) on {}{stopped}",
        tally.classified,
        tally.failed,
        tally.classified as f64 / seconds.max(1e-9),
        session.backend().describe()
    );
    Ok(match (stopped.is_empty(), tally.failed) {
        (false, _) => Exit::Interrupted,
        (true, 0) => Exit::Success,
        (true, _) => Exit::SomeFailed,
    }
    .into())
}

fn decode(path: &Path, preprocess: Preprocess, size: [usize; 2]) -> std::result::Result<Tensor, String> {
    let image = open_image(path).map_err(|e| e.to_string())?;
    image_tensor(&image, preprocess, size).map_err(|message| Error::file(path, message).to_string())
}

/// The batch's images that decoded, run as one batch; each path with its classes or its error.
fn classify_batch(session: &Session, decoded: Decoded, top: usize) -> Result<Vec<(PathBuf, Outcome)>> {
    let (good, bad): (Vec<_>, Vec<_>) = decoded.into_iter().partition(|(_, tensor)| tensor.is_ok());
    let mut ranked = Vec::with_capacity(good.len() + bad.len());
    if !good.is_empty() {
        let [height, width] = session.image_size()?;
        let mut data = Vec::with_capacity(good.len() * 3 * height * width);
        let mut paths = Vec::with_capacity(good.len());
        for (path, tensor) in good {
            data.extend(tensor.expect("partitioned on Ok").data);
            paths.push(path);
        }
        let outputs = session.run(&Tensor::new(vec![paths.len(), 3, height, width], data))?;
        ranked.extend(paths.into_iter().zip(session.predictions(&outputs, top)?).map(|(path, row)| (path, Ok(row))));
    }
    ranked.extend(bad.into_iter().map(|(path, tensor)| (path, Err(tensor.expect_err("partitioned on Err")))));
    Ok(ranked)
}

#[derive(Default)]
struct Tally {
    classified: usize,
    failed: usize,
}

impl Tally {
    fn record(&mut self, sink: &mut Sink, progress: &Progress, path: &Path, outcome: Outcome) -> Result<()> {
        match &outcome {
            Ok(_) => self.classified += 1,
            Err(_) => self.failed += 1,
        }
        progress.suspend(|| sink.write(path, &outcome))
    }
}

/// Where each image's result goes.
enum Sink {
    Text,
    JsonLines { out: Box<dyn Write>, name: PathBuf },
}

impl Sink {
    fn open(json_lines: Option<&Path>) -> Result<Sink> {
        Ok(match json_lines {
            None => Sink::Text,
            Some(path) if path == Path::new("-") => Sink::JsonLines { out: Box::new(std::io::stdout()), name: "stdout".into() },
            Some(path) => {
                let file = std::fs::File::create(path).map_err(|e| Error::file(path, format!("cannot write the JSON lines: {e}")))?;
                Sink::JsonLines { out: Box::new(std::io::BufWriter::new(file)), name: path.into() }
            }
        })
    }

    fn write(&mut self, path: &Path, outcome: &Outcome) -> Result<()> {
        match self {
            Sink::Text => {
                let mut out = Text::default();
                out.line(path.display());
                match outcome {
                    Ok(row) => row.iter().for_each(|p| out.line(format_args!("  {:>8.4}  {:>4}  {}", p.probability, p.class, p.label))),
                    Err(error) => out.line(format_args!("  error: {error}")),
                }
                out.print()
            }
            Sink::JsonLines { out, name } => {
                let path = super::json::path(path);
                let line = match outcome {
                    Ok(row) => serde_json::json!({"path": path, "top": super::json::top(row)}),
                    Err(error) => serde_json::json!({"path": path, "error": error}),
                };
                // A line at a time, so that an interrupted run leaves whole lines.
                writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| Error::file(name.as_path(), format!("cannot write the results: {e}")))
            }
        }
    }
}
