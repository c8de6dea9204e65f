//! `googlenet classify` on real JPEG and PNG files of odd sizes, and on files that are not images.

use std::path::{Path, PathBuf};
use std::process::Command;

use googlenet::preprocess::{load_image, Preprocess};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("googlenet-classify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A smooth colour picture of the given size, saved in the format its extension names.
fn picture(name: &str, width: u32, height: u32) -> PathBuf {
    let path = scratch(name);
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x + y) % 256) as u8])
    });
    image.save(&path).unwrap();
    path
}

fn classify(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_googlenet")).arg("classify").args(args).output().unwrap()
}

#[test]
fn jpeg_and_png_of_any_size_are_classified() {
    let jpeg = picture("wide.jpg", 500, 375);
    let png = picture("tall.png", 97, 300);
    let out = classify(&["--json", "--top", "3", jpeg.to_str().unwrap(), png.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for image in images {
        let top = image["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        let p: Vec<f64> = top.iter().map(|c| c["probability"].as_f64().unwrap()).collect();
        assert!(p[0] >= p[1] && p[1] >= p[2] && p[0] <= 1.0);
        assert!(!top[0]["label"].as_str().unwrap().is_empty());
    }
}

#[test]
fn a_torchvision_state_dict_classifies_with_its_preprocessing() {
    let jpeg = picture("photo.jpg", 320, 240);
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_torchvision.safetensors");
    let out = classify(&["--model", model.to_str().unwrap(), "--transform-input", jpeg.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.starts_with("  ")).count(), 5, "{stdout}");
}

#[test]
fn a_file_that_is_not_an_image_is_named() {
    let fake = scratch("broken.jpg");
    std::fs::write(&fake, b"\xff\xd8\xff\xe0 this is not really a jpeg").unwrap();
    let out = classify(&[fake.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("broken.jpg") && stderr.contains("not a readable JPEG or PNG image"), "{stderr}");
    let missing = classify(&["/no/such/picture.png"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/picture.png: cannot open"));
}

#[test]
fn normalisation_follows_each_convention() {
    let gray = scratch("gray.png");
    image::RgbImage::from_pixel(300, 260, image::Rgb([128, 128, 128])).save(&gray).unwrap();
    let torchvision = load_image(&gray, Preprocess::Torchvision).unwrap();
    assert_eq!(torchvision.dims, [3, 224, 224]);
    let expected = (128.0 / 255.0 - 0.485) / 0.229;
    assert!((torchvision.data[0] - expected).abs() < 1e-5);
    let caffe = load_image(&gray, Preprocess::Caffe).unwrap();
    // Channel 0 is blue, minus BVLC's blue mean 104.007.
    assert!((caffe.data[0] - (128.0 - 104.00699)).abs() < 1e-3);
    assert!((caffe.data[2 * 224 * 224] - (128.0 - 122.67891)).abs() < 1e-3);
    let inception = load_image(&gray, Preprocess::Inception).unwrap();
    assert!((inception.data[0] - (128.0 / 255.0 * 2.0 - 1.0)).abs() < 1e-6);
}
