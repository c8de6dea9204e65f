//! ONNX: the protobuf messages, tensors, node-to-op mapping, and ONNX's own test cases.

mod attributes;
mod spatial;
pub mod conformance;
pub mod import;
pub mod node_ops;
pub mod proto;
pub mod tensor;
