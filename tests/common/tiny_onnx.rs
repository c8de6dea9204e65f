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

pub fn ints_attribute(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), ints: values.to_vec(), r#type: 7, ..Default::default() }
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

/// A small RGB classifier of input `[N, 3, height, width]` and output `[N, 10]` (logits): a 3x3
/// stride-2 conv to 4 channels, Relu, GlobalAveragePool, Flatten, Gemm, with fixed uneven weights.
pub fn image_classifier(height: i64, width: i64) -> Vec<u8> {
    let values = |count: usize, seed: usize| -> Vec<f32> { (0..count).map(|i| ((i * 37 + seed) % 17) as f32 / 8.0 - 1.0).collect() };
    let nodes = vec![
        node("Conv", &["x", "w", "b"], &["conv"], vec![ints_attribute("kernel_shape", &[3, 3]), ints_attribute("strides", &[2, 2])]),
        node("Relu", &["conv"], &["relu"], vec![]),
        node("GlobalAveragePool", &["relu"], &["pool"], vec![]),
        node("Flatten", &["pool"], &["flat"], vec![]),
        node("Gemm", &["flat", "fc", "fc_bias"], &["logits"], vec![int_attribute("transB", 1)]),
    ];
    let initializers = vec![
        float_tensor("w", &[4, 3, 3, 3], &values(4 * 27, 1)),
        float_tensor("b", &[4], &values(4, 5)),
        float_tensor("fc", &[10, 4], &values(40, 3)),
        float_tensor("fc_bias", &[10], &values(10, 7)),
    ];
    model_bytes(13, &[3, height, width], nodes, initializers, &["logits"])
}
