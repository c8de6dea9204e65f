//! A host tensor: dims and f32 data, row-major (NCHW for images).

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn new(dims: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(element_count(&dims), data.len(), "dims {dims:?} do not match the data");
        Tensor { dims, data }
    }
}

pub fn element_count(dims: &[usize]) -> usize {
    dims.iter().product()
}
