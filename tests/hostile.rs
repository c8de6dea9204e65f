//! Hostile inputs of every class the engine guards against, generated here at test time (no large
//! file is committed): reads outside the model, allocations before checks, silent acceptance,
//! unbounded reads. Each must give a clear error of the right kind that names the file, and
//! nothing may panic. None of these tests needs a GPU: models are loaded, not run.

use std::path::{Path, PathBuf};

use googlenet::models::{LoadOptions, ModelSource};
use googlenet::onnx::proto::{AttributeProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto, EXTERNAL, INT64};
use googlenet::preprocess::{load_image, Preprocess};
use googlenet::tune::TuneCache;
use googlenet::{npy, Error, ErrorKind};
use prost::Message;

#[path = "common/tiny_onnx.rs"]
mod tiny_onnx;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// A fresh folder for one test's files.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("googlenet-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The small model-zoo GoogLeNet, as a message to edit.
fn light_model() -> ModelProto {
    let bytes = std::fs::read(data("onnx/onnx-model-zoo/inception_v1_light/model.onnx")).unwrap();
    ModelProto::decode(bytes.as_slice()).unwrap()
}

/// Loads `path` as a model, catching panics: the error it gives.
fn load_error(path: &Path) -> Error {
    let source = ModelSource::File(path.to_path_buf());
    match std::panic::catch_unwind(|| source.load(LoadOptions::default())) {
        Err(_) => panic!("{} panics", path.display()),
        Ok(Ok(_)) => panic!("{} is accepted", path.display()),
        Ok(Err(e)) => e,
    }
}

/// Writes `model` (after `edit`) as `dir/model.onnx` and loads it; the error must be of `kind`,
/// name the file, and contain `words`.
fn refused(dir: &Path, kind: ErrorKind, words: &str, edit: impl FnOnce(&mut ModelProto)) -> Error {
    let mut model = light_model();
    edit(&mut model);
    let path = dir.join("model.onnx");
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    let error = load_error(&path);
    let text = error.to_string();
    assert_eq!(error.kind(), kind, "{text}");
    assert!(text.contains(&path.display().to_string()), "the error does not name the file: {text}");
    assert!(text.contains(words), "expected {words:?} in: {text}");
    error
}

/// The largest initializer, moved to external data at `location` with the given entries.
fn externalise(model: &mut ModelProto, location: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let graph = model.graph.as_mut().unwrap();
    let init = graph.initializer.iter_mut().max_by_key(|i| i.raw_data.len() + i.float_data.len() * 4).unwrap();
    let bytes = if init.raw_data.is_empty() {
        init.float_data.drain(..).flat_map(f32::to_le_bytes).collect()
    } else {
        std::mem::take(&mut init.raw_data)
    };
    init.data_location = EXTERNAL;
    init.external_data = std::iter::once(("location", location))
        .chain(extra.iter().copied())
        .map(|(key, value)| StringStringEntryProto { key: key.into(), value: value.into() })
        .collect();
    bytes
}

#[test]
fn external_data_outside_the_model_folder_is_refused() {
    let dir = folder("outside");
    let secret = dir.parent().unwrap().join(format!("googlenet-hostile-secret-{}.bin", std::process::id()));
    std::fs::write(&secret, vec![0u8; 1 << 16]).unwrap();
    let secret_text = secret.display().to_string();
    refused(&dir, ErrorKind::ExternalData, "not a relative path", |m| drop(externalise(m, &secret_text, &[])));
    refused(&dir, ErrorKind::ExternalData, "/etc/passwd", |m| drop(externalise(m, "/etc/passwd", &[])));
    let climb = format!("../{}", secret.file_name().unwrap().to_string_lossy());
    refused(&dir, ErrorKind::ExternalData, "`..`", |m| drop(externalise(m, &climb, &[])));
    refused(&dir, ErrorKind::ExternalData, "`..`", |m| drop(externalise(m, "sub/../../../etc/passwd", &[])));
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&secret, dir.join("link.bin")).unwrap();
        refused(&dir, ErrorKind::ExternalData, "outside the model's folder", |m| drop(externalise(m, "link.bin", &[])));
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero.bin")).unwrap();
        refused(&dir, ErrorKind::ExternalData, "outside the model's folder", |m| drop(externalise(m, "zero.bin", &[])));
        std::os::unix::fs::symlink(dir.parent().unwrap(), dir.join("up")).unwrap();
        let via_link = format!("up/{}", secret.file_name().unwrap().to_string_lossy());
        refused(&dir, ErrorKind::ExternalData, "outside the model's folder", |m| drop(externalise(m, &via_link, &[])));
        // A FIFO inside the folder would block a reader forever.
        assert!(std::process::Command::new("mkfifo").arg(dir.join("fifo.bin")).status().unwrap().success());
        refused(&dir, ErrorKind::ExternalData, "not a regular file", |m| drop(externalise(m, "fifo.bin", &[])));
    }
    std::fs::remove_file(&secret).unwrap();
}

