//! Small ONNX models written in a test: one `[N, ...]` float input, nodes, float initializers.
//! Included with `#[path]` by the test files that build such models.

#![allow(dead_code)] // each test binary uses a part

use googlenet::onnx::proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TensorTypeProto, TypeProto,
    ValueInfoProto, FLOAT, INT64,
};
use prost::Message;

/// A node; its name is its first output's.
pub fn node(op_type: &str, inputs: &[&str], outputs: &[&str], attributes: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op_type.into(),
        name: outputs[0].into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attributes,
        ..Default::default()
    }
}

pub fn int_attribute(name: &str, value: i64) -> AttributeProto {
    AttributeProto { name: name.into(), i: value, r#type: 2, ..Default::default() }
}

pub fn float_attribute(name: &str, value: f32) -> AttributeProto {
    AttributeProto { name: name.into(), f: value, r#type: 1, ..Default::default() }
}

pub fn float_tensor(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto { name: name.into(), dims: dims.to_vec(), data_type: FLOAT, float_data: values.to_vec(), ..Default::default() }
}

pub fn int_tensor(name: &str, values: &[i64]) -> TensorProto {
    TensorProto { name: name.into(), dims: vec![values.len() as i64], data_type: INT64, int64_data: values.to_vec(), ..Default::default() }
}

fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims.iter().map(|&d| Dimension { dim_value: d, dim_param: d.is_none().then(|| "N".into()) }).collect();
    let tensor_type = TensorTypeProto { elem_type: FLOAT, shape: Some(TensorShapeProto { dim }) };
    ValueInfoProto { name: name.into(), r#type: Some(TypeProto { tensor_type: Some(tensor_type) }) }
}

/// A model of `opset` whose input `x` is `[N, item...]`, computing `outputs` with `nodes`.
pub fn model(opset: i64, item: &[i64], nodes: Vec<NodeProto>, initializers: Vec<TensorProto>, outputs: &[&str]) -> ModelProto {
    let input_dims: Vec<Option<i64>> = std::iter::once(None).chain(item.iter().map(|&d| Some(d))).collect();
    let graph = GraphProto {
        node: nodes,
        name: "tiny".into(),
        initializer: initializers,
        input: vec![value_info("x", &input_dims)],
        output: outputs.iter().map(|name| value_info(name, &[])).collect(),
    };
    ModelProto { ir_version: 8, producer_name: "test".into(), graph: Some(graph), opset_import: vec![OperatorSetIdProto { domain: String::new(), version: opset }] }
}

/// `model`, encoded.
pub fn model_bytes(opset: i64, item: &[i64], nodes: Vec<NodeProto>, initializers: Vec<TensorProto>, outputs: &[&str]) -> Vec<u8> {
    model(opset, item, nodes, initializers, outputs).encode_to_vec()
}
