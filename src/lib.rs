#![warn(missing_docs)]
// In a browser wgpu's types are neither Send nor Sync; a session's `Arc`s still share one device
// and one engine between its runs there.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
//! googlenet: GoogLeNet (Inception v1) inference on hand-written WGSL compute kernels, on
//! [wgpu](https://wgpu.rs).
//!
//! An application needs one type, [`Session`]:
//!
//! ```
//! # fn main() -> googlenet::Result<()> {
//! let session = googlenet::Session::builtin()?; // or Session::open("googlenet.onnx")?
//! let input = googlenet::Tensor::new(vec![2, 3, 224, 224], vec![0.5; 2 * 3 * 224 * 224]);
//! let outputs = session.run(&input)?; // any batch size
//! assert_eq!(outputs.main().dims, [2, 1000]);
//! let photo = googlenet::image::DynamicImage::new_rgb8(320, 240); // or image::open("cat.jpg")
//! let top5 = session.classify(&[photo], 5)?;
//! println!("{} {:.3}", top5[0][0].label, top5[0][0].probability);
//! # Ok(())
//! # }
//! ```
//!
//! `Session` is `Send + Sync`: share one between threads as an `Arc<Session>` (see
//! `examples/threads.rs`). Open a model with [`Session::builder`] for the rest: model bytes,
//! auxiliary heads, preprocessing, the adapter or an application's own `wgpu::Device`, the
//! tuning cache, limits.
//!
//! Below it, the machinery the CLI, the tests and the benches use: [`graph`] (one `Op` enum,
//! shapes), [`plan`] (lowering, concurrent dispatch waves, buffers), [`engine`] (the GPU
//! executor), [`mod@reference`] (the CPU oracle), [`ops`] (each kernel's shape, CPU reference and
//! launch), [`verify`] (every kernel against its reference), [`tune`] (variants per adapter).

#[allow(missing_docs)] // timing summaries for the CLI and benches
pub mod bench;
pub mod cache_files;
pub mod engine;
pub mod error;
pub mod files;
#[allow(missing_docs)]
pub mod geometry;
pub mod gpu;
#[allow(missing_docs)] // the machinery below the session: documented per module and where not obvious
pub mod graph;
pub mod labels;
pub mod models;
pub mod npy;
#[allow(missing_docs)]
pub mod onnx;
#[allow(missing_docs)]
pub mod ops;
#[allow(missing_docs)]
pub mod plan;
pub mod preprocess;
pub mod reference;
pub mod rng;
mod session;
pub mod state_dict;
pub mod tensor;
#[allow(missing_docs)]
pub mod tune;
#[allow(missing_docs)]
pub mod verify;

pub use error::{Error, ErrorKind, Result};
pub use image;
pub use models::{ModelFormat, ModelSource};
pub use preprocess::Preprocess;
pub use session::{Backend, Outputs, Prediction, Session, SessionBuilder};
pub use tensor::Tensor;
