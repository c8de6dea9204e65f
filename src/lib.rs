//! googlenet: GoogLeNet (Inception v1) inference on hand-written WGSL compute kernels, on
//! [wgpu](https://wgpu.rs).
//!
//! An application needs one type, [`Session`]:
//!
//! ```no_run
//! # fn main() -> googlenet::Result<()> {
//! let session = googlenet::Session::builtin()?; // or Session::open("googlenet.onnx")?
//! let input = googlenet::Tensor::new(vec![2, 3, 224, 224], vec![0.0; 2 * 3 * 224 * 224]);
//! let outputs = session.run(&input)?; // any batch size
//! println!("{:?}", outputs.main().dims); // [2, 1000]
//! let photo = googlenet::image::open("cat.jpg").map_err(|e| googlenet::Error::file("cat.jpg", e.to_string()))?;
//! let top5 = session.classify(&[photo], 5)?;
//! println!("{} {:.3}", top5[0][0].label, top5[0][0].probability);
//! # Ok(())
//! # }
//! ```
//!
//! Below it, the machinery the CLI, the tests and the benches use: [`graph`] (one `Op` enum,
//! shapes), [`plan`] (lowering, concurrent dispatch waves, buffers), [`engine`] (the GPU
//! executor), [`reference`] (the CPU oracle), [`ops`] (each kernel's shape, CPU reference and
//! launch), [`verify`] (every kernel against its reference), [`tune`] (variants per adapter).

pub mod bench;
pub mod engine;
pub mod error;
pub mod geometry;
pub mod gpu;
pub mod graph;
pub mod labels;
pub mod models;
pub mod npy;
pub mod onnx;
pub mod ops;
pub mod plan;
pub mod preprocess;
pub mod reference;
pub mod rng;
mod session;
pub mod state_dict;
pub mod tensor;
pub mod tune;
pub mod verify;

pub use error::{Error, Result};
pub use image;
pub use models::{ModelFormat, ModelSource};
pub use preprocess::Preprocess;
pub use session::{Outputs, Prediction, Session, SessionBuilder};
pub use tensor::Tensor;
