//! Where each value lives: a tensor (one GPU buffer's worth) and a channel slice of it. Every
//! concat input is its producer's slice of the concat tensor, so no concat copies anything; only
//! an input no kernel of ours produces (the graph input, another concat, a row tensor) or one the
//! concat takes twice is copied into its slice.

use std::collections::{HashMap, HashSet};

use super::steps::{Step, StepOp, Steps};
use crate::error::{Error, Result};
use crate::geometry::ChannelSlice;
use crate::graph::{as_nchw, Graph};
use crate::ops::ChannelAffine;

pub type TensorId = usize;

#[derive(Clone, Debug)]
pub struct TensorInfo {
    pub name: String,
    /// NCHW; rows `[N, F]` are `[N, F, 1, 1]`.
    pub dims: [usize; 4],
}

impl TensorInfo {
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    pub tensor: TensorId,
    pub slice: ChannelSlice,
}

#[derive(Default)]
pub struct Layout {
    pub tensors: Vec<TensorInfo>,
    pub views: HashMap<String, View>,
}

impl Layout {
    pub fn new_tensor(&mut self, name: &str, dims: [usize; 4]) -> TensorId {
        self.tensors.push(TensorInfo { name: name.into(), dims });
        self.tensors.len() - 1
    }

    pub fn view(&self, value: &str) -> View {
        *self.views.get(value).unwrap_or_else(|| panic!("no view for value `{value}`"))
    }
}

/// Whether a step can write its output into a channel slice of a larger tensor.
fn writes_slices(step: &Step) -> bool {
    matches!(step.op, StepOp::Conv { .. } | StepOp::Depthwise { .. } | StepOp::Fc { .. } | StepOp::Pool(_) | StepOp::Lrn(_) | StepOp::Affine { .. } | StepOp::WinogradOutput { .. })
}

pub fn place(graph: &Graph, shapes: &HashMap<String, Vec<usize>>, steps: &mut Steps) -> Result<Layout> {
    let mut layout = Layout::default();
    let input = layout.new_tensor(&graph.input, as_nchw(&shapes[&graph.input]));
    layout.views.insert(graph.input.clone(), View { tensor: input, slice: ChannelSlice::whole(graph.input_chw[0]) });

    // Outer concats first: a concat read only by another concat is a slice of that one's tensor
    // (a forked branch's own concat inside its module's), so its inputs are written there.
    let concats = steps.concats.clone();
    let concat_outputs: HashSet<&str> = concats.iter().map(|(output, _)| output.as_str()).collect();
    // For a nested concat, the values of the concats around it (which share its tensor).
    let mut enclosing: HashMap<String, Vec<String>> = HashMap::new();
    for (output, inputs) in concats.iter().rev() {
        let dims = as_nchw(&shapes[output]);
        let base = match layout.views.get(output) {
            Some(&view) => view,
            None => {
                let tensor = layout.new_tensor(output, dims);
                let view = View { tensor, slice: ChannelSlice::whole(dims[1]) };
                layout.views.insert(output.clone(), view);
                view
            }
        };
        // A producer that reads this same tensor, or a value the concat takes twice (whose
        // second copy would read the slice it writes beside), would bind the concat's buffer
        // for reading and writing at once: it writes its own tensor, copied into each slice.
        let mut resolved: Vec<String> = inputs.iter().map(|v| steps.resolve(v).to_string()).collect();
        resolved.extend(enclosing.get(output).cloned().unwrap_or_default());
        let mut offset = base.slice.offset;
        for (i, value) in inputs.iter().enumerate() {
            let source = steps.resolve(value).to_string();
            let [n, c, h, w] = as_nchw(&shapes[&source]);
            let slice = View { tensor: base.tensor, slice: ChannelSlice { offset, total: base.slice.total } };
            offset += c;
            let taken_once = inputs.iter().filter(|v| steps.resolve(v) == source).count() == 1;
            let unplaced = !layout.views.contains_key(&source);
            if concat_outputs.contains(source.as_str()) && taken_once && unplaced && graph.use_count(&source) <= 1 {
                layout.views.insert(source.clone(), slice);
                enclosing.insert(source, resolved.clone());
                continue;
            }
            let producer = steps.steps.iter().position(|s| s.output == source);
            let fits = |p: usize| {
                let step = &steps.steps[p];
                let reads_tensor = |value: Option<&str>| value.is_some_and(|v| resolved.iter().any(|r| r == steps.resolve(v)));
                writes_slices(step) && taken_once && unplaced && !reads_tensor(Some(&step.input)) && !reads_tensor(step.residual.as_deref())
            };
            match producer.filter(|&p| fits(p)) {
                Some(_) => {
                    layout.views.insert(source, slice);
                }
                None => {
                    let copied = format!("{output}/input{i}");
                    let op = StepOp::Affine { op: ChannelAffine::whole([n, c, h, w], false), scale_shift: ChannelAffine::identity_scale_shift(c) };
                    steps.steps.push(Step::new(vec![output.clone()], op, source, copied.clone()));
                    layout.views.insert(copied, slice);
                }
            }
        }
    }

    for i in 0..steps.steps.len() {
        let output = steps.steps[i].output.clone();
        if !layout.views.contains_key(&output) {
            let dims = as_nchw(&shapes[&output]);
            let tensor = layout.new_tensor(&output, dims);
            layout.views.insert(output, View { tensor, slice: ChannelSlice::whole(dims[1]) });
        }
    }
    let aliases: Vec<String> = steps.aliases.keys().cloned().collect();
    for alias in aliases {
        let target = steps.resolve(&alias).to_string();
        let view = *layout.views.get(&target).ok_or_else(|| Error::shape(&alias, format!("aliases `{target}`, which nothing computes")))?;
        layout.views.insert(alias, view);
    }
    Ok(layout)
}