#[test]
fn external_data_ranges_are_checked_before_reading() {
    let dir = folder("ranges");
    let mut model = light_model();
    let weights = externalise(&mut model, "w.bin", &[]);
    std::fs::write(dir.join("w.bin"), &weights).unwrap();
    let path = dir.join("model.onnx");
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    ModelSource::File(path).load(LoadOptions::default()).expect("in-folder external data imports");

    let max = u64::MAX.to_string();
    let near_max = (u64::MAX - 3).to_string();
    for (extra, words) in [
        (vec![("offset", near_max.as_str()), ("length", "8")], "outside the file"),
        (vec![("offset", "4"), ("length", max.as_str())], "outside the file"),
        (vec![("offset", "0"), ("length", "99999999")], "outside the file"),
        (vec![("offset", "-1")], "not a byte count"),
        (vec![("offset", "0"), ("length", "8")], "but the tensor needs"),
        (vec![("offset", "4")], "but the tensor needs"),
        (vec![("offset", max.as_str())], "past the end"),
    ] {
        std::fs::write(dir.join("w.bin"), &weights).unwrap();
        refused(&dir, ErrorKind::ExternalData, words, |m| drop(externalise(m, "w.bin", &extra)));
    }
}

#[test]
fn allocations_are_checked_before_they_happen() {
    let dir = folder("alloc");
    // An image input of 3x20000x20000 (4.8 GB a picture).
    refused(&dir, ErrorKind::TooLarge, "input size limit", |m| {
        let graph = m.graph.as_mut().unwrap();
        let initializers: Vec<String> = graph.initializer.iter().map(|i| i.name.clone()).collect();
        let input = graph.input.iter_mut().find(|i| !initializers.contains(&i.name)).unwrap();
        let shape = input.r#type.as_mut().unwrap().tensor_type.as_mut().unwrap().shape.as_mut().unwrap();
        shape.dim[2].dim_value = Some(20000);
        shape.dim[3].dim_value = Some(20000);
    });
    // An initializer claiming 2^50 elements in a tiny file.
    refused(&dir, ErrorKind::Shape, "over the limit", |m| m.graph.as_mut().unwrap().initializer[0].dims = vec![1 << 25, 1 << 25]);
    // Unused ConstantOfShape nodes of 2^28 floats each cost nothing; a used one is over budget.
    let fills = |m: &mut ModelProto, used: bool| {
        let graph = m.graph.as_mut().unwrap();
        let shape = TensorProto { name: "huge_shape".into(), dims: vec![1], data_type: INT64, int64_data: vec![1 << 28], ..Default::default() };
        graph.initializer.push(shape);
        for i in 0..16 {
            let node = NodeProto { op_type: "ConstantOfShape".into(), input: vec!["huge_shape".into()], output: vec![format!("fill{i}")], ..Default::default() };
            graph.node.insert(0, node);
        }
        if used {
            let conv = graph.node.iter_mut().find(|n| n.op_type == "Conv").unwrap();
            conv.input[1] = "fill0".into();
        }
    };
    let mut model = light_model();
    fills(&mut model, false);
    let path = dir.join("unused.onnx");
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    ModelSource::File(path).load(LoadOptions::default()).expect("unused fills are never built");
    refused(&dir, ErrorKind::TooLarge, "constant memory budget", |m| fills(m, true));
    // A million tiny nodes: refused before any is imported.
    refused(&dir, ErrorKind::Unsupported, "nodes; the importer takes at most", |m| {
        let graph = m.graph.as_mut().unwrap();
        let relu = graph.node.iter().find(|n| n.op_type == "Relu").unwrap().clone();
        graph.node.extend(std::iter::repeat_n(relu, googlenet::onnx::import::MAX_NODES));
    });
}

#[test]
fn attributes_past_the_kernels_range_are_refused() {
    let dir = folder("attributes");
    let set = |m: &mut ModelProto, op: &str, name: &str, value: AttributeProto| {
        let node = m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.op_type == op).unwrap_or_else(|| panic!("no {op}"));
        node.attribute.retain(|a| a.name != name);
        node.attribute.push(AttributeProto { name: name.into(), ..value });
    };
    refused(&dir, ErrorKind::Shape, "`size` = 1099511627776", |m| set(m, "LRN", "size", AttributeProto { i: 1 << 40, ..Default::default() }));
    refused(&dir, ErrorKind::Shape, "`strides`", |m| set(m, "Conv", "strides", AttributeProto { ints: vec![1 << 33, 1], ..Default::default() }));
    refused(&dir, ErrorKind::Shape, "`pads`", |m| set(m, "MaxPool", "pads", AttributeProto { ints: vec![0, 0, 1 << 40, 0], ..Default::default() }));
}

