//! GoogLeNet as in Szegedy et al. 2014, Table 1, with the published BVLC model's ceil-mode
//! strided max pools: 224 -> 112 (conv1) -> 56 -> 28 -> 14 -> 7 -> 1024 features -> 1000 classes.
//! With no weights file, weights are synthetic: seeded and He-scaled, so activations keep their
//! range through all 22 layers.

use super::builder::Builder;
use crate::geometry::Pads;
use crate::graph::{ConvSpec, FcSpec, Graph, Op};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// One inception module's channel counts, in Table 1's column order.
#[derive(Clone, Copy, Debug)]
pub struct InceptionChannels {
    pub c1x1: usize,
    pub c3x3_reduce: usize,
    pub c3x3: usize,
    pub c5x5_reduce: usize,
    pub c5x5: usize,
    pub pool_proj: usize,
}

impl InceptionChannels {
    pub fn total(&self) -> usize {
        self.c1x1 + self.c3x3 + self.c5x5 + self.pool_proj
    }
}

const fn inception(c1x1: usize, c3x3_reduce: usize, c3x3: usize, c5x5_reduce: usize, c5x5: usize, pool_proj: usize) -> InceptionChannels {
    InceptionChannels { c1x1, c3x3_reduce, c3x3, c5x5_reduce, c5x5, pool_proj }
}

/// Table 1: the nine inception modules.
pub const MODULES: [(&str, InceptionChannels); 9] = [
    ("inception_3a", inception(64, 96, 128, 16, 32, 32)),
    ("inception_3b", inception(128, 128, 192, 32, 96, 64)),
    ("inception_4a", inception(192, 96, 208, 16, 48, 64)),
    ("inception_4b", inception(160, 112, 224, 24, 64, 64)),
    ("inception_4c", inception(128, 128, 256, 24, 64, 64)),
    ("inception_4d", inception(112, 144, 288, 32, 64, 64)),
    ("inception_4e", inception(256, 160, 320, 32, 128, 128)),
    ("inception_5a", inception(256, 160, 320, 32, 128, 128)),
    ("inception_5b", inception(384, 192, 384, 48, 128, 128)),
];

pub const CLASSES: usize = 1000;

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Add the two auxiliary classifiers (after 4a and 4d) as extra outputs.
    pub aux: bool,
    /// Seed of the synthetic weights.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { aux: false, seed: 2014 }
    }
}

/// Names of the graph outputs: the main classifier, then the auxiliary ones when present.
pub const OUTPUT: &str = "prob";
pub const AUX_OUTPUTS: [&str; 2] = ["loss1/prob", "loss2/prob"];

struct Paper {
    b: Builder,
    rng: Rng,
    seed: u64,
}

impl Paper {
    fn push(&mut self, name: &str, op: Op, inputs: &[&str]) -> String {
        self.b.push(name, op, inputs)
    }

    /// He-uniform weights (variance 2 / fan_in, right for ReLU) and small biases.
    fn weights(&mut self, dims: Vec<usize>, fan_in: usize) -> (Tensor, Vec<f32>) {
        let limit = (6.0 / fan_in as f32).sqrt();
        let count = dims.iter().product();
        let data = (0..count).map(|_| limit * self.rng.symmetric()).collect();
        let bias = (0..dims[0]).map(|_| 0.05 * self.rng.symmetric()).collect();
        (Tensor::new(dims, data), bias)
    }

    /// A conv followed by its ReLU; returns the ReLU's output.
    fn conv_relu(&mut self, name: &str, input: &str, in_c: usize, out_c: usize, kernel: usize, stride: usize) -> String {
        let (weight, bias) = self.weights(vec![out_c, in_c, kernel, kernel], in_c * kernel * kernel);
        let spec = ConvSpec { weight, bias, stride: [stride; 2], pads: Pads::uniform(kernel / 2), group: 1 };
        let conv = self.push(name, Op::Conv(spec), &[input]);
        self.push(&format!("{name}/relu"), Op::Relu, &[&conv])
    }

