//! The 1000 ImageNet (ILSVRC 2012) class names, in the index order that both the Caffe/model-zoo
//! and the torchvision GoogLeNets use.

const CLASSES: &str = include_str!("../data/imagenet_classes.txt");

/// The name of class `index`, or the index itself for a model with other classes.
pub fn class_name(index: usize) -> String {
    CLASSES.lines().nth(index).map_or_else(|| format!("class {index}"), str::to_string)
}

#[cfg(test)]
mod tests {
    #[test]
    fn there_are_1000_classes_in_imagenet_order() {
        let names: Vec<&str> = super::CLASSES.lines().collect();
        assert_eq!(names.len(), 1000);
        assert_eq!(names[0], "tench");
        assert_eq!(names[281], "tabby");
        assert_eq!(names[999], "toilet tissue");
    }
}
