//! A PyTorch state dict saved as safetensors: f32 tensors by name. The loader hands out each
//! tensor once, checking its shape, and at the end names whatever was left unused.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};
use crate::files::{read_capped, FileKind};
use crate::tensor::{element_count, Tensor};

/// The float32 tensors of a safetensors file by name, and which of them a loader has taken.
pub struct StateDict {
    path: PathBuf,
    tensors: BTreeMap<String, Tensor>,
    taken: HashSet<String>,
}

/// Entries a real state dict carries that inference does not use.
fn is_bookkeeping(name: &str) -> bool {
    name.ends_with(".num_batches_tracked")
}

impl StateDict {
    /// Reads and parses a safetensors file.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = read_capped(path, FileKind::Safetensors)?;
        Self::from_bytes(path, &bytes)
    }

    /// Parses a safetensors file's bytes; `path` names it in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        let file = SafeTensors::deserialize(bytes).map_err(|e| Error::file(path, format!("not a valid safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.tensors() {
            if is_bookkeeping(&name) {
                continue;
            }
            if view.dtype() != Dtype::F32 {
                return Err(Error::file(path, format!("tensor `{name}` is {:?}; only F32 weights are supported", view.dtype())));
            }
            let data = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            tensors.insert(name, Tensor::new(view.shape().to_vec(), data));
        }
        Ok(StateDict { path: path.to_path_buf(), tensors, taken: HashSet::new() })
    }

    /// The tensor `name`, which must have `dims`.
    pub fn take(&mut self, name: &str, dims: &[usize]) -> Result<Tensor> {
        let tensor = self.tensors.get(name).ok_or_else(|| Error::file(&self.path, format!("missing tensor `{name}` (expected shape {dims:?})")))?;
        if tensor.dims != dims {
            // A [N, 1, 1] bias and an [N] one hold the same numbers; anything else is a mismatch.
            if element_count(&tensor.dims) != element_count(dims) || tensor.dims.iter().filter(|&&d| d != 1).ne(dims.iter().filter(|&&d| d != 1)) {
                return Err(Error::file(&self.path, format!("tensor `{name}` has shape {:?}, expected {dims:?}", tensor.dims)));
            }
        }
        self.taken.insert(name.to_string());
        Ok(Tensor::new(dims.to_vec(), tensor.data.clone()))
    }

    /// The first dim of tensor `name` (a layer's output channels), to read widths from the file.
    pub fn leading_dim(&self, name: &str) -> Result<usize> {
        let tensor = self.tensors.get(name).ok_or_else(|| Error::file(&self.path, format!("missing tensor `{name}`")))?;
        tensor.dims.first().copied().ok_or_else(|| Error::file(&self.path, format!("tensor `{name}` is a scalar; expected a weight")))
    }

    /// Whether the dict holds a tensor called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Fails on the first tensor nothing took, naming it.
    pub fn finish(&self) -> Result<()> {
        match self.tensors.iter().find(|(name, _)| !self.taken.contains(*name)) {
            Some((name, t)) => Err(Error::file(&self.path, format!("unexpected tensor `{name}` of shape {:?}: not part of this network", t.dims))),
            None => Ok(()),
        }
    }
}