    fn fc(&mut self, name: &str, input: &str, in_features: usize, out_features: usize) -> String {
        let (weight, bias) = self.weights(vec![out_features, in_features], in_features);
        self.push(name, Op::Fc(FcSpec { weight, bias }), &[input])
    }

    fn inception(&mut self, name: &str, input: &str, in_c: usize, ch: InceptionChannels) -> String {
        let b1 = self.conv_relu(&format!("{name}/1x1"), input, in_c, ch.c1x1, 1, 1);
        let r3 = self.conv_relu(&format!("{name}/3x3_reduce"), input, in_c, ch.c3x3_reduce, 1, 1);
        let b3 = self.conv_relu(&format!("{name}/3x3"), &r3, ch.c3x3_reduce, ch.c3x3, 3, 1);
        let r5 = self.conv_relu(&format!("{name}/5x5_reduce"), input, in_c, ch.c5x5_reduce, 1, 1);
        let b5 = self.conv_relu(&format!("{name}/5x5"), &r5, ch.c5x5_reduce, ch.c5x5, 5, 1);
        let pool = self.b.pool(&format!("{name}/pool"), input, true, 3, 1, 1, false);
        let proj = self.conv_relu(&format!("{name}/pool_proj"), &pool, in_c, ch.pool_proj, 1, 1);
        self.push(&format!("{name}/output"), Op::Concat, &[&b1, &b3, &b5, &proj])
    }

    /// 5x5/3 average pool, 1x1 conv 128 + ReLU, FC 1024 + ReLU, dropout, FC 1000, softmax.
    /// Its weights come from a stream of its own, so adding the heads leaves the main
    /// network's weights (and output) as they are without them.
    fn aux_classifier(&mut self, name: &str, input: &str, in_c: usize) -> String {
        let own = Rng::new(self.seed ^ name.bytes().fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(b as u64)));
        let main = std::mem::replace(&mut self.rng, own);
        let prob = self.aux_layers(name, input, in_c);
        self.rng = main;
        prob
    }

    fn aux_layers(&mut self, name: &str, input: &str, in_c: usize) -> String {
        let pool = self.b.pool(&format!("{name}/ave_pool"), input, false, 5, 3, 0, false);
        let conv = self.conv_relu(&format!("{name}/conv"), &pool, in_c, 128, 1, 1);
        let flat = self.push(&format!("{name}/flatten"), Op::Flatten, &[&conv]);
        let fc = self.fc(&format!("{name}/fc"), &flat, 128 * 4 * 4, 1024);
        let relu = self.push(&format!("{name}/fc/relu"), Op::Relu, &[&fc]);
        let drop = self.push(&format!("{name}/drop_fc"), Op::Identity, &[&relu]);
        let classifier = self.fc(&format!("{name}/classifier"), &drop, 1024, CLASSES);
        self.push(&format!("{name}/prob"), Op::Softmax, &[&classifier])
    }
}

