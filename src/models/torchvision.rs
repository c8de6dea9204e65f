//! torchvision's GoogLeNet (`torchvision.models.googlenet`) from its state dict. It differs
//! from the paper: every conv is conv (no bias) + BatchNorm (eps 1e-3) + ReLU, there is no LRN,
//! the "5x5" branch uses a 3x3 kernel, the max pool before 5a is 2x2/2, all max pools use ceil
//! mode, and the auxiliary heads average-pool adaptively to 4x4. With `transform_input` (what the
//! pretrained weights expect) the input is first mapped from ImageNet mean/std normalisation to
//! the [-1, 1] convention, channel by channel.
//!
//! Channel counts come from the state dict's shapes (checked against each other), so narrower
//! variants load the same way.

use super::builder::Builder;
use crate::error::Result;
use crate::geometry::Pads;
use crate::graph::{BatchNormSpec, ConvSpec, FcSpec, Graph, Op};
use crate::state_dict::StateDict;

/// The graph outputs, named after the layers that compute them: logits, as `model(x)` gives in
/// PyTorch (the auxiliary heads' logits in training mode).
pub const OUTPUT: &str = "fc";
pub const AUX_OUTPUTS: [&str; 2] = ["aux1.fc2", "aux2.fc2"];

const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
const MODULES: [&str; 9] = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"];

struct Loader<'a> {
    b: Builder,
    dict: &'a mut StateDict,
}

impl Loader<'_> {
    /// BasicConv2d: conv without bias, BatchNorm, ReLU. Returns (output, channels).
    fn basic(&mut self, prefix: &str, input: &str, in_c: usize, kernel: usize, stride: usize, pad: usize) -> Result<(String, usize)> {
        let name = format!("{prefix}.conv.weight");
        let out_c = self.dict.leading_dim(&name)?;
        let weight = self.dict.take(&name, &[out_c, in_c, kernel, kernel])?;
        let spec = ConvSpec { weight, bias: vec![0.0; out_c], stride: [stride; 2], pads: Pads::uniform(pad), group: 1 };
        let conv = self.b.push(&format!("{prefix}.conv"), Op::Conv(spec), &[input]);
        let mut param = |p: &str| self.dict.take(&format!("{prefix}.bn.{p}"), &[out_c]).map(|t| t.data);
        let bn = BatchNormSpec { scale: param("weight")?, shift: param("bias")?, mean: param("running_mean")?, var: param("running_var")?, epsilon: 1e-3 };
        let bn = self.b.push(&format!("{prefix}.bn"), Op::BatchNorm(bn), &[&conv]);
        Ok((self.b.push(&format!("{prefix}.relu"), Op::Relu, &[&bn]), out_c))
    }

    fn linear(&mut self, prefix: &str, input: &str, in_features: usize) -> Result<(String, usize)> {
        let name = format!("{prefix}.weight");
        let out = self.dict.leading_dim(&name)?;
        let weight = self.dict.take(&name, &[out, in_features])?;
        let bias = self.dict.take(&format!("{prefix}.bias"), &[out])?.data;
        Ok((self.b.push(prefix, Op::Fc(FcSpec { weight, bias }), &[input]), out))
    }

    fn inception(&mut self, name: &str, input: &str, in_c: usize) -> Result<(String, usize)> {
        let p = format!("inception{name}");
        let (b1, c1) = self.basic(&format!("{p}.branch1"), input, in_c, 1, 1, 0)?;
        let (r2, c2r) = self.basic(&format!("{p}.branch2.0"), input, in_c, 1, 1, 0)?;
        let (b2, c2) = self.basic(&format!("{p}.branch2.1"), &r2, c2r, 3, 1, 1)?;
        let (r3, c3r) = self.basic(&format!("{p}.branch3.0"), input, in_c, 1, 1, 0)?;
        let (b3, c3) = self.basic(&format!("{p}.branch3.1"), &r3, c3r, 3, 1, 1)?;
        let pool = self.b.pool(&format!("{p}.branch4.0"), input, true, 3, 1, 1, true);
        let (b4, c4) = self.basic(&format!("{p}.branch4.1"), &pool, in_c, 1, 1, 0)?;
        Ok((self.b.push(&format!("{p}.output"), Op::Concat, &[&b1, &b2, &b3, &b4]), c1 + c2 + c3 + c4))
    }

    /// InceptionAux: adaptive average pool to 4x4, BasicConv2d 1x1, fc1 + ReLU, dropout, fc2.
    fn aux(&mut self, name: &str, input: &str, in_c: usize) -> Result<String> {
        let pool = self.b.push(&format!("{name}.pool"), Op::AdaptiveAvgPool { output: [4, 4] }, &[input]);
        let (conv, c) = self.basic(&format!("{name}.conv"), &pool, in_c, 1, 1, 0)?;
        let flat = self.b.push(&format!("{name}.flatten"), Op::Flatten, &[&conv]);
        let (fc1, f1) = self.linear(&format!("{name}.fc1"), &flat, c * 16)?;
        let relu = self.b.push(&format!("{name}.fc1.relu"), Op::Relu, &[&fc1]);
        let drop = self.b.push(&format!("{name}.dropout"), Op::Identity, &[&relu]);
        let (fc2, _) = self.linear(&format!("{name}.fc2"), &drop, f1)?;
        Ok(fc2)
    }
}

