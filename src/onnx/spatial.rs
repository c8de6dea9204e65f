//! Attributes shared by ONNX's convolution and pooling operators: kernel, strides, per-side
//! pads and `auto_pad`, read exactly per the spec.

use super::attributes::{node_label, Attributes, MAX_WINDOW};
use super::proto::NodeProto;
use crate::error::{Error, Result};
use crate::geometry::Pads;

pub const POOL_ATTRIBUTES: [&str; 8] =
    ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "storage_order", "strides"];

/// Input dims as (N, C, H, W); only 2-D images are supported.
pub fn nchw(node: &NodeProto, dims: &[usize]) -> Result<[usize; 4]> {
    match *dims {
        [n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(Error::unsupported(node_label(node), format!("input of rank {} (dims {dims:?}); only 4-D NCHW", dims.len()))),
    }
}

/// Strides and per-side pads of a conv or pool, with `auto_pad` resolved.
pub struct Window {
    pub strides: [usize; 2],
    pub pads: Pads,
}

pub fn pair(node: &NodeProto, name: &str, values: Option<&[i64]>, default: usize) -> Result<[usize; 2]> {
    match values {
        None => Ok([default; 2]),
        Some(&[a, b]) if [a, b].iter().all(|v| (1..=MAX_WINDOW).contains(v)) => Ok([a as usize, b as usize]),
        Some(v) => Err(Error::shape(node_label(node), format!("`{name}` must be two values in 1..={MAX_WINDOW}, got {v:?}"))),
    }
}

pub fn window(node: &NodeProto, attrs: &Attributes, input_hw: [usize; 2], kernel: [usize; 2]) -> Result<Window> {
    let label = node_label(node);
    if let Some(d) = attrs.ints("dilations").filter(|d| d.iter().any(|&v| v != 1)) {
        return Err(Error::unsupported(label, format!("attribute `dilations` = {d:?} (only 1)")));
    }
    let strides = pair(node, "strides", attrs.ints("strides"), 1)?;
    let auto_pad = attrs.string("auto_pad", "NOTSET");
    let pads = match auto_pad.as_str() {
        "NOTSET" => match attrs.ints("pads") {
            None => Pads::default(),
            Some(&[top, left, bottom, right]) if [top, left, bottom, right].iter().all(|p| (0..=MAX_WINDOW).contains(p)) => {
                Pads { top: top as usize, left: left as usize, bottom: bottom as usize, right: right as usize }
            }
            Some(p) => return Err(Error::shape(label, format!("`pads` must be four values in 0..={MAX_WINDOW}, got {p:?}"))),
        },
        "VALID" => Pads::default(),
        "SAME_UPPER" | "SAME_LOWER" => {
            // Output = ceil(in / stride); the total pad that makes it so is split with the odd
            // element at the end (UPPER) or the beginning (LOWER).
            let total = |axis: usize| {
                let out = input_hw[axis].div_ceil(strides[axis]);
                ((out - 1) * strides[axis] + kernel[axis]).saturating_sub(input_hw[axis])
            };
            let split = |total: usize| if auto_pad == "SAME_UPPER" { (total / 2, total - total / 2) } else { (total - total / 2, total / 2) };
            let ((top, bottom), (left, right)) = (split(total(0)), split(total(1)));
            Pads { top, left, bottom, right }
        }
        other => return Err(Error::unsupported(label, format!("attribute `auto_pad` = {other:?}"))),
    };
    Ok(Window { strides, pads })
}