#[test]
fn non_finite_weights_and_incomplete_files_are_refused() {
    let dir = folder("silent");
    refused(&dir, ErrorKind::NotFinite, "NaN", |m| {
        let init = m.graph.as_mut().unwrap().initializer.iter_mut().max_by_key(|i| i.raw_data.len() + i.float_data.len()).unwrap();
        if init.raw_data.is_empty() {
            init.float_data[3] = f32::NAN;
        } else {
            init.raw_data[12..16].copy_from_slice(&f32::NAN.to_le_bytes());
        }
    });
    refused(&dir, ErrorKind::Shape, "opset_import", |m| m.opset_import.clear());
    refused(&dir, ErrorKind::Shape, "defined twice", |m| {
        let graph = m.graph.as_mut().unwrap();
        let first = graph.node.iter().find(|n| n.op_type == "Relu").unwrap().output[0].clone();
        graph.node.iter_mut().rev().find(|n| n.op_type == "Relu").unwrap().output[0] = first;
    });

    // A torchvision state dict with one infinite weight.
    let path = edited_state_dict(&dir, "inf.safetensors", "conv1.conv.weight", 10, f32::INFINITY);
    let error = load_error(&path);
    assert_eq!(error.kind(), ErrorKind::NotFinite, "{error}");
    assert!(error.to_string().contains("inf.safetensors") && error.to_string().contains("inf at element 10"), "{error}");
}

/// The test torchvision state dict with element `index` of `tensor` set to `value`, written as
/// `dir/name`.
fn edited_state_dict(dir: &Path, name: &str, tensor: &str, index: usize, value: f32) -> PathBuf {
    let mut bytes = std::fs::read(data("googlenet_torchvision.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    assert_eq!(header[tensor]["dtype"], "F32");
    let start = header[tensor]["data_offsets"][0].as_u64().unwrap() as usize + 8 + header_len + 4 * index;
    bytes[start..start + 4].copy_from_slice(&value.to_le_bytes());
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    path
}

#[test]
fn a_batch_norm_whose_variance_plus_epsilon_is_not_positive_is_refused() {
    // x [N, 3, 2, 2] through one BatchNormalization with the given variances and epsilon.
    let load = |var: [f32; 3], epsilon: f32| {
        let initializers = vec![
            tiny_onnx::float_tensor("scale", &[3], &[1.0, 2.0, 0.5]),
            tiny_onnx::float_tensor("shift", &[3], &[0.0, 0.1, -0.1]),
            tiny_onnx::float_tensor("mean", &[3], &[0.5, 0.0, 1.0]),
            tiny_onnx::float_tensor("var", &[3], &var),
        ];
        let bn = tiny_onnx::node("BatchNormalization", &["x", "scale", "shift", "mean", "var"], &["bn"], vec![tiny_onnx::float_attribute("epsilon", epsilon)]);
        let bytes = tiny_onnx::model_bytes(15, &[3, 2, 2], vec![bn], initializers, &["bn"]);
        ModelSource::OnnxBytes(bytes).load(LoadOptions::default())
    };
    load([1.0, 0.0, 2.0], 1e-5).expect("a zero variance with a positive epsilon is fine");
    load([1.0, -1e-5, 2.0], 1e-5).expect_err("a sum of exactly zero divides by zero");
    for (var, epsilon, element) in [([1.0, 0.0, 2.0], 0.0, 1), ([1.0, 2.0, -0.5], 1e-5, 2), ([-0.0, 1.0, 1.0], 0.0, 0)] {
        let error = load(var, epsilon).expect_err("var + epsilon <= 0 must be refused");
        let text = error.to_string();
        assert_eq!(error.kind(), ErrorKind::NotFinite, "{text}");
        assert!(text.contains("BatchNorm node `bn`") && text.contains("var + epsilon") && text.contains(&format!("at element {element}")), "{text}");
    }

    // The same in a torchvision state dict (its BatchNorm epsilon is 1e-3).
    let dir = folder("variance");
    let path = edited_state_dict(&dir, "var.safetensors", "conv2.bn.running_var", 5, -1.0);
    let error = load_error(&path);
    let text = error.to_string();
    assert_eq!(error.kind(), ErrorKind::NotFinite, "{text}");
    assert!(text.contains("var.safetensors") && text.contains("`conv2.bn`") && text.contains("NaN at element 5"), "{text}");
}

/// A smooth picture encoded as `name` (format from the extension).
fn picture(dir: &Path, name: &str, width: u32, height: u32) -> PathBuf {
    let path = dir.join(name);
    image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])).save(&path).unwrap();
    path
}

