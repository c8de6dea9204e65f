//! googlenet: GoogLeNet (Inception v1) inference on hand-written WGSL compute kernels.
//!
//! - [`ops`]: each op's shape, CPU reference and GPU launch;
//! - [`gpu`]: the wgpu device, compiled kernels and buffers;
//! - [`verify`]: every kernel against its reference;
//! - [`onnx`]: ONNX files, and ONNX's own operator test cases.

pub mod error;
pub mod geometry;
pub mod gpu;
pub mod onnx;
pub mod ops;
pub mod rng;
pub mod verify;

pub use error::{Error, Result};
