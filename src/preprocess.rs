//! Images to network input: decode (JPEG, PNG), resize the short side to 256, center-crop
//! 224x224, normalise per the model's convention.

use std::path::Path;

use image::imageops::FilterType;
use image::DynamicImage;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// How an image becomes the network's input: each model family was trained with its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preprocess {
    /// RGB in [0, 1], minus ImageNet mean, over ImageNet std (torchvision models).
    Torchvision,
    /// BGR in [0, 255] minus the per-channel ImageNet mean (BVLC Caffe models, the ONNX zoo).
    Caffe,
    /// RGB scaled to [-1, 1]: what torchvision's GoogLeNet sees after its `transform_input`
    /// (use it for an ONNX export of the pretrained model, which leaves the transform out).
    Inception,
}

const RESIZE: u32 = 256;
const CROP: u32 = 224;
const TORCHVISION_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const TORCHVISION_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// BVLC's ImageNet mean, in B, G, R order.
const CAFFE_MEAN_BGR: [f32; 3] = [104.006_99, 116.668_77, 122.678_91];

impl Preprocess {
    /// Every choice, in the order `name` lists them.
    pub const ALL: [Preprocess; 3] = [Preprocess::Torchvision, Preprocess::Caffe, Preprocess::Inception];

    /// The lower-case name the command line and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Preprocess::Torchvision => "torchvision",
            Preprocess::Caffe => "caffe",
            Preprocess::Inception => "inception",
        }
    }
}

impl std::str::FromStr for Preprocess {
    type Err = String;

    fn from_str(name: &str) -> std::result::Result<Self, String> {
        Preprocess::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Preprocess::ALL.iter().map(|p| p.name()).collect();
            format!("unknown preprocessing `{name}`; expected one of {}", names.join(", "))
        })
    }
}

/// One image file as a `[3, 224, 224]` tensor.
pub fn load_image(path: &Path, preprocess: Preprocess) -> Result<Tensor> {
    image_tensor(&open_image(path)?, preprocess).map_err(|message| Error::file(path, message))
}

/// Decodes a JPEG or PNG file (the format from its contents, not its name).
pub fn open_image(path: &Path) -> Result<DynamicImage> {
    image::ImageReader::open(path)
        .map_err(|e| Error::file(path, format!("cannot open: {e}")))?
        .with_guessed_format()
        .map_err(|e| Error::file(path, format!("cannot read: {e}")))?
        .decode()
        .map_err(|e| Error::file(path, format!("not a readable JPEG or PNG image: {e}")))
}

/// A decoded image as a `[3, 224, 224]` tensor; the error says what is wrong with the image.
pub fn image_tensor(image: &DynamicImage, preprocess: Preprocess) -> std::result::Result<Tensor, String> {
    let (w, h) = (image.width(), image.height());
    if w == 0 || h == 0 {
        return Err("the image is empty".into());
    }
    // Short side to 256, keeping the aspect ratio; then the central 224x224.
    let scale = RESIZE as f64 / w.min(h) as f64;
    let (rw, rh) = (((w as f64 * scale).round() as u32).max(CROP), ((h as f64 * scale).round() as u32).max(CROP));
    let resized = image.to_rgb8();
    let resized = image::imageops::resize(&resized, rw, rh, FilterType::Triangle);
    let (x0, y0) = ((rw - CROP) / 2, (rh - CROP) / 2);
    let crop = image::imageops::crop_imm(&resized, x0, y0, CROP, CROP).to_image();
    let plane = (CROP * CROP) as usize;
    let mut data = vec![0.0f32; 3 * plane];
    for (i, pixel) in crop.pixels().enumerate() {
        for c in 0..3 {
            let value = match preprocess {
                Preprocess::Torchvision => (pixel[c] as f32 / 255.0 - TORCHVISION_MEAN[c]) / TORCHVISION_STD[c],
                // Channel c of the input is B, G, R: pixel channel 2 - c.
                Preprocess::Caffe => pixel[2 - c] as f32 - CAFFE_MEAN_BGR[c],
                Preprocess::Inception => pixel[c] as f32 / 255.0 * 2.0 - 1.0,
            };
            data[c * plane + i] = value;
        }
    }
    Ok(Tensor::new(vec![3, CROP as usize, CROP as usize], data))
}
