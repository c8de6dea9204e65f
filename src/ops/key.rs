//! Typed tuning keys: what a tuned variant choice is stored under in the tuning cache.

use serde::{Deserialize, Serialize};

/// The version of the kernel set: a cache written for another one is not applied (bump it when a
/// variant's kernels change so much that old timings mislead).
pub const KERNEL_SET_VERSION: u32 = 5;

/// The kernel families with variants to choose between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KernelFamily {
    /// A conv group (`ConvGroup`: up to 36 convs in one dispatch).
    ConvGroup,
    /// A fully connected layer.
    FullyConnected,
}

/// A dispatch's identity for tuning: its family, every shape field but the batch (in the
/// family's own order), the batch on its own (a batch never tuned takes the choice made at
/// another), and the kernel set it was tuned with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KernelKey {
    pub kernel_set: u32,
    pub family: KernelFamily,
    pub shape: Vec<usize>,
    pub batch: usize,
}

impl KernelKey {
    /// The key of a `family` dispatch of `shape` at `batch`, in this kernel set.
    pub fn new(family: KernelFamily, shape: Vec<usize>, batch: usize) -> Self {
        KernelKey { kernel_set: KERNEL_SET_VERSION, family, shape, batch }
    }

    /// Whether `other` is this dispatch at another batch size.
    pub fn same_but_batch(&self, other: &KernelKey) -> bool {
        (self.kernel_set, self.family, &self.shape) == (other.kernel_set, other.family, &other.shape)
    }
}