/// The built-in GoogLeNet with synthetic weights.
pub fn googlenet(options: Options) -> Graph {
    let mut b = Paper { b: Builder::default(), rng: Rng::new(options.seed), seed: options.seed };
    let mut x = b.conv_relu("conv1/7x7_s2", "data", 3, 64, 7, 2);
    x = b.b.pool("pool1/3x3_s2", &x, true, 3, 2, 0, true);
    x = b.b.lrn("pool1/norm1", &x);
    x = b.conv_relu("conv2/3x3_reduce", &x, 64, 64, 1, 1);
    x = b.conv_relu("conv2/3x3", &x, 64, 192, 3, 1);
    x = b.b.lrn("conv2/norm2", &x);
    x = b.b.pool("pool2/3x3_s2", &x, true, 3, 2, 0, true);
    let mut channels = 192;
    let mut aux_outputs = Vec::new();
    for (name, ch) in MODULES {
        x = b.inception(name, &x, channels, ch);
        channels = ch.total();
        match name {
            "inception_3b" => x = b.b.pool("pool3/3x3_s2", &x, true, 3, 2, 0, true),
            "inception_4e" => x = b.b.pool("pool4/3x3_s2", &x, true, 3, 2, 0, true),
            "inception_4a" if options.aux => aux_outputs.push(b.aux_classifier("loss1", &x, channels)),
            "inception_4d" if options.aux => aux_outputs.push(b.aux_classifier("loss2", &x, channels)),
            _ => {}
        }
    }
    x = b.b.pool("pool5/7x7_s1", &x, false, 7, 1, 0, false);
    x = b.push("pool5/drop_7x7_s1", Op::Identity, &[&x]);
    x = b.fc("loss3/classifier", &x, 1024, CLASSES);
    b.push(OUTPUT, Op::Softmax, &[&x]);
    let mut outputs = vec![OUTPUT.to_string()];
    outputs.extend(aux_outputs);
    b.b.finish("data", outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::infer_shapes;

    #[test]
    fn shapes_follow_table_1() {
        let graph = googlenet(Options { aux: true, ..Options::default() });
        let shapes = infer_shapes(&graph, 2).unwrap();
        assert_eq!(shapes["conv1/7x7_s2"], [2, 64, 112, 112]);
        assert_eq!(shapes["pool1/3x3_s2"], [2, 64, 56, 56]);
        assert_eq!(shapes["conv2/3x3"], [2, 192, 56, 56]);
        assert_eq!(shapes["pool2/3x3_s2"], [2, 192, 28, 28]);
        assert_eq!(shapes["inception_3a/output"], [2, 256, 28, 28]);
        assert_eq!(shapes["inception_3b/output"], [2, 480, 28, 28]);
        assert_eq!(shapes["inception_4a/output"], [2, 512, 14, 14]);
        assert_eq!(shapes["inception_4e/output"], [2, 832, 14, 14]);
        assert_eq!(shapes["inception_5b/output"], [2, 1024, 7, 7]);
        assert_eq!(shapes["pool5/7x7_s1"], [2, 1024, 1, 1]);
        assert_eq!(shapes[OUTPUT], [2, 1000]);
        assert_eq!(shapes["loss1/ave_pool"], [2, 512, 4, 4]);
        assert_eq!(shapes["loss2/conv"], [2, 128, 4, 4]);
        assert_eq!(shapes[AUX_OUTPUTS[0]], [2, 1000]);
        assert_eq!(shapes[AUX_OUTPUTS[1]], [2, 1000]);
        assert_eq!(graph.outputs, [OUTPUT, AUX_OUTPUTS[0], AUX_OUTPUTS[1]]);
    }

    #[test]
    fn without_aux_the_only_output_is_prob() {
        let graph = googlenet(Options::default());
        assert_eq!(graph.outputs, [OUTPUT]);
        assert!(graph.nodes.iter().all(|n| !n.name.starts_with("loss1") && !n.name.starts_with("loss2")));
    }

    #[test]
    fn the_auxiliary_heads_leave_the_main_weights_as_they_are() {
        let weights = |graph: &Graph| -> Vec<(String, Vec<f32>)> {
            graph
                .nodes
                .iter()
                .filter_map(|n| match &n.op {
                    Op::Conv(c) if !n.name.starts_with("loss") => Some((n.name.clone(), c.weight.data.clone())),
                    Op::Fc(f) if !n.name.starts_with("loss1") && !n.name.starts_with("loss2") => Some((n.name.clone(), f.weight.data.clone())),
                    _ => None,
                })
                .collect()
        };
        let plain = weights(&googlenet(Options::default()));
        assert_eq!(plain.len(), 2 + 1 + 9 * 6 + 1);
        assert!(plain == weights(&googlenet(Options { aux: true, ..Options::default() })));
    }
}
