//! Images to network input: decode (JPEG, PNG), resize and center-crop to the model's input size
//! (for 224x224: the short side to 256, the central 224x224), normalise per the model's
//! convention. Image files are untrusted: the read is capped
//! ([`FileKind::Image`]), the decoder has limits ([`MAX_SIDE`], [`MAX_DECODE_BYTES`]), a JPEG cut
//! short is refused, and only the part of the image the crop covers is ever converted or resized.

use std::io::Cursor;
use std::path::Path;

use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::error::{Error, Result};
use crate::files::{read_capped, FileKind};
use crate::tensor::Tensor;

/// The widest or tallest image decoded, in pixels.
pub const MAX_SIDE: u32 = 16384;
/// The most memory the decoder may allocate for one image (a 9000x9000 RGB photo fits).
pub const MAX_DECODE_BYTES: u64 = 256 << 20;

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

/// The crop takes this much of the resized image's short side: torchvision's and timm's
/// ImageNet evaluation (short side to 256, central 224; to 342 or 341, central 299).
const CROP_FRACTION: f64 = 224.0 / 256.0;
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

/// One image file as a `[3, height, width]` tensor (`size` is `[height, width]`).
pub fn load_image(path: &Path, preprocess: Preprocess, size: [usize; 2]) -> Result<Tensor> {
    image_tensor(&open_image(path)?, preprocess, size).map_err(|message| Error::file(path, message))
}

/// Decodes a JPEG or PNG file (the format from its contents, not its name), within the limits
/// above; a JPEG without its end-of-image marker is refused as truncated.
pub fn open_image(path: &Path) -> Result<DynamicImage> {
    decode_image(&read_capped(path, FileKind::Image)?, path)
}

/// Decodes the bytes of a JPEG or PNG file as [`open_image`] does; `path` names it in errors.
pub fn decode_image(bytes: &[u8], path: &Path) -> Result<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let is_jpeg = reader.format() == Some(ImageFormat::Jpeg);
    let image = reader.decode().map_err(|e| Error::file(path, format!("not a readable JPEG or PNG image: {e}")))?;
    if is_jpeg && !jpeg_reaches_end(bytes) {
        return Err(Error::file(path, "truncated JPEG: the file ends before the image does"));
    }
    Ok(image)
}

/// Whether a JPEG stream reaches its end-of-image marker, walking the marker segments and
/// skipping entropy-coded scan data (where 0xFF is stuffed as `FF 00` or is a restart marker).
/// Decoders fill a scan that stops early with grey instead of failing.
fn jpeg_reaches_end(bytes: &[u8]) -> bool {
    let at = |i: usize| bytes.get(i).copied();
    let mut i = 2; // past the start-of-image marker
    loop {
        let (Some(0xFF), Some(marker)) = (at(i), at(i + 1)) else { return false };
        match marker {
            0xD9 => return true,
            0xFF => i += 1,                          // a fill byte before a marker
            0x01 | 0xD0..=0xD7 => i += 2,            // markers without a segment
            _ => {
                let (Some(high), Some(low)) = (at(i + 2), at(i + 3)) else { return false };
                i += 2 + u16::from_be_bytes([high, low]) as usize;
                if marker == 0xDA {
                    // A scan: its data runs to the next marker that is not stuffing or a restart.
                    while !(at(i) == Some(0xFF) && at(i + 1).is_some_and(|m| !matches!(m, 0x00 | 0xD0..=0xD7 | 0xFF))) {
                        if i >= bytes.len() {
                            return false;
                        }
                        i += 1;
                    }
                }
            }
        }
    }
}

/// A decoded image as a `[3, height, width]` tensor (`size` is `[height, width]`, each from 1 to
/// `MAX_SIDE`); the error says what is wrong with the image.
pub fn image_tensor(image: &DynamicImage, preprocess: Preprocess, size: [usize; 2]) -> std::result::Result<Tensor, String> {
    let (w, h) = (image.width(), image.height());
    if w == 0 || h == 0 {
        return Err("the image is empty".into());
    }
    let [Ok(crop_h), Ok(crop_w)] = size.map(u32::try_from) else { return Err(format!("input size {size:?} is out of range")) };
    if !(1..=MAX_SIDE).contains(&crop_h) || !(1..=MAX_SIDE).contains(&crop_w) {
        return Err(format!("input size {size:?} is out of range (1 to {MAX_SIDE} each)"));
    }
    // The short side resized so that the crop's long side is CROP_FRACTION of it, then the
    // central crop: the same as resizing the central window of the image that the crop covers,
    // which is what is done, so that a 1x100000 or a 20000x20000 image never becomes a large
    // buffer. Multiplied before dividing, so that a square crop's window is exactly the central
    // CROP_FRACTION of the short side, rounded.
    let (short, long) = (w.min(h) as f64, crop_w.max(crop_h) as f64);
    let window_side = |crop: u32, side: u32| ((short * CROP_FRACTION * crop as f64 / long).round() as u32).clamp(1, side);
    let (window_w, window_h) = (window_side(crop_w, w), window_side(crop_h, h));
    let window = image.crop_imm((w - window_w) / 2, (h - window_h) / 2, window_w, window_h).to_rgb8();
    let crop = image::imageops::resize(&window, crop_w, crop_h, FilterType::Triangle);
    let plane = size[0] * size[1];
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
    Ok(Tensor::new(vec![3, size[0], size[1]], data))
}
