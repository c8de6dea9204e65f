//! NumPy `.npy` files in and out (f32, C order), through the npyz crate.

use std::io::BufWriter;
use std::path::Path;

use npyz::WriterBuilder;

use crate::error::{Error, Result};
use crate::files::{open_regular, FileKind};
use crate::tensor::{element_count, Tensor};

/// Refuse arrays past this many elements before reading them (a batch of 256 images; the file
/// itself is capped at [`FileKind::Npy`]'s size).
const MAX_ELEMENTS: u64 = 256 * 3 * 224 * 224;

/// A float32 `.npy` array (C order) as a tensor.
pub fn read_f32(path: &Path) -> Result<Tensor> {
    let (file, _) = open_regular(path, FileKind::Npy)?;
    parse_f32(std::io::BufReader::new(file), path)
}

/// A float32 `.npy` array read from `reader`; `path` names it in errors.
pub fn parse_f32(reader: impl std::io::Read, path: &Path) -> Result<Tensor> {
    let npy = npyz::NpyFile::new(reader).map_err(|e| Error::file(path, format!("not a valid .npy file: {e}")))?;
    let dtype = npy.dtype();
    let is_f32 = matches!(&dtype, npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float && t.size_field() == 4);
    if !is_f32 {
        return Err(Error::file(path, format!("element type {}; only float32 (<f4) is supported", dtype.descr())));
    }
    if npy.order() != npyz::Order::C {
        return Err(Error::file(path, "Fortran-ordered array; save it in C order"));
    }
    let shape = npy.shape().to_vec();
    let count = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)).unwrap_or(u64::MAX);
    if count > MAX_ELEMENTS {
        return Err(Error::file(path, format!("shape {shape:?} holds {count} elements, over the limit of {MAX_ELEMENTS}")));
    }
    let data: Vec<f32> = npy.into_vec().map_err(|e| Error::file(path, format!("cannot read the data: {e}")))?;
    Ok(Tensor::new(shape.iter().map(|&d| d as usize).collect(), data))
}

/// Writes `tensor` as a float32 `.npy` array.
pub fn write_f32(path: &Path, tensor: &Tensor) -> Result<()> {
    let io_error = |e: std::io::Error| Error::file(path, format!("cannot write: {e}"));
    let file = std::fs::File::create(path).map_err(io_error)?;
    let shape: Vec<u64> = tensor.dims.iter().map(|&d| d as u64).collect();
    debug_assert_eq!(element_count(&tensor.dims), tensor.data.len());
    let mut writer = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(BufWriter::new(file)).begin_nd().map_err(io_error)?;
    writer.extend(tensor.data.iter().copied()).map_err(io_error)?;
    writer.finish().map_err(io_error)
}
