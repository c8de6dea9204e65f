//! Ops that only move axes: `Squeeze` and `Unsqueeze` (of constants: folded; of activations:
//! unit axes added or dropped, a view of the same elements), `ReduceMean` over H and W (a global
//! average pool), and ShuffleNet's channel shuffle, a `Reshape` to `[N, g, C / g, H, W]`, a
//! `Transpose` of the two group axes and a `Reshape` back, recognised as a whole.

use super::{node_label, resolve_shape, Attributes, Constant, Importer, NodeProto};
use crate::error::{Error, Result};
use crate::graph::Op;
use crate::tensor::Tensor;

/// A value in the middle of a channel shuffle: the activation it splits, into how many groups,
/// its 5-D dims (at batch 1), and whether the group axes are transposed yet.
#[derive(Clone, Debug)]
pub(super) struct SplitChannels {
    source: String,
    groups: usize,
    dims: Vec<usize>,
    transposed: bool,
}

impl Importer<'_> {
    /// The axes a `Squeeze` / `Unsqueeze` / `ReduceMean` names: an attribute before `opset`,
    /// an optional INT64 input (index 1) from it; None where absent.
    fn axes(&self, node: &NodeProto, attrs: &Attributes, input_from: i64) -> Result<Option<Vec<i64>>> {
        if self.opset < input_from {
            return Ok(attrs.ints("axes").map(<[i64]>::to_vec));
        }
        match node.input.get(1).filter(|name| !name.is_empty()) {
            None => Ok(None),
            Some(_) => self.ints(node, 1).map(Some),
        }
    }

    pub(super) fn squeeze_or_unsqueeze(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let attrs = Attributes::new(node, &["axes"])?;
        let axes = self.axes(node, &attrs, 13)?;
        let unsqueeze = node.op_type == "Unsqueeze";
        let viewed = self.unit_views.get(&node.input[0]).cloned();
        let dims = match (self.is_constant(node, 0), self.constants.get(&node.input[0]), &viewed) {
            (true, Some(Constant::Int(_)), _) => return Err(Error::unsupported(label, "an integer constant")),
            (true, ..) => self.required_float(node, 0)?.dims.clone(),
            (false, _, Some((_, dims))) => dims.clone(),
            (false, _, None) => self.activation(node, 0)?.1,
        };
        let result = if unsqueeze { unsqueezed(&label, &dims, axes.as_deref().unwrap_or_default())? } else { squeezed(&label, &dims, axes.as_deref())? };
        if self.is_constant(node, 0) {
            let t = self.required_float(node, 0)?.into_owned();
            return self.constant(node, Constant::Float(Tensor::new(result, t.data)));
        }
        let rank = if unsqueeze { result.len() } else { dims.len() } as i64;
        if axes.iter().flatten().any(|a| a.rem_euclid(rank) == 0) {
            return Err(Error::unsupported(label, format!("{} of the batch axis of an activation of dims {dims:?}", node.op_type)));
        }
        let source = match viewed {
            Some((source, _)) => source,
            None => self.activation(node, 0)?.0,
        };
        if !matches!(result.len(), 2 | 4) {
            // Another rank on the way (an Unsqueeze that a Squeeze undoes): no node of its own.
            let output = self.new_output(node)?;
            self.unit_views.insert(output, (source, result));
            return Ok(());
        }
        self.push(node, Op::Reshape { dims: result[1..].to_vec() }, vec![source])
    }

    /// `ReduceMean` over H and W of an image: a global average pool (then the unit axes
    /// dropped, with keepdims = 0).
    pub(super) fn reduce_mean(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let attrs = Attributes::new(node, &["axes", "keepdims", "noop_with_empty_axes"])?;
        let (x, dims) = self.activation(node, 0)?;
        let axes = self.axes(node, &attrs, 18)?.unwrap_or_default();
        let mut normalized: Vec<i64> = axes.iter().map(|a| a.rem_euclid(dims.len().max(1) as i64)).collect();
        normalized.sort_unstable();
        if dims.len() != 4 || normalized != [2, 3] || axes.iter().any(|a| !(-4..=3).contains(a)) {
            return Err(Error::unsupported(label, format!("ReduceMean of dims {dims:?} over axes {axes:?}; only over H and W ([2, 3]) of an image")));
        }
        if attrs.int("keepdims", 1) != 0 {
            return self.push(node, Op::GlobalAvgPool, vec![x]);
        }
        let pooled = format!("{}/keepdims", self.new_output(node)?);
        self.push_as(node, Op::GlobalAvgPool, vec![x], pooled.clone())?;
        self.push(node, Op::Reshape { dims: vec![dims[1]] }, vec![pooled])
    }

    /// A `Reshape` of an activation to `[N, g, C / g, H, W]` (a channel shuffle's start), or of
    /// a transposed split back to `[N, C, H, W]` (its end). Returns false where the reshape is
    /// neither.
    pub(super) fn channel_shuffle_reshape(&mut self, node: &NodeProto, target: &[i64]) -> Result<bool> {
        let label = node_label(node);
        if let Some(split) = self.split_channels.get(&node.input[0]).cloned() {
            let result = resolve_shape(&label, &split.dims, target)?;
            let [_, part, g, h, w] = split.dims[..] else { unreachable!("a split is 5-D") };
            if !split.transposed || result[1..] != [g * part, h, w] {
                return Err(Error::unsupported(label, format!("Reshape of dims {:?} to {result:?}; only a channel shuffle's Reshape, Transpose [0, 2, 1, 3, 4], Reshape", split.dims)));
            }
            self.push(node, Op::ChannelShuffle { groups: split.groups }, vec![split.source])?;
            return Ok(true);
        }
        let (x, dims) = self.activation(node, 0)?;
        let result = resolve_shape(&label, &dims, target)?;
        match (&dims[..], &result[..]) {
            (&[n, c, h, w], &[rn, g, part, rh, rw]) if [rn, rh, rw] == [n, h, w] && g * part == c && g > 1 => {
                let output = self.new_output(node)?;
                self.split_channels.insert(output, SplitChannels { source: x, groups: g, dims: result, transposed: false });
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// A `Transpose` of a channel split's two group axes. Returns false where the input is no
    /// split (a constant's transpose, handled elsewhere).
    pub(super) fn channel_shuffle_transpose(&mut self, node: &NodeProto, perm: Option<&[i64]>) -> Result<bool> {
        let Some(split) = self.split_channels.get(&node.input[0]).cloned() else { return Ok(false) };
        if split.transposed || perm != Some(&[0, 2, 1, 3, 4]) {
            return Err(Error::unsupported(node_label(node), format!("Transpose {perm:?} of dims {:?}; only a channel shuffle's [0, 2, 1, 3, 4]", split.dims)));
        }
        let [n, g, part, h, w] = split.dims[..] else { unreachable!("a split is 5-D") };
        let output = self.new_output(node)?;
        // Output channel j * g + i comes from channel i * (C / g) + j of the source.
        self.split_channels.insert(output, SplitChannels { dims: vec![n, part, g, h, w], transposed: true, ..split });
        Ok(true)
    }
}

/// `dims` with axes of length 1 inserted at `axes` (of the result).
fn unsqueezed(label: &str, dims: &[usize], axes: &[i64]) -> Result<Vec<usize>> {
    let rank = (dims.len() + axes.len()) as i64;
    let mut at: Vec<usize> = axes.iter().map(|&a| if (-rank..rank).contains(&a) { Ok(a.rem_euclid(rank) as usize) } else { Err(()) }).collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::shape(label, format!("axes {axes:?} outside a result of rank {rank}")))?;
    at.sort_unstable();
    at.dedup();
    if at.len() != axes.len() || axes.is_empty() {
        return Err(Error::shape(label, format!("axes {axes:?}: none, or one named twice")));
    }
    let mut rest = dims.iter();
    Ok((0..rank as usize).map(|i| if at.contains(&i) { 1 } else { *rest.next().expect("rank counted") }).collect())
}

/// `dims` without the axes of length 1 at `axes` (all of them but the batch where None).
fn squeezed(label: &str, dims: &[usize], axes: Option<&[i64]>) -> Result<Vec<usize>> {
    let rank = dims.len() as i64;
    let drop: Vec<usize> = match axes {
        None => (1..dims.len()).filter(|&i| dims[i] == 1).collect(),
        Some(axes) => axes
            .iter()
            .map(|&a| if (-rank..rank).contains(&a) { Ok(a.rem_euclid(rank) as usize) } else { Err(Error::shape(label, format!("axis {a} outside rank {rank}"))) })
            .collect::<Result<_>>()?,
    };
    if let Some(&axis) = drop.iter().find(|&&a| dims[a] != 1) {
        return Err(Error::shape(label, format!("axis {axis} of dims {dims:?} has length {}, not 1", dims[axis])));
    }
    Ok((0..dims.len()).filter(|i| !drop.contains(i)).map(|i| dims[i]).collect())
}
