//! Per-channel maps `y = x * scale + shift` built from the BatchNorm and constant-arithmetic
//! nodes that follow a value: folded into the conv before them, or run as one affine step.

use crate::graph::Op;

#[derive(Clone, Debug)]
pub struct ChannelMap {
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

impl ChannelMap {
    pub fn identity(channels: usize) -> Self {
        ChannelMap { scale: vec![1.0; channels], shift: vec![0.0; channels] }
    }

    /// The map a BatchNorm or constant-arithmetic node applies; None for any other op.
    pub fn of(op: &Op) -> Option<Self> {
        match op {
            Op::BatchNorm(bn) => {
                let scale: Vec<f32> = (0..bn.mean.len()).map(|c| bn.factor(c)).collect();
                let shift = (0..bn.mean.len()).map(|c| bn.shift[c] - bn.mean[c] * scale[c]).collect();
                Some(ChannelMap { scale, shift })
            }
            Op::Affine(spec) => Some(ChannelMap { scale: spec.scale.clone(), shift: spec.shift.clone() }),
            _ => None,
        }
    }

    /// This map followed by `next`.
    pub fn then(self, next: &ChannelMap) -> Self {
        let scale = self.scale.iter().zip(&next.scale).map(|(a, b)| a * b).collect();
        let shift = self.shift.iter().zip(&next.scale).zip(&next.shift).map(|((t, s), u)| t * s + u).collect();
        ChannelMap { scale, shift }
    }

    /// Scale and shift interleaved, as the affine kernel reads them.
    pub fn scale_shift(&self) -> Vec<f32> {
        self.scale.iter().zip(&self.shift).flat_map(|(&s, &t)| [s, t]).collect()
    }

    /// Folds the map into the conv (or group of convs) computing the value it maps: each output
    /// channel's weights scaled, its bias mapped.
    pub fn fold_into(&self, weight: &mut [f32], bias: &mut [f32]) {
        let per_channel = weight.len() / bias.len();
        for (m, b) in bias.iter_mut().enumerate() {
            weight[m * per_channel..(m + 1) * per_channel].iter_mut().for_each(|w| *w *= self.scale[m]);
            *b = *b * self.scale[m] + self.shift[m];
        }
    }
}
