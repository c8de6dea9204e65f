//! Inception modules, found by their shape: one value fanning out to branches of single-input
//! nodes that meet again in a Concat. Works the same for the built-in net and imported graphs.

use std::collections::HashSet;

use crate::graph::{Graph, Op};

pub struct Module {
    /// The Concat node's name.
    pub name: String,
    /// Every node of the module: the branches and the Concat.
    pub nodes: HashSet<String>,
}

pub fn find_modules(graph: &Graph) -> Vec<Module> {
    graph.nodes.iter().filter(|n| matches!(n.op, Op::Concat)).filter_map(|concat| {
        let mut nodes = HashSet::from([concat.name.clone()]);
        let mut sources = HashSet::new();
        for input in &concat.inputs {
            let (branch_nodes, source) = branch(graph, input)?;
            nodes.extend(branch_nodes);
            sources.insert(source);
        }
        (sources.len() == 1 && concat.inputs.len() >= 2).then(|| Module { name: concat.name.clone(), nodes })
    }).collect()
}

/// Walks back from a concat input through single-input nodes to the value that fans out.
fn branch(graph: &Graph, value: &str) -> Option<(Vec<String>, String)> {
    let mut nodes = Vec::new();
    let mut value = value.to_string();
    loop {
        let node = graph.producer(&value)?;
        let [input] = node.inputs.as_slice() else { return None };
        nodes.push(node.name.clone());
        if graph.use_count(input) >= 2 {
            return Some((nodes, input.clone()));
        }
        value = input.clone();
    }
}
