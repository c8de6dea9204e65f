//! ONNX tensors to host data, with every size checked before anything is allocated. FLOAT
//! tensors become f32 `Tensor`s; INT64 ones (shapes) become i64 vectors.

use std::path::Path;

use prost::Message;

use super::proto::{data_type_name, TensorProto, EXTERNAL, FLOAT, INT64};
use crate::error::{Error, Result};
use crate::files::{self, FileKind};
use crate::tensor::Tensor;

/// Larger tensors are refused outright: GoogLeNet's largest weight has 1M elements.
const MAX_ELEMENTS: u64 = 1 << 28;

/// Decodes one serialized `TensorProto` file (as ONNX's test data sets store them).
pub fn read_tensor_file(path: &Path) -> Result<Tensor> {
    let bytes = files::read_capped(path, FileKind::ExternalData)?;
    let proto = TensorProto::decode(bytes.as_slice())
        .map_err(|e| Error::file(path, format!("not a valid ONNX TensorProto: {e}")))?;
    to_host(&proto).map_err(|e| e.in_file(path))
}

fn label(proto: &TensorProto) -> String {
    if proto.name.is_empty() { "tensor".to_string() } else { format!("tensor `{}`", proto.name) }
}

/// The dims, checked: none negative, and no more elements than any real model holds.
fn checked_dims(proto: &TensorProto) -> Result<(Vec<usize>, u64)> {
    let mut count: u64 = 1;
    for &d in &proto.dims {
        if d < 0 {
            return Err(Error::shape(label(proto), format!("negative dimension {d} in {:?}", proto.dims)));
        }
        count = count.saturating_mul(d as u64);
    }
    if count > MAX_ELEMENTS {
        return Err(Error::shape(label(proto), format!("dims {:?} hold {count} elements, over the limit of {MAX_ELEMENTS}", proto.dims)));
    }
    Ok((proto.dims.iter().map(|&d| d as usize).collect(), count))
}

/// The tensor's bytes: its `raw_data`, or the range of its external file it names. That file
/// must lie in `base`, the model's folder (see [`crate::files::confined`]), and only the range
/// is read, once its length is known to be the `expected` bytes the dims need.
fn raw_bytes<'a>(proto: &'a TensorProto, base: Option<&Path>, expected: u64) -> Result<std::borrow::Cow<'a, [u8]>> {
    if proto.data_location != EXTERNAL {
        return Ok(std::borrow::Cow::Borrowed(&proto.raw_data));
    }
    let entry = |key: &str| proto.external_data.iter().find(|e| e.key == key).map(|e| e.value.as_str());
    let location = entry("location").ok_or_else(|| Error::shape(label(proto), "external data without a `location`"))?;
    let refuse = |message: String| Error::ExternalData { tensor: label(proto), location: location.to_string(), message };
    let base = base.ok_or_else(|| Error::unsupported(label(proto), "external data where no model folder is known"))?;
    let path = files::confined(base, location).map_err(refuse)?;
    let number = |key: &str| -> Result<Option<u64>> {
        entry(key).map(|v| v.parse::<u64>().map_err(|_| refuse(format!("`{key}` = {v:?} is not a byte count")))).transpose()
    };
    let range = files::ByteRange { offset: number("offset")?.unwrap_or(0), length: number("length")?, expected };
    let bytes = files::read_range(&path, FileKind::ExternalData, range).map_err(refuse)?;
    Ok(std::borrow::Cow::Owned(bytes))
}

/// Converts a FLOAT tensor; other element types are unsupported and say which type they are.
pub fn to_host(proto: &TensorProto) -> Result<Tensor> {
    to_host_in(proto, None)
}

/// As [`to_host`], reading external data relative to `base`.
pub fn to_host_in(proto: &TensorProto, base: Option<&Path>) -> Result<Tensor> {
    if proto.data_type != FLOAT {
        return Err(Error::unsupported(
            label(proto),
            format!("element type {} ({}); only FLOAT (f32) is supported", data_type_name(proto.data_type), proto.data_type),
        ));
    }
    let (dims, count) = checked_dims(proto)?;
    let raw = raw_bytes(proto, base, count * 4)?;
    let data = if !raw.is_empty() || proto.data_location == EXTERNAL {
        if raw.len() as u64 != count * 4 {
            return Err(Error::shape(label(proto), format!("data has {} bytes but dims {:?} need {}", raw.len(), proto.dims, count * 4)));
        }
        raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    } else {
        if proto.float_data.len() as u64 != count {
            return Err(Error::shape(label(proto), format!("float_data has {} values but dims {:?} need {count}", proto.float_data.len(), proto.dims)));
        }
        proto.float_data.clone()
    };
    Ok(Tensor::new(dims, data))
}

/// An INT64 tensor (a shape, an axis list) as its values.
pub fn to_i64(proto: &TensorProto) -> Result<Vec<i64>> {
    if proto.data_type != INT64 {
        return Err(Error::unsupported(label(proto), format!("element type {} where INT64 is expected", data_type_name(proto.data_type))));
    }
    let (_, count) = checked_dims(proto)?;
    let values: Vec<i64> = if !proto.raw_data.is_empty() {
        if proto.raw_data.len() as u64 != count * 8 {
            return Err(Error::shape(label(proto), format!("raw_data has {} bytes but dims {:?} need {}", proto.raw_data.len(), proto.dims, count * 8)));
        }
        proto.raw_data.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes"))).collect()
    } else {
        proto.int64_data.clone()
    };
    if values.len() as u64 != count {
        return Err(Error::shape(label(proto), format!("{} values but dims {:?} need {count}", values.len(), proto.dims)));
    }
    Ok(values)
}
