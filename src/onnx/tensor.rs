//! ONNX tensors to f32 host data, with every size checked before anything is allocated.

use std::path::Path;

use prost::Message;

use super::proto::{data_type_name, TensorProto, FLOAT};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Larger tensors are refused outright: GoogLeNet's largest weight has 1M elements.
const MAX_ELEMENTS: u64 = 1 << 31;


/// Decodes one serialized `TensorProto` file (as ONNX's test data sets store them).
pub fn read_tensor_file(path: &Path) -> Result<Tensor> {
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    let proto = TensorProto::decode(bytes.as_slice())
        .map_err(|e| Error::file(path, format!("not a valid ONNX TensorProto: {e}")))?;
    to_host(&proto).map_err(|e| Error::file(path, e.to_string()))
}

/// Converts a FLOAT tensor; other element types are unsupported and say which type they are.
pub fn to_host(proto: &TensorProto) -> Result<Tensor> {
    let name = if proto.name.is_empty() { "tensor".to_string() } else { format!("tensor `{}`", proto.name) };
    if proto.data_type != FLOAT {
        return Err(Error::unsupported(
            name,
            format!("element type {} ({}); only FLOAT (f32) is supported", data_type_name(proto.data_type), proto.data_type),
        ));
    }
    if proto.data_location != 0 {
        return Err(Error::unsupported(name, "external data is not read by this loader"));
    }
    let mut count: u64 = 1;
    for &d in &proto.dims {
        if d < 0 {
            return Err(Error::shape(name, format!("negative dimension {d} in {:?}", proto.dims)));
        }
        count = count.saturating_mul(d as u64);
    }
    if count > MAX_ELEMENTS {
        return Err(Error::shape(name, format!("dims {:?} hold {count} elements, over the limit of {MAX_ELEMENTS}", proto.dims)));
    }
    let dims: Vec<usize> = proto.dims.iter().map(|&d| d as usize).collect();
    let data = if !proto.raw_data.is_empty() {
        if proto.raw_data.len() as u64 != count * 4 {
            return Err(Error::shape(
                name,
                format!("raw_data has {} bytes but dims {:?} need {}", proto.raw_data.len(), proto.dims, count * 4),
            ));
        }
        proto.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    } else {
        if proto.float_data.len() as u64 != count {
            return Err(Error::shape(
                name,
                format!("float_data has {} values but dims {:?} need {count}", proto.float_data.len(), proto.dims),
            ));
        }
        proto.float_data.clone()
    };
    Ok(Tensor { dims, data })
}
