//! NumPy `.npy` files in and out: float32, little-endian, C order, format versions 1 to 3.
//!
//! The reader is strict and linear in the file's size. The header is the Python dict NumPy
//! writes, `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, and nothing else is
//! accepted in it (a general Python-literal parser backtracks exponentially on nested brackets);
//! the data must be exactly the bytes the shape needs.

use std::path::Path;

use crate::error::{Error, Result};
use crate::files::{read_capped, FileKind};
use crate::tensor::{element_count, Tensor};

/// Refuse arrays past this many elements before reading them (a batch of 256 images; the file
/// itself is capped at [`FileKind::Npy`]'s size).
const MAX_ELEMENTS: u64 = 256 * 3 * 224 * 224;

/// The longest header a `.npy` file may declare (NumPy writes a few hundred bytes).
const MAX_HEADER_BYTES: usize = 64 << 10;

const MAGIC: &[u8] = b"\x93NUMPY";

/// A float32 `.npy` array (C order) as a tensor.
pub fn read_f32(path: &Path) -> Result<Tensor> {
    parse_f32(&read_capped(path, FileKind::Npy)?, path)
}

/// A float32 `.npy` array from the bytes of its file; `path` names it in errors.
pub fn parse_f32(bytes: &[u8], path: &Path) -> Result<Tensor> {
    let invalid = |message: String| Error::file(path, format!("not a valid .npy file: {message}"));
    let (header, data) = split_header(bytes).map_err(invalid)?;
    let header = Header::parse(header).map_err(invalid)?;
    if header.descr != "<f4" {
        return Err(Error::file(path, format!("element type {}; only float32 (<f4) is supported", header.descr)));
    }
    if header.fortran_order {
        return Err(Error::file(path, "Fortran-ordered array; save it in C order"));
    }
    let count = header.shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)).unwrap_or(u64::MAX);
    if count > MAX_ELEMENTS {
        return Err(Error::file(path, format!("shape {:?} holds {count} elements, over the limit of {MAX_ELEMENTS}", header.shape)));
    }
    if data.len() as u64 != count * 4 {
        return Err(Error::file(path, format!("shape {:?} needs {} bytes of data, the file holds {}", header.shape, count * 4, data.len())));
    }
    let values = data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok(Tensor::new(header.shape.iter().map(|&d| d as usize).collect(), values))
}

