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

/// The JSON lines of a run, parsed.
fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn jpeg_and_png_of_any_size_are_classified() {
    let jpeg = picture("wide.jpg", 500, 375);
    let png = picture("tall.png", 97, 300);
    let out = classify(&["--json", "--top", "3", jpeg.to_str().unwrap(), png.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("synthetic weights"), "the built-in net says its classes mean nothing: {stderr}");
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    for (line, path) in lines.iter().zip([&jpeg, &png]) {
        assert_eq!(line["path"], path.to_str().unwrap());
        let top = line["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        let p: Vec<f64> = top.iter().map(|c| c["probability"].as_f64().unwrap()).collect();
        assert!(p[0] >= p[1] && p[1] >= p[2] && p[0] <= 1.0);
        assert!(!top[0]["label"].as_str().unwrap().is_empty());
    }
}

/// A folder tree of images in several formats, sizes and colour modes, with corrupt files and
/// files that are not images, through `classify --json-lines` on the small zoo model.
#[test]
fn a_folder_tree_is_walked_and_every_image_accounted_for() {
    let root = scratch("tree");
    let _ = std::fs::remove_dir_all(&root);
    let (mut good, mut corrupt) = (Vec::new(), Vec::new());
    for i in 0..240u32 {
        let dir = root.join(format!("d{}", i % 6)).join(format!("e{}", i % 4));
        std::fs::create_dir_all(&dir).unwrap();
        let (w, h) = (17 + (i * 37) % 400, 9 + (i * 53) % 300);
        let path = match i % 4 {
            0 => dir.join(format!("{i}.jpg")),
            1 => dir.join(format!("{i}.PNG")),
            2 => dir.join(format!("{i}.jpeg")),
            _ => dir.join(format!("{i}.png")),
        };
        match i % 3 {
            0 => image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x * y + i) % 256) as u8])).save_with_format(&path, format_of(&path)).unwrap(),
            1 => image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, (i % 256) as u8])).save_with_format(&path, format_of(&path)).unwrap(),
            _ if format_of(&path) == image::ImageFormat::Png => {
                image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x % 256) as u8, 7, (y % 256) as u8, 200])).save_with_format(&path, image::ImageFormat::Png).unwrap()
            }
            _ => image::RgbImage::from_fn(w, h, |x, _| image::Rgb([(x % 256) as u8, 99, 3])).save_with_format(&path, image::ImageFormat::Jpeg).unwrap(),
        }
        if i % 16 == 5 {
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
            corrupt.push(path);
        } else {
            good.push(path);
        }
    }
    // Not images, by name: skipped; an image name on a non-image: an error line.
    std::fs::write(root.join("d0/notes.txt"), "not an image").unwrap();
    std::fs::write(root.join("d1/README"), "nor this").unwrap();
    let fake = root.join("d2/fake.jpg");
    std::fs::write(&fake, "text with an image's name").unwrap();
    corrupt.push(fake);

    let lines_path = scratch("tree.jsonl");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx");
    let out = classify(&["--model", model.to_str().unwrap(), "--batch", "16", "--top", "2", "--json-lines", lines_path.to_str().unwrap(), root.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "some images fail: exit 3\n{stderr}");
    assert!(stderr.contains(&format!("{} classified, {} failed", good.len(), corrupt.len())), "{stderr}");
    assert!(out.stdout.is_empty(), "the lines go to the file");
    let lines = json_lines(&std::fs::read(&lines_path).unwrap());
    assert_eq!(lines.len(), good.len() + corrupt.len());
    let mut seen = std::collections::BTreeSet::new();
    for line in &lines {
        let path = PathBuf::from(line["path"].as_str().unwrap());
        assert!(seen.insert(path.clone()), "{} twice", path.display());
        if corrupt.contains(&path) {
            assert!(line["error"].as_str().unwrap().contains(path.to_str().unwrap()), "{line}");
        } else {
            assert!(good.contains(&path), "{} was not an input", path.display());
            assert_eq!(line["top"].as_array().unwrap().len(), 2, "{line}");
        }
    }
}