fn image_error(path: &Path) -> String {
    match std::panic::catch_unwind(|| load_image(path, Preprocess::Torchvision, [224, 224])) {
        Err(_) => panic!("{} panics", path.display()),
        Ok(Ok(_)) => panic!("{} is accepted", path.display()),
        Ok(Err(e)) => {
            assert!(e.to_string().contains(&path.display().to_string()), "the error does not name the file: {e}");
            e.to_string()
        }
    }
}

/// The PNG at `path` with its header claiming `width` x `height` (and a correct checksum).
fn claim_png_size(path: &Path, width: u32, height: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    // Signature (8), IHDR length (4), "IHDR" (4), width, height, ...; CRC over type + data.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn hostile_images_are_refused_or_bounded() {
    let dir = folder("images");
    // Extreme aspect ratios are cropped before they are resized: a 1x16000 strip is a 1x1 crop.
    let strip = picture(&dir, "strip.png", 1, 16_000);
    assert_eq!(load_image(&strip, Preprocess::Torchvision, [224, 224]).unwrap().dims, [3, 224, 224]);
    // Past the decoder's side limit: refused before decoding.
    let strip = picture(&dir, "long-strip.png", 1, 100_000);
    assert!(image_error(&strip).contains("limit"), "{}", image_error(&strip));
    // A 20000x20000 header on a tiny file: refused by the decoder's limits, not decoded.
    let huge = picture(&dir, "huge.png", 64, 64);
    claim_png_size(&huge, 20_000, 20_000);
    assert!(image_error(&huge).contains("limit"), "{}", image_error(&huge));
    // Cut in half: a JPEG without its end, a PNG without its last chunks.
    for name in ["photo.jpg", "photo.png"] {
        let path = picture(&dir, name, 300, 200);
        let bytes = std::fs::read(&path).unwrap();
        load_image(&path, Preprocess::Torchvision, [224, 224]).expect("the whole file reads");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let error = image_error(&path);
        assert!(error.contains("truncated") || error.contains("EOF") || error.contains("end"), "{error}");
    }
}

#[test]
fn a_npy_header_length_past_the_file_is_refused_before_allocating() {
    // Found by the npy_read fuzz target: a 22-byte version-2 file declaring a 2.7 GB header.
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/npy_read/header_length_4gb.npy")).unwrap();
    let error = npy::parse_f32(&bytes, Path::new("short.npy")).unwrap_err().to_string();
    assert!(error.contains("short.npy") && error.contains("a header of 2701131793 bytes"), "{error}");
    // Also found by it: nested brackets in the header, which a Python-literal parser takes
    // exponential time over; the strict header parser refuses them at once.
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/npy_read/nested_brackets_backtracking.npy")).unwrap();
    let error = npy::parse_f32(&bytes, Path::new("nested.npy")).unwrap_err().to_string();
    assert!(error.contains("nested.npy") && error.contains("not a valid .npy file"), "{error}");
}

#[test]
fn special_files_are_never_read_unbounded() {
    #[cfg(unix)]
    {
        let dir = folder("special");
        for name in ["model.onnx", "model.safetensors", "image.png", "input.npy"] {
            std::os::unix::fs::symlink("/dev/zero", dir.join(name)).unwrap();
        }
        for name in ["model.onnx", "model.safetensors"] {
            let error = load_error(&dir.join(name));
            assert!(error.to_string().contains("not a regular file"), "{error}");
        }
        assert!(image_error(&dir.join("image.png")).contains("not a regular file"));
        let npy_error = npy::read_f32(&dir.join("input.npy")).unwrap_err().to_string();
        assert!(npy_error.contains("input.npy") && npy_error.contains("not a regular file"), "{npy_error}");
        let cache_error = TuneCache::load(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(cache_error.contains("/dev/zero") && cache_error.contains("not a regular file"), "{cache_error}");
    }
}

#[test]
fn errors_keep_their_kind_through_the_file_that_holds_them() {
    let dir = folder("kinds");
    let error = refused(&dir, ErrorKind::Unsupported, "operator `Elu`", |m| {
        m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.op_type == "Relu").unwrap().op_type = "Elu".into();
    });
    assert!(matches!(&error, Error::InFile { source, .. } if matches!(**source, Error::Unsupported { .. })), "{error:?}");
    assert_eq!(error.path(), Some(dir.join("model.onnx").as_path()));
}
