//! googlenet: GoogLeNet (Inception v1) inference on hand-written WGSL compute kernels.
//!
//! - [`ops`]: each op's shape, CPU reference and GPU launch;
//! - [`gpu`]: the wgpu device, compiled kernels and buffers;
//! - [`verify`]: every kernel against its reference;
//! - [`onnx`]: ONNX files, and ONNX's own operator test cases.

pub mod bench;
pub mod chart;
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
pub mod state_dict;
pub mod tensor;
pub mod tune;
pub mod verify;

pub use error::{Error, Result};
