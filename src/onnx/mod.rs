//! ONNX: the protobuf messages, tensors, and the importer from models to the engine's graph.

mod attributes;
mod spatial;
pub mod import;
pub mod proto;
pub mod tensor;
