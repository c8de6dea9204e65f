//! Modules, found by their shape: a value that fans out to branches which meet again in one node,
//! a Concat (an inception module; branches may fork again inside, or be a bare pool) or a Sum (a
//! residual block, Inception-ResNet's concat and up-projection inside it). The meeting node's
//! immediate dominator (the last node every path from the input to it passes) is where the
//! branches start; the module is every node between the two, provided nothing outside reads
//! them. One definition for the built-in net and every imported graph.

use std::collections::HashSet;

use crate::graph::{Graph, Op};

pub struct Module {
    /// The meeting node's name.
    pub name: String,
    /// Every node of the module: the branches and the meeting node.
    pub nodes: HashSet<String>,
    /// How many branches leave the value the module starts from (one that is itself an input of
    /// the meeting node, a residual shortcut, counts as one).
    pub branches: usize,
}

/// Node index of each node's immediate dominator (None: the graph input), nodes in topological
/// order (Cooper, Harvey and Kennedy's intersection, one pass as the order is topological).
fn immediate_dominators(graph: &Graph, producer: &dyn Fn(&str) -> Option<usize>) -> Vec<Option<usize>> {
    let mut idom: Vec<Option<usize>> = Vec::with_capacity(graph.nodes.len());
    let intersect = |idom: &[Option<usize>], mut a: Option<usize>, mut b: Option<usize>| {
        while a != b {
            // The later node (None, the input, is earliest) moves up to its dominator.
            if a > b { a = a.and_then(|i| idom[i]) } else { b = b.and_then(|i| idom[i]) }
        }
        a
    };
    for node in &graph.nodes {
        let mut preds = node.inputs.iter().map(|i| producer(i));
        let first = preds.next().flatten();
        let dominator = preds.fold(first, |d, p| intersect(&idom, d, p));
        idom.push(dominator);
    }
    idom
}

pub fn find_modules(graph: &Graph) -> Vec<Module> {
    let index: std::collections::HashMap<&str, usize> = graph.nodes.iter().enumerate().map(|(i, n)| (n.output.as_str(), i)).collect();
    let producer = |value: &str| index.get(value).copied();
    let idom = immediate_dominators(graph, &producer);
    let mut modules: Vec<Module> = graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n.op, Op::Concat | Op::Sum) && n.inputs.len() >= 2)
        .filter_map(|(m, meet)| {
            let start = idom[m];
            let source = start.map_or(graph.input.as_str(), |s| graph.nodes[s].output.as_str());
            // Every node on a path from the start to the meeting node.
            let mut region: HashSet<usize> = HashSet::from([m]);
            let mut stack: Vec<usize> = meet.inputs.iter().filter_map(|i| producer(i)).collect();
            while let Some(n) = stack.pop() {
                if Some(n) != start && region.insert(n) {
                    stack.extend(graph.nodes[n].inputs.iter().filter_map(|i| producer(i)));
                }
            }
            let names: HashSet<&str> = region.iter().map(|&n| graph.nodes[n].output.as_str()).collect();
            let closed = region.iter().filter(|&&n| n != m).all(|&n| {
                let value = graph.nodes[n].output.as_str();
                !graph.outputs.iter().any(|o| o == value) && graph.consumers(value).all(|c| names.contains(c.output.as_str()))
            });
            let branches = region.iter().map(|&n| graph.nodes[n].inputs.iter().filter(|i| *i == source).count()).sum::<usize>();
            (closed && branches >= 2).then(|| Module { name: meet.name.clone(), nodes: region.iter().map(|&n| graph.nodes[n].name.clone()).collect(), branches })
        })
        .collect();
    // A module inside another (a forked branch's own concat, Inception-ResNet's concat inside
    // its residual block) is part of the outer one.
    let nested: Vec<bool> = modules.iter().map(|m| modules.iter().any(|o| o.nodes.len() > m.nodes.len() && m.nodes.is_subset(&o.nodes))).collect();
    let mut keep = nested.iter().map(|n| !n);
    modules.retain(|_| keep.next().unwrap_or(true));
    modules
}
