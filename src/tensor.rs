//! A host tensor: dims and f32 data, row-major (NCHW for images).

#[derive(Clone, Debug, PartialEq)]
/// An f32 tensor on the host: `[N, C, H, W]` for image batches, `[N, classes]` for scores.
pub struct Tensor {
    /// The size of each axis, outermost first.
    pub dims: Vec<usize>,
    /// The values, row-major; as many as the product of `dims`.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of `dims` holding `data` (a run checks that the two agree).
    pub fn new(dims: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(element_count(&dims), data.len(), "dims {dims:?} do not match the data");
        Tensor { dims, data }
    }
}

/// The number of elements of a tensor of `dims`.
pub fn element_count(dims: &[usize]) -> usize {
    dims.iter().product()
}
