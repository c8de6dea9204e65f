//! Graph building blocks shared by the built-in networks.

use crate::geometry::Pads;
use crate::graph::{Graph, LrnSpec, Node, Op, PoolSpec};

#[derive(Default)]
pub struct Builder {
    pub nodes: Vec<Node>,
}

impl Builder {
    /// Adds a node whose output value is named like the node; returns that name.
    pub fn push(&mut self, name: &str, op: Op, inputs: &[&str]) -> String {
        self.nodes.push(Node { name: name.into(), op, inputs: inputs.iter().map(|s| s.to_string()).collect(), output: name.into() });
        name.into()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn pool(&mut self, name: &str, input: &str, max: bool, kernel: usize, stride: usize, pad: usize, ceil_mode: bool) -> String {
        let spec = PoolSpec { kernel: [kernel; 2], stride: [stride; 2], pads: Pads::uniform(pad), ceil_mode, count_include_pad: false };
        self.push(name, if max { Op::MaxPool(spec) } else { Op::AvgPool(spec) }, &[input])
    }

    /// GoogLeNet's LRN: size 5, alpha 1e-4, beta 0.75, bias 1.
    pub fn lrn(&mut self, name: &str, input: &str) -> String {
        self.push(name, Op::Lrn(LrnSpec { size: 5, alpha: 1e-4, beta: 0.75, bias: 1.0 }), &[input])
    }

    pub fn finish(self, input: &str, outputs: Vec<String>) -> Graph {
        Graph { input: input.into(), input_chw: [3, 224, 224], nodes: self.nodes, outputs }
    }
}
