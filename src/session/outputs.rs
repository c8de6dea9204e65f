//! What a run gives back: the model's outputs by name, and ranked classes.

use crate::error::{Error, Result};
use crate::labels::class_name;
use crate::tensor::Tensor;

/// The outputs of one run, in the order the model declares them; the first is the main one.
#[derive(Clone, Debug, PartialEq)]
pub struct Outputs {
    values: Vec<(String, Tensor)>,
}

impl Outputs {
    pub(crate) fn new(values: Vec<(String, Tensor)>) -> Self {
        assert!(!values.is_empty(), "every model has an output");
        Outputs { values }
    }

    /// The model's first output: exactly what it computes (probabilities for the built-in net
    /// and the ONNX model zoo's GoogLeNet, logits for a torchvision state dict).
    pub fn main(&self) -> &Tensor {
        &self.values[0].1
    }

    /// The number of classes where the main output is a classifier's scores: `[N, classes]`,
    /// or `[N, classes, 1, 1]` as a conv head without a flatten leaves them (SqueezeNet,
    /// DenseNet). None for any other shape.
    pub fn main_classes(&self) -> Option<usize> {
        classes(&self.main().dims)
    }

    /// The output called `name` (e.g. `loss1/prob`, an auxiliary classifier), if the model has one.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The output names, main first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(n, _)| n.as_str())
    }

    /// Every output with its name, main first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.values.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// The outputs as (name, tensor) pairs, main first.
    pub fn into_vec(self) -> Vec<(String, Tensor)> {
        self.values
    }
}

/// One ranked class of an image.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The class index in the model's output.
    pub class: usize,
    /// The ImageNet class name for a 1000-class model, else `class <index>`.
    pub label: String,
    /// Softmax probability (the model's own where it ends in a softmax).
    pub probability: f32,
}

fn classes(dims: &[usize]) -> Option<usize> {
    match *dims {
        [_, classes] | [_, classes, 1, 1] => Some(classes),
        _ => None,
    }
}

/// The `k` most probable classes of each row of `scores` (`[N, classes]` or `[N, classes, 1,
/// 1]`), most probable first.
/// `probabilities` says whether the rows already are distributions; if not, each row goes
/// through a softmax first. A row with a non-finite score is an error: a NaN has no rank.
pub(crate) fn rank(scores: &Tensor, probabilities: bool, k: usize) -> Result<Vec<Vec<Prediction>>> {
    let Some(classes) = classes(&scores.dims) else {
        return Err(Error::shape("classify", format!("the model's output has dims {:?}; classifying needs [N, classes] or [N, classes, 1, 1]", scores.dims)));
    };
    if classes == 0 {
        return Err(Error::shape("classify", "the model's output has no classes"));
    }
    scores
        .data
        .chunks(classes)
        .enumerate()
        .map(|(image, row)| {
            if let Some(bad) = row.iter().position(|v| !v.is_finite()) {
                return Err(Error::shape("classify", format!("image {image}: score of class {bad} is {} (check the model's weights)", row[bad])));
            }
            let row = if probabilities { row.to_vec() } else { softmax(row) };
            let mut order: Vec<usize> = (0..classes).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            Ok(order
                .into_iter()
                .take(k)
                .map(|class| Prediction { class, label: label(class, classes), probability: row[class] })
                .collect())
        })
        .collect()
}

fn label(class: usize, classes: usize) -> String {
    if classes == crate::models::googlenet::CLASSES { class_name(class) } else { format!("class {class}") }
}

fn softmax(row: &[f32]) -> Vec<f32> {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = row.iter().map(|&v| ((v - max) as f64).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.into_iter().map(|e| (e / sum) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_are_ranked_by_their_softmax() {
        let scores = Tensor::new(vec![2, 3], vec![1.0, 3.0, 2.0, 0.0, 0.0, 5.0]);
        let ranked = rank(&scores, false, 2).unwrap();
        assert_eq!(ranked[0].iter().map(|p| p.class).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(ranked[1][0].class, 2);
        let e = [1f64.exp(), 3f64.exp(), 2f64.exp()];
        assert!((ranked[0][0].probability as f64 - e[1] / e.iter().sum::<f64>()).abs() < 1e-6);
        assert_eq!(ranked[0][0].label, "class 1");
    }

    #[test]
    fn probabilities_are_kept_and_imagenet_classes_named() {
        let mut data = vec![0.0; 1000];
        data[281] = 0.75;
        data[0] = 0.25;
        let ranked = rank(&Tensor::new(vec![1, 1000], data), true, 3).unwrap();
        assert_eq!((ranked[0][0].class, ranked[0][0].label.as_str(), ranked[0][0].probability), (281, "tabby", 0.75));
        assert_eq!(ranked[0][1].label, "tench");
    }

    #[test]
    fn a_conv_head_output_is_ranked_as_classes() {
        let ranked = rank(&Tensor::new(vec![2, 3, 1, 1], vec![0.2, 0.5, 0.3, 0.6, 0.1, 0.3]), true, 2).unwrap();
        assert_eq!(ranked.iter().map(|row| row.iter().map(|p| p.class).collect::<Vec<_>>()).collect::<Vec<_>>(), [[1, 2], [0, 2]]);
        assert_eq!(classes(&[2, 3, 1, 1]), Some(3));
        assert_eq!(classes(&[2, 3, 2, 1]), None);
        assert_eq!(classes(&[2, 3, 1]), None);
    }

    #[test]
    fn a_nan_score_or_a_non_classifier_output_is_an_error() {
        let err = rank(&Tensor::new(vec![1, 2], vec![0.5, f32::NAN]), true, 1).unwrap_err().to_string();
        assert!(err.contains("image 0") && err.contains("NaN"), "{err}");
        let err = rank(&Tensor::new(vec![1, 2, 2, 1], vec![0.0; 4]), true, 1).unwrap_err().to_string();
        assert!(err.contains("[1, 2, 2, 1]"), "{err}");
    }
}