/// The network a torchvision GoogLeNet state dict describes. The auxiliary heads are built when
/// the dict holds them; the outputs are logits (`fc`, then `aux1.fc2`, `aux2.fc2`).
pub fn from_state_dict(dict: &mut StateDict, transform_input: bool) -> Result<Graph> {
    let aux = dict.contains("aux1.fc2.weight");
    let mut l = Loader { b: Builder::default(), dict };
    let mut x = "x".to_string();
    if transform_input {
        let scale: Vec<f32> = IMAGENET_STD.iter().map(|s| s / 0.5).collect();
        let shift: Vec<f32> = IMAGENET_MEAN.iter().map(|m| (m - 0.5) / 0.5).collect();
        let spec = BatchNormSpec { scale, shift, mean: vec![0.0; 3], var: vec![1.0; 3], epsilon: 0.0 };
        x = l.b.push("transform_input", Op::BatchNorm(spec), &[&x]);
    }
    let (mut x, c) = l.basic("conv1", &x, 3, 7, 2, 3)?;
    x = l.b.pool("maxpool1", &x, true, 3, 2, 0, true);
    let (y, c) = l.basic("conv2", &x, c, 1, 1, 0)?;
    let (y, c) = l.basic("conv3", &y, c, 3, 1, 1)?;
    x = l.b.pool("maxpool2", &y, true, 3, 2, 0, true);
    let mut channels = c;
    let mut aux_outputs = Vec::new();
    for name in MODULES {
        (x, channels) = l.inception(name, &x, channels)?;
        match name {
            "3b" => x = l.b.pool("maxpool3", &x, true, 3, 2, 0, true),
            "4e" => x = l.b.pool("maxpool4", &x, true, 2, 2, 0, true),
            "4a" if aux => aux_outputs.push(l.aux("aux1", &x, channels)?),
            "4d" if aux => aux_outputs.push(l.aux("aux2", &x, channels)?),
            _ => {}
        }
    }
    x = l.b.push("avgpool", Op::GlobalAvgPool, &[&x]);
    x = l.b.push("flatten", Op::Flatten, &[&x]);
    x = l.b.push("dropout", Op::Identity, &[&x]);
    l.linear(OUTPUT, &x, channels)?;
    l.dict.finish()?;
    let mut outputs = vec![OUTPUT.to_string()];
    outputs.extend(aux_outputs);
    Ok(l.b.finish("x", outputs))
}