fn format_of(path: &Path) -> image::ImageFormat {
    match path.extension().unwrap().to_str().unwrap().to_ascii_lowercase().as_str() {
        "png" => image::ImageFormat::Png,
        _ => image::ImageFormat::Jpeg,
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
fn a_file_that_is_not_an_image_is_named_and_the_others_still_classified() {
    let fake = scratch("broken.jpg");
    std::fs::write(&fake, b"\xff\xd8\xff\xe0 this is not really a jpeg").unwrap();
    let good = picture("good.png", 64, 48);
    let out = classify(&[fake.to_str().unwrap(), "/no/such/picture.png", good.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("broken.jpg") && stdout.contains("not a readable JPEG or PNG image"), "{stdout}");
    assert!(stdout.contains("/no/such/picture.png: cannot open"), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("  ") && !l.contains("error")).count(), 5, "the good image's top 5: {stdout}");
}

#[test]
fn no_images_at_all_is_an_error() {
    let empty = scratch("empty-dir");
    std::fs::create_dir_all(&empty).unwrap();
    let out = classify(&[empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no JPEG or PNG images"));
}

#[test]
fn normalisation_follows_each_convention() {
    let gray = scratch("gray.png");
    image::RgbImage::from_pixel(300, 260, image::Rgb([128, 128, 128])).save(&gray).unwrap();
    let torchvision = load_image(&gray, Preprocess::Torchvision, [224, 224]).unwrap();
    assert_eq!(torchvision.dims, [3, 224, 224]);
    let expected = (128.0 / 255.0 - 0.485) / 0.229;
    assert!((torchvision.data[0] - expected).abs() < 1e-5);
    let caffe = load_image(&gray, Preprocess::Caffe, [224, 224]).unwrap();
    // Channel 0 is blue, minus BVLC's blue mean 104.007.
    assert!((caffe.data[0] - (128.0 - 104.00699)).abs() < 1e-3);
    assert!((caffe.data[2 * 224 * 224] - (128.0 - 122.67891)).abs() < 1e-3);
    let inception = load_image(&gray, Preprocess::Inception, [224, 224]).unwrap();
    assert!((inception.data[0] - (128.0 / 255.0 * 2.0 - 1.0)).abs() < 1e-6);
}

/// torchvision's and timm's evaluation crop at any size: the short side resized to 8/7 of the
/// crop, the center kept. A 342x342 image (torchvision resizes to 342 for a 299 crop) with a
/// border of 21 pixels on the left and top and 22 on the right and bottom: the crop is exactly
/// its inside, at 299x299 and shrunk to 224x224; one pixel more would show the border.
#[test]
fn the_crop_is_the_central_seven_eighths_at_the_models_size() {
    let path = scratch("bordered.png");
    let inside = |v: u32| (21..320).contains(&v);
    image::RgbImage::from_fn(342, 342, |x, y| if inside(x) && inside(y) { image::Rgb([(x - 21) as u8, (y - 21) as u8, 200]) } else { image::Rgb([255, 0, 0]) })
        .save(&path)
        .unwrap();
    let at_299 = load_image(&path, Preprocess::Inception, [299, 299]).unwrap();
    assert_eq!(at_299.dims, [3, 299, 299]);
    let plane = 299 * 299;
    for (i, pixel) in (0..plane).map(|i| (i, [0, 1, 2].map(|c| ((at_299.data[c * plane + i] + 1.0) / 2.0 * 255.0).round() as u32))) {
        let (x, y) = (i % 299, i / 299);
        assert_eq!(pixel, [x as u32 % 256, y as u32 % 256, 200], "pixel ({x}, {y}): the crop is not the inside, unscaled");
    }
    for size in [[224, 224], [150, 299], [299, 150]] {
        let tensor = load_image(&path, Preprocess::Inception, size).unwrap();
        assert_eq!(tensor.dims, [3, size[0], size[1]]);
        let blue = &tensor.data[2 * size[0] * size[1]..];
        assert!(blue.iter().all(|&v| v > 0.5), "{size:?}: the red border (blue 0) shows");
    }
}

/// Under a pseudo-terminal (util-linux `script`), stderr shows a progress bar with the rate; the
/// JSON lines still go to their file only.
#[test]
fn a_terminal_gets_a_progress_bar_with_images_per_second() {
    let dir = scratch("pty");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..6 {
        image::RgbImage::from_fn(40 + i, 30, |x, y| image::Rgb([x as u8, y as u8, 7])).save(dir.join(format!("{i}.png"))).unwrap();
    }
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx");
    let lines = scratch("pty.jsonl");
    let command = format!(
        "{} classify --model {} --batch 2 --json-lines {} {}",
        env!("CARGO_BIN_EXE_googlenet"),
        model.display(),
        lines.display(),
        dir.display()
    );
    let out = Command::new("script").args(["-qec", &command, "/dev/null"]).output().expect("util-linux `script` runs");
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{terminal}");
    assert!(terminal.contains("images/s") && terminal.contains("/6"), "no progress bar: {terminal}");
    assert_eq!(std::fs::read_to_string(&lines).unwrap().lines().count(), 6);
}
