//! NumPy `.npy` files in and out (f32, C order), through the npyz crate.

use std::io::BufWriter;
use std::path::Path;

use npyz::WriterBuilder;

use crate::error::{Error, Result};
use crate::files::{read_capped, FileKind};
use crate::tensor::{element_count, Tensor};

/// Refuse arrays past this many elements before reading them (a batch of 256 images; the file
/// itself is capped at [`FileKind::Npy`]'s size).
const MAX_ELEMENTS: u64 = 256 * 3 * 224 * 224;

/// A float32 `.npy` array (C order) as a tensor.
pub fn read_f32(path: &Path) -> Result<Tensor> {
    parse_f32(&read_capped(path, FileKind::Npy)?, path)
}

/// The longest header a `.npy` file may declare (NumPy writes a few hundred bytes).
const MAX_HEADER_BYTES: usize = 64 << 10;

/// A float32 `.npy` array from the bytes of its file; `path` names it in errors.
pub fn parse_f32(bytes: &[u8], path: &Path) -> Result<Tensor> {
    check_header_length(bytes).map_err(|message| Error::file(path, format!("not a valid .npy file: {message}")))?;
    let npy = npyz::NpyFile::new(bytes).map_err(|e| Error::file(path, format!("not a valid .npy file: {e}")))?;
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

/// The header length the preamble declares must fit the file and [`MAX_HEADER_BYTES`]: the
/// reader allocates it before reading (a 22-byte file may declare a 4 GB header).
fn check_header_length(bytes: &[u8]) -> std::result::Result<(), String> {
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err("no .npy magic number".into());
    }
    let (length, preamble) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        version => return Err(format!("format version {version} is not 1, 2 or 3")),
    };
    if length > MAX_HEADER_BYTES || preamble + length > bytes.len() {
        return Err(format!("a header of {length} bytes (the file has {}; at most {MAX_HEADER_BYTES})", bytes.len()));
    }
    Ok(())
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