/// The header text and the data after it. The declared header length must fit the file and
/// [`MAX_HEADER_BYTES`] (a 22-byte file may declare a 4 GB header).
fn split_header(bytes: &[u8]) -> std::result::Result<(&str, &[u8]), String> {
    if !bytes.starts_with(MAGIC) || bytes.len() < 10 {
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
    let header = std::str::from_utf8(&bytes[preamble..preamble + length]).map_err(|_| "the header is not text".to_string())?;
    Ok((header, &bytes[preamble + length..]))
}

struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

impl Header {
    fn parse(text: &str) -> std::result::Result<Header, String> {
        let mut p = Cursor { text: text.trim_end(), at: 0 };
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        p.expect('{')?;
        while !p.eat('}') {
            let key = p.string()?;
            p.expect(':')?;
            let duplicate = match key.as_str() {
                "descr" => descr.replace(p.string()?).is_some(),
                "fortran_order" => fortran_order.replace(p.boolean()?).is_some(),
                "shape" => shape.replace(p.tuple()?).is_some(),
                other => return Err(format!("unknown header key {other:?}")),
            };
            if duplicate {
                return Err(format!("header key {key:?} given twice"));
            }
            if !p.eat(',') {
                p.expect('}')?;
                break;
            }
        }
        if p.at != p.text.len() {
            return Err(format!("text after the header dict at byte {}", p.at));
        }
        match (descr, fortran_order, shape) {
            (Some(descr), Some(fortran_order), Some(shape)) => Ok(Header { descr, fortran_order, shape }),
            _ => Err("the header lacks `descr`, `fortran_order` or `shape`".into()),
        }
    }
}

/// A position in the header text; every method skips the spaces before what it reads.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn skip_spaces(&mut self) {
        self.at += self.rest().len() - self.rest().trim_start().len();
    }

    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        let found = self.rest().starts_with(c);
        if found {
            self.at += c.len_utf8();
        }
        found
    }

    fn expect(&mut self, c: char) -> std::result::Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(format!("expected `{c}` at byte {} of the header", self.at)) }
    }

    /// A quoted string without escapes.
    fn string(&mut self) -> std::result::Result<String, String> {
        self.skip_spaces();
        let quote = self.rest().chars().next().filter(|&q| q == '\'' || q == '"').ok_or_else(|| format!("expected a string at byte {}", self.at))?;
        let body = &self.rest()[1..];
        let end = body.find(quote).ok_or("an unterminated string in the header")?;
        let value = body[..end].to_string();
        if value.contains('\\') {
            return Err("escapes in a header string".into());
        }
        self.at += end + 2;
        Ok(value)
    }

    fn boolean(&mut self) -> std::result::Result<bool, String> {
        self.skip_spaces();
        for (word, value) in [("True", true), ("False", false)] {
            if self.rest().starts_with(word) {
                self.at += word.len();
                return Ok(value);
            }
        }
        Err(format!("expected True or False at byte {}", self.at))
    }

    /// `()`, `(5,)` or `(2, 3)`: a tuple of non-negative integers.
    fn tuple(&mut self) -> std::result::Result<Vec<u64>, String> {
        self.expect('(')?;
        let mut values = Vec::new();
        while !self.eat(')') {
            self.skip_spaces();
            let digits = self.rest().len() - self.rest().trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let value = self.rest()[..digits].parse::<u64>().map_err(|_| format!("expected a dimension at byte {}", self.at))?;
            self.at += digits;
            values.push(value);
            if !self.eat(',') {
                self.expect(')')?;
                break;
            }
        }
        Ok(values)
    }
}

/// Writes `tensor` as a float32 `.npy` array (format version 1.0), atomically.
pub fn write_f32(path: &Path, tensor: &Tensor) -> Result<()> {
    debug_assert_eq!(element_count(&tensor.dims), tensor.data.len());
    let dims: Vec<String> = tensor.dims.iter().map(usize::to_string).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // NumPy pads the header with spaces and a newline so that the data starts 64-byte aligned.
    let preamble = MAGIC.len() + 4;
    header.push_str(&" ".repeat(63 - (preamble + header.len()) % 64));
    header.push('\n');
    let mut bytes = Vec::with_capacity(preamble + header.len() + tensor.data.len() * 4);
    bytes.extend(MAGIC);
    bytes.extend([1, 0]);
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(tensor.data.iter().flat_map(|v| v.to_le_bytes()));
    crate::files::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let path = std::env::temp_dir().join(format!("googlenet-npy-{}.npy", std::process::id()));
        for dims in [vec![], vec![5], vec![2, 3], vec![1, 3, 2, 2]] {
            let tensor = Tensor::new(dims.clone(), (0..element_count(&dims)).map(|i| i as f32 * 0.5 - 1.0).collect());
            write_f32(&path, &tensor).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!((bytes.len() - tensor.data.len() * 4) % 64, 0, "data is 64-byte aligned");
            assert_eq!(read_f32(&path).unwrap(), tensor);
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn headers_numpy_writes_parse_and_others_do_not() {
        let header = Header::parse("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }    \n").unwrap();
        assert_eq!((header.descr.as_str(), header.fortran_order, header.shape), ("<f4", false, vec![1, 3, 224, 224]));
        assert_eq!(Header::parse(r#"{"shape": (7,), "fortran_order": True, "descr": "<f8"}"#).unwrap().shape, [7]);
        for bad in [
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [[[[[[[[[[[[[[[[[[[[(3, 3)]]]]]]]]]]]]]]]]]]], }",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (), } x",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (), }",
        ] {
            assert!(Header::parse(bad).is_err(), "{bad}");
        }
    }
}
