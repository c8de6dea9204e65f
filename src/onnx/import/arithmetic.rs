//! `Add`, `Sub`, `Mul`, `Div` and `Sum`: of activations, a residual connection (`Op::Sum`); by a
//! scalar or per-channel constant, a per-channel affine node (`Op::Affine`), which the planner
//! folds into the conv before it where it can.

use super::{node_label, Attributes, Constant, Importer, NodeProto};
use crate::error::{Error, Result};
use crate::graph::{AffineSpec, Node, Op};
use crate::tensor::Tensor;

impl Importer<'_> {
    pub(super) fn arithmetic(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let attrs = Attributes::new(node, &["broadcast", "axis"])?;
        let op = node.op_type.as_str();
        if node.input.len() != 2 {
            return Err(Error::shape(label, format!("{} inputs; {op} takes two", node.input.len())));
        }
        let constant = match (self.is_constant(node, 0), self.is_constant(node, 1)) {
            (false, false) if op == "Add" => return self.sum(node),
            (false, false) => return Err(Error::unsupported(label, format!("{op} of two activations; only by a constant"))),
            (true, true) => return self.fold_constants(node),
            (true, false) => 0,
            (false, true) => 1,
        };
        let (x, dims) = self.activation(node, 1 - constant)?;
        if op == "Add" && self.fold_bias_into_fc(node, &x, constant)? {
            return Ok(());
        }
        // Opsets before 7 broadcast only with `broadcast` = 1, from `axis` (else from the end).
        let legacy_axis = (self.opset < 7 && attrs.int("broadcast", 0) != 0).then(|| attrs.int("axis", i64::MIN));
        let values = channel_values(&label, &*self.required_float(node, constant)?, &dims, legacy_axis)?;
        let ones = vec![1.0; values.len()];
        let (scale, shift) = match (op, constant) {
            ("Mul", _) => (values, vec![0.0; ones.len()]),
            ("Add", _) => (ones, values),
            ("Sub", 1) => (ones, values.iter().map(|v| -v).collect()),
            ("Sub", _) => (ones.iter().map(|v| -v).collect(), values),
            // x / c as x * (1 / c): within one rounding of the quotient.
            ("Div", 1) => (values.iter().map(|v| 1.0 / v).collect(), vec![0.0; ones.len()]),
            _ => return Err(Error::unsupported(label, "Div of a constant by an activation")),
        };
        self.push(node, Op::Affine(AffineSpec { scale, shift }), vec![x])
    }

    /// `Sum` of activations (and `Add` of two): their elementwise sum; one input is the identity.
    pub(super) fn sum(&mut self, node: &NodeProto) -> Result<()> {
        Attributes::new(node, &["broadcast", "axis"])?;
        if (0..node.input.len()).any(|i| self.is_constant(node, i)) {
            return Err(Error::unsupported(node_label(node), "Sum of constants; only of activations of one shape"));
        }
        let inputs = (0..node.input.len()).map(|i| self.activation(node, i).map(|(name, _)| name)).collect::<Result<Vec<_>>>()?;
        match inputs.len() {
            0 => Err(Error::shape(node_label(node), "no inputs")),
            1 => self.push(node, Op::Identity, inputs),
            _ => self.push(node, Op::Sum, inputs),
        }
    }

    /// A constant added to the output of a fully connected layer read by nothing else (MatMul +
    /// Add, Gemm + Add): folded into its bias. Returns whether it was.
    fn fold_bias_into_fc(&mut self, node: &NodeProto, x: &str, constant: usize) -> Result<bool> {
        let bias = self.required_float(node, constant)?.data.clone();
        let uses = self.graph_uses(x);
        let new_output = self.new_output(node)?;
        let Some(Node { op: Op::Fc(spec), output, .. }) = self.graph.nodes.iter_mut().rev().find(|n| n.output == x) else {
            return Ok(false);
        };
        if uses != 0 || !(bias.len() == spec.bias.len() || bias.len() == 1) {
            return Ok(false);
        }
        for (i, b) in spec.bias.iter_mut().enumerate() {
            *b += bias[i % bias.len()];
        }
        let dims = self.shapes.remove(output.as_str()).expect("the fc's output has dims");
        *output = new_output.clone();
        self.shapes.insert(new_output, dims);
        Ok(true)
    }

    /// Arithmetic on two constants (scale factors computed in the file): folded here, for
    /// operands of one shape or a scalar with anything.
    fn fold_constants(&mut self, node: &NodeProto) -> Result<()> {
        let label = node_label(node);
        let (a, b) = (self.required_float(node, 0)?.into_owned(), self.required_float(node, 1)?.into_owned());
        let (dims, len) = match (a.data.len(), b.data.len()) {
            (x, y) if a.dims == b.dims || y == 1 => (a.dims.clone(), x.max(y)),
            (1, y) => (b.dims.clone(), y),
            _ => return Err(Error::unsupported(label, format!("{} of constants of dims {:?} and {:?}", node.op_type, a.dims, b.dims))),
        };
        let at = |t: &Tensor, i: usize| t.data[if t.data.len() == 1 { 0 } else { i }];
        let op: fn(f32, f32) -> f32 = match node.op_type.as_str() {
            "Add" => |x, y| x + y,
            "Sub" => |x, y| x - y,
            "Mul" => |x, y| x * y,
            _ => |x, y| x / y,
        };
        let data = (0..len).map(|i| op(at(&a, i), at(&b, i))).collect();
        self.constant(node, Constant::Float(Tensor::new(dims, data)))
    }
}

/// A constant broadcast against an activation of `dims` (numpy rules, or from `legacy_axis`),
/// as one value per channel: it may vary along the channel axis only.
fn channel_values(label: &str, constant: &Tensor, dims: &[usize], legacy_axis: Option<i64>) -> Result<Vec<f32>> {
    let channels = dims[1];
    let rank = dims.len();
    if constant.data.is_empty() {
        return Err(Error::shape(label, format!("an empty constant of dims {:?}", constant.dims)));
    }
    let refuse = || {
        Error::unsupported(label, format!("a constant of dims {:?} against a value of dims [N, {}]; only a scalar or one value per channel", constant.dims, dims[1..].iter().map(usize::to_string).collect::<Vec<_>>().join(", ")))
    };
    // Where the constant's first axis lies among the value's axes.
    let start = match legacy_axis {
        Some(i64::MIN) | None => rank.checked_sub(constant.dims.len()).ok_or_else(refuse)?,
        Some(axis) => usize::try_from(axis.rem_euclid(rank as i64)).map_err(|_| refuse())?,
    };
    if start + constant.dims.len() > rank {
        return Err(refuse());
    }
    let mut per_channel = false;
    for (i, &d) in constant.dims.iter().enumerate() {
        match (start + i, d) {
            (_, 1) => {}
            (1, d) if d == channels => per_channel = true,
            _ => return Err(refuse()),
        }
    }
    Ok(if per_channel { constant.data.clone() } else { vec![constant.data[0]; channels] })
}
