//! Typed access to a node's attributes; an attribute the op does not know is an error, so no
//! setting is ever silently ignored.

use super::proto::{AttributeProto, NodeProto};
use crate::error::{Error, Result};

/// The largest kernel, stride, pad, LRN window or image side the importer takes: every size the
/// kernels compute from these stays well inside their 32-bit parameters.
pub const MAX_WINDOW: i64 = 1 << 16;

pub struct Attributes<'a> {
    node: &'a NodeProto,
}

impl<'a> Attributes<'a> {
    /// Fails on the first attribute not in `known`, naming it.
    pub fn new(node: &'a NodeProto, known: &[&str]) -> Result<Self> {
        if let Some(unknown) = node.attribute.iter().find(|a| !known.contains(&a.name.as_str())) {
            return Err(Error::unsupported(node_label(node), format!("attribute `{}`", unknown.name)));
        }
        Ok(Attributes { node })
    }

    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).map_or(default, |a| a.i)
    }

    /// An integer attribute that must lie in `range` (`default` where absent; required where
    /// `default` is None).
    pub fn int_in(&self, name: &str, default: Option<i64>, range: std::ops::RangeInclusive<i64>) -> Result<i64> {
        let value = match (self.get(name), default) {
            (Some(a), _) => a.i,
            (None, Some(default)) => default,
            (None, None) => return Err(Error::shape(node_label(self.node), format!("attribute `{name}` is required"))),
        };
        if !range.contains(&value) {
            return Err(Error::shape(node_label(self.node), format!("attribute `{name}` = {value} is outside {}..={}", range.start(), range.end())));
        }
        Ok(value)
    }

    pub fn float(&self, name: &str, default: f32) -> f32 {
        self.get(name).map_or(default, |a| a.f)
    }

    pub fn ints(&self, name: &str) -> Option<&'a [i64]> {
        self.get(name).map(|a| a.ints.as_slice())
    }

    pub fn string(&self, name: &str, default: &str) -> String {
        self.get(name).map_or(default.to_string(), |a| String::from_utf8_lossy(&a.s).into_owned())
    }
}

/// "Conv node `conv1`", the way errors name a node.
pub fn node_label(node: &NodeProto) -> String {
    if node.name.is_empty() {
        format!("{} node (output `{}`)", node.op_type, node.output.first().map_or("", String::as_str))
    } else {
        format!("{} node `{}`", node.op_type, node.name)
    }
}
