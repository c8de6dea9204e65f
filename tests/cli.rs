//! The `googlenet` binary as a user runs it.

use std::process::Command;
use std::os::unix::fs::DirBuilderExt;

#[path = "common/tiny_onnx.rs"]
mod tiny_onnx;

fn googlenet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_googlenet")).args(args).output().expect("the binary runs")
}

/// Fails where a key of `report`, at any depth, is not named in `docs/JSON.md` (as `key` or
/// "key"): every key a `--json` report prints is documented.
fn assert_keys_documented(command: &str, report: &serde_json::Value) {
    fn keys<'a>(value: &'a serde_json::Value, into: &mut std::collections::BTreeSet<&'a str>) {
        match value {
            serde_json::Value::Object(map) => map.iter().for_each(|(key, value)| {
                into.insert(key);
                keys(value, into)
            }),
            serde_json::Value::Array(values) => values.iter().for_each(|value| keys(value, into)),
            _ => {}
        }
    }
    let docs = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/JSON.md")).unwrap();
    let mut found = std::collections::BTreeSet::new();
    keys(report, &mut found);
    let missing: Vec<&str> = found.into_iter().filter(|key| !docs.contains(&format!("`{key}`")) && !docs.contains(&format!("\"{key}\""))).collect();
    assert!(missing.is_empty(), "`{command}` prints keys docs/JSON.md does not name: {missing:?}");
}

#[test]
fn verify_passes_every_case_and_reports_json() {
    let out = googlenet(&["verify", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verify failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("verify --json prints JSON");
    assert_keys_documented("verify --json", &report);
    let cases = report["cases"].as_array().expect("cases array");
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    assert_eq!(report["cases_failed"], 0);
    assert_eq!(report["passed"], true);
    for case in cases {
        assert_eq!(case["passed"], true, "{case}");
        assert!(case["max_abs_err"].as_f64().unwrap() <= case["tolerance"].as_f64().unwrap());
    }
    assert!(!report["adapter"]["name"].as_str().unwrap().is_empty());
    assert_eq!(report["network"]["passed"], true);
    let values = report["network"]["values"].as_array().unwrap();
    assert!(values.iter().any(|v| v["name"] == "inception_4c/output"), "per-module rows");
}

#[test]
fn verify_prints_a_table() {
    let out = googlenet(&["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.starts_with("adapter: "));
    // The case tolerance is absolute (`max abs` is held to it), and the header says so.
    assert!(stdout.lines().any(|l| l.starts_with("kernel") && l.contains("max abs") && l.ends_with("abs tol  result")), "{stdout}");
    for kernel in ["conv kxk", "conv 1x1", "max pool", "avg pool", "lrn", "fully connected", "softmax", "channel affine"] {
        assert!(stdout.lines().any(|l| l.starts_with(kernel) && l.ends_with("pass")), "no passing {kernel} row");
    }
    assert!(stdout.contains(" passed, 0 failed"));
    assert!(stdout.contains("network: pass"));
}

#[test]
fn run_prints_top5_and_agreement_and_writes_npy() {
    let dir = std::env::temp_dir().join(format!("googlenet-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = dir.join("prob.npy");
    let out = googlenet(&["run", "--batch", "2", "--output", output.to_str().unwrap(), "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_keys_documented("run --json", &report);
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0]["top"].as_array().unwrap().len(), 5);
    assert!(!images[0]["top"][0]["label"].as_str().unwrap().is_empty());
    assert_eq!(report["check"]["top5_agree"], true);
    assert_eq!(report["passed"], true);
    assert!(!report["adapter"]["backend"].as_str().unwrap().is_empty());
    let saved = googlenet::npy::read_f32(&output).unwrap();
    assert_eq!(saved.dims, [2, 1000]);
    // The saved probabilities feed back as nothing else: a [2, 1000] array is not an image batch.
    let err = googlenet(&["run", "--input", output.to_str().unwrap()]);
    assert!(!err.status.success());
    assert!(String::from_utf8_lossy(&err.stderr).contains("the network takes [N, 3, 224, 224]"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A 299x299 model, as torchvision's and timm's Inceptions are: every command takes its size
/// from the model, and `classify` resizes photos to it with the [-1, 1] preprocessing.
#[test]
fn a_299_model_runs_benches_plans_and_classifies_at_its_own_size() {
    let dir = std::env::temp_dir().join(format!("googlenet-cli-{}-299", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("inception_sized.onnx");
    std::fs::write(&model, tiny_onnx::image_classifier(299, 299)).unwrap();
    let model = model.to_str().unwrap();
    let succeeds = |args: &[&str]| {
        let out = googlenet(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{args:?}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };

    // Without --input: a synthetic batch at 3x299x299, checked against the CPU reference.
    let report: serde_json::Value = serde_json::from_str(&succeeds(&["run", "--model", model, "--batch", "2", "--json"])).unwrap();
    assert_eq!((report["passed"].as_bool(), report["main_output_dims"].clone()), (Some(true), serde_json::json!([2, 10])));
    assert_eq!(report["images"][1]["top"].as_array().unwrap().len(), 5);
    // A 224x224 batch is not this model's input.
    let npy = dir.join("224.npy");
    googlenet::npy::write_f32(&npy, &googlenet::Tensor::new(vec![1, 3, 224, 224], vec![0.0; 3 * 224 * 224])).unwrap();
    let out = googlenet(&["run", "--model", model, "--input", npy.to_str().unwrap()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("the network takes [N, 3, 299, 299]"));

    // The conv's work at 299x299: 149x149 outputs of 4 channels, 27 multiply-adds each.
    let report: serde_json::Value = serde_json::from_str(&succeeds(&["bench", "--model", model, "--iters", "1", "--cpu-iters", "1", "--json"])).unwrap();
    let conv_gflop = (149.0 * 149.0 * 4.0 * 27.0 * 2.0) / 1e9;
    let gflop = report["gflop_per_run"].as_f64().unwrap();
    assert!(gflop >= conv_gflop && gflop < 1.1 * conv_gflop, "{gflop} GFLOP against the conv's {conv_gflop}");

    let plan = succeeds(&["plan", "--model", model, "--batch", "3"]);
    assert!(plan.contains("batch 3 runs whole"), "{plan}");

    let photo = dir.join("photo.jpg");
    image::RgbImage::from_fn(500, 375, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])).save(&photo).unwrap();
    let line: serde_json::Value = serde_json::from_str(&succeeds(&["classify", "--model", model, "--json", "--top", "3", photo.to_str().unwrap()])).unwrap();
    let top = line["top"].as_array().unwrap();
    // The same classes and probabilities as the photo preprocessed by hand at 299x299, [-1, 1].
    let input = googlenet::preprocess::load_image(&photo, googlenet::Preprocess::Inception, [299, 299]).unwrap();
    let session = googlenet::Session::builder().model_file(model).without_tune_cache().build().unwrap();
    let expected = session.predictions(&session.run(&googlenet::Tensor::new(vec![1, 3, 299, 299], input.data)).unwrap(), 3).unwrap();
    for (got, want) in top.iter().zip(&expected[0]) {
        assert_eq!(got["class"].as_u64(), Some(want.class as u64), "{line}");
        assert!((got["probability"].as_f64().unwrap() - want.probability as f64).abs() < 1e-6, "{line}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SqueezeNet's and DenseNet's heads leave the classes at [N, classes, 1, 1].
#[test]
fn run_ranks_the_classes_of_a_rank_4_conv_head() {
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/family/squeeze_head.onnx");
    let out = googlenet(&["run", "--model", model, "--batch", "2", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["main_output_dims"], serde_json::json!([2, 10, 1, 1]));
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for image in images {
        let p: Vec<f64> = image["top"].as_array().unwrap().iter().map(|c| c["probability"].as_f64().unwrap()).collect();
        assert!(p.len() == 5 && p.windows(2).all(|w| w[0] >= w[1]) && p[0] < 1.0, "{image}");
    }
}

#[test]
fn run_with_f16_weights_rounds_them_and_passes_the_wider_check() {
    let out = googlenet(&["run", "--f16-weights", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["passed"], true);
    // Further from the f32 reference than f32 weights come (so they were rounded), within the
    // tolerance stated for f16 weights.
    let error = report["check"]["values"][0]["max_rel_err"].as_f64().unwrap() as f32;
    assert!(error > googlenet::verify::NETWORK_RTOL && error <= googlenet::verify::NETWORK_RTOL_F16_WEIGHTS, "{error}");
}

#[test]
fn info_names_the_adapter_and_limits() {
    let out = googlenet(&["info", "--json"]);
    assert!(out.status.success());
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).expect("info --json prints JSON");
    assert_keys_documented("info --json", &info);
    assert!(!info["name"].as_str().unwrap().is_empty());
    assert!(info["limits"]["max_storage_buffer_binding_size"].as_u64().unwrap() > 0);
}

#[test]
fn bench_reports_gpu_and_reference_times_per_layer_and_module() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx");
    let svg = std::env::temp_dir().join(format!("googlenet-bench-{}.svg", std::process::id()));
    let out = googlenet(&["bench", "--model", model.to_str().unwrap(), "--iters", "2", "--cpu-iters", "1", "--serial", "--split-k", "--roofline", "--svg", svg.to_str().unwrap(), "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_keys_documented("bench --json", &report);
    for key in ["gpu_ms", "cpu_reference_ms", "end_to_end_ms", "serial_end_to_end_ms", "split_k_end_to_end_ms"] {
        let stats = &report[key];
        let (min, median, max) = (stats["min"].as_f64().unwrap(), stats["median"].as_f64().unwrap(), stats["max"].as_f64().unwrap());
        assert!(0.0 < min && min <= median && median <= max, "{key}: {stats}");
    }
    assert!(report["roofline_gflops"].as_f64().unwrap() > 0.0);
    let modules = report["modules"].as_array().unwrap();
    let names: Vec<&str> = modules.iter().map(|m| m["name"].as_str().unwrap()).collect();
    // The whole run: the stem, 9 modules, the two pools between them, the head.
    assert_eq!(names.len(), 13, "{names:?}");
    assert_eq!((names[0], names[12]), ("stem", "head"));
    assert_eq!(names.iter().filter(|n| n.starts_with("concat")).count(), 9, "the modules, by their Concat node: {names:?}");
    let layers = report["layers"].as_array().unwrap();
    assert!(layers.len() > 20);
    let [part_ms, layer_ms] = [modules, layers].map(|rows| rows.iter().map(|r| r["ms"].as_f64().unwrap()).sum::<f64>());
    assert!((part_ms - layer_ms).abs() <= 1e-6 * layer_ms.max(1.0), "the parts add up to the run: {part_ms} vs {layer_ms}");
    for row in layers.iter().chain(modules) {
        assert!(row["name"].is_string() && row["ms"].as_f64().unwrap() >= 0.0 && row["gflops"].is_number(), "{row}");
    }
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg") && chart.matches("<rect").count() >= 9, "one bar per module");
    std::fs::remove_file(&svg).unwrap();
}

#[test]
fn run_output_refuses_two_outputs_that_map_to_one_file_before_running() {
    let dir = std::env::temp_dir().join(format!("googlenet-cli-{}-outputs", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // x [N, 4]: its softmax, then two more outputs named `extras`.
    let run = |extras: [&str; 2]| {
        let nodes = vec![
            tiny_onnx::node("Softmax", &["x"], &["prob"], vec![]),
            tiny_onnx::node("Relu", &["x"], &[extras[0]], vec![]),
            tiny_onnx::node("Identity", &["x"], &[extras[1]], vec![]),
        ];
        let model = dir.join("model.onnx");
        std::fs::write(&model, tiny_onnx::model_bytes(13, &[4], nodes, vec![], &["prob", extras[0], extras[1]])).unwrap();
        googlenet(&["run", "--model", model.to_str().unwrap(), "--batch", "2", "--output", dir.join("out.npy").to_str().unwrap()])
    };
    let out = run(["feat/a", "feat_a"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`feat/a` and `feat_a` would both be written to") && stderr.contains("out.feat_a.npy"), "{stderr}");
    assert!(!dir.join("out.npy").exists(), "refused before the run writes anything");

    let out = run(["feat/a", "feat_b"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Each in its own file: the ReLU's has no negatives, the identity's (of a symmetric batch) has.
    let [relu, identity] = ["out.feat_a.npy", "out.feat_b.npy"].map(|name| googlenet::npy::read_f32(&dir.join(name)).unwrap().data);
    assert!(relu.len() == 8 && identity.len() == 8);
    assert!(relu.iter().all(|&v| v >= 0.0) && identity.iter().any(|&v| v < 0.0), "{relu:?} {identity:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `.npy` file of float32 values with the given shape (version 1.0 header).
fn npy_file(name: &str, shape: &str, values: &[f32]) -> std::path::PathBuf {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    let path = std::env::temp_dir().join(format!("googlenet-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn an_input_npy_of_the_wrong_rank_or_an_empty_batch_is_an_error_naming_the_file() {
    for (name, shape, values) in [("scalar.npy", "()", vec![1.5]), ("empty.npy", "(0, 3, 224, 224)", vec![])] {
        let path = npy_file(name, shape, &values);
        let out = googlenet(&["run", "--no-check", "--input", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(name) && stderr.contains("the network takes [N, 3, 224, 224]"), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn an_input_npy_holding_nan_is_refused_not_run() {
    let mut values = vec![0.25f32; 3 * 224 * 224];
    values[1000] = f32::NAN;
    let path = npy_file("nan.npy", "(1, 3, 224, 224)", &values);
    let out = googlenet(&["run", "--input", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nan.npy") && stderr.contains("NaN at element 1000"), "{stderr}");
}

#[test]
fn a_synthetic_batch_past_what_host_memory_holds_is_refused_before_allocating() {
    for batch in ["100000000000", "18446744073709551615"] {
        let out = googlenet(&["run", "--no-check", "--batch", batch]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "a usage error: {stderr}");
        assert!(stderr.contains("--batch") && !stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn verify_checks_a_users_model_module_by_module() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx");
    let out = googlenet(&["verify", "--model", model.to_str().unwrap(), "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["passed"], true);
    let names: Vec<&str> = report["network"]["values"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"prob_1") && names.len() > 5, "the zoo model's own values: {names:?}");
}

#[test]
fn a_short_soak_reports_throughput_and_level_memory() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx");
    let out = googlenet(&["soak", "--model", model.to_str().unwrap(), "--minutes", "0.2", "--threads", "2", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_keys_documented("soak --json", &report);
    assert!(report["images"].as_u64().unwrap() > 0 && report["images_per_s"].as_f64().unwrap() > 0.0, "{report}");
    let samples = report["samples"].as_array().unwrap();
    assert!(samples.len() >= 5, "{report}");
    assert!(samples.iter().all(|s| s["resident_bytes"].as_u64().unwrap() > 0), "resident memory is read on Linux: {report}");
    assert_eq!(report["passed"], true, "memory levels off after warm-up: {report}");
}

/// The binary on a machine with no adapter at all: the Vulkan backend only, with no driver.
fn googlenet_without_adapter(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_googlenet"))
        .args(args)
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/no_driver.json")
        .env("VK_DRIVER_FILES", "/nonexistent/no_driver.json")
        .output()
        .expect("the binary runs")
}

#[test]
fn with_no_adapter_run_and_classify_fall_back_to_the_cpu_reference_unless_a_gpu_is_required() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx");
    let model = model.to_str().unwrap();
    let out = googlenet_without_adapter(&["run", "--model", model, "--json"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(stderr.matches("running on the CPU reference").count(), 1, "one line says so: {stderr}");
    assert!(stderr.contains("--require-gpu") && stderr.contains("mesa-vulkan-drivers"), "and how to get a GPU path: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_keys_documented("run --json on the CPU reference", &report);
    assert_eq!(report["adapter"]["backend"], "CpuReference");
    assert_eq!(report["gpu_ms"], serde_json::Value::Null);
    assert_eq!(report["check"], serde_json::Value::Null);
    assert_eq!(report["images"][0]["top"].as_array().unwrap().len(), 5);

    // The same image through the GPU gives the same classes.
    let gpu = googlenet(&["run", "--model", model, "--json", "--no-check"]);
    let gpu: serde_json::Value = serde_json::from_slice(&gpu.stdout).unwrap();
    let classes = |r: &serde_json::Value| r["images"][0]["top"].as_array().unwrap().iter().map(|p| p["class"].as_u64().unwrap()).collect::<Vec<_>>();
    assert_eq!(classes(&report), classes(&gpu));

    let photo = std::env::temp_dir().join(format!("googlenet-cli-{}-fallback.png", std::process::id()));
    image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90])).save(&photo).unwrap();
    let out = googlenet_without_adapter(&["classify", "--model", model, "--json", photo.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_keys_documented("classify --json", &line);
    assert_eq!(line["top"].as_array().unwrap().len(), 5);

    for command in [vec!["run", "--model", model, "--require-gpu"], vec!["classify", "--require-gpu", photo.to_str().unwrap()]] {
        let out = googlenet_without_adapter(&command);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {stderr}");
        assert!(stderr.contains("no GPU adapter found") && !stderr.contains("CPU reference"), "{command:?}: {stderr}");
    }
    std::fs::remove_file(&photo).unwrap();
}

#[test]
fn tune_reports_every_plan_and_writes_its_cache() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx");
    // A folder of this user's only: a tuning cache in a folder others can write is refused.
    let folder = std::env::temp_dir().join(format!("googlenet-cli-{}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&folder).unwrap();
    let cache = folder.join("tune.json");
    let out = googlenet(&["tune", "--model", model.to_str().unwrap(), "--iters", "1", "--cache", cache.to_str().unwrap(), "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_keys_documented("tune --json", &report);
    assert!(!report["plans"].as_array().unwrap().is_empty() && !report["dispatches"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!(report["cache"], cache.to_str().unwrap());
    assert!(cache.is_file());
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn plan_shows_the_gpu_and_the_cpu_plan_on_any_machine() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/family/inception_v3_modules.onnx");
    let mut plans = Vec::new();
    for target in ["gpu", "cpu"] {
        let out = googlenet(&["plan", "--model", model.to_str().unwrap(), "--for", target, "--json"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "plan --for {target}: {}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_keys_documented("plan --json", &report);
        let modules = report["modules"].as_array().unwrap();
        assert_eq!(modules.len(), 4, "{report}");
        for module in modules {
            let [waves, critical] = ["waves", "critical_path"].map(|k| module[k].as_u64().unwrap());
            assert!(critical >= 1 && waves >= critical, "{module}");
        }
        plans.push(report);
        let text = googlenet(&["plan", "--model", model.to_str().unwrap(), "--for", target]);
        let first = String::from_utf8_lossy(&text.stdout).lines().next().unwrap_or_default().to_string();
        assert!(first.starts_with("batch 1: ") && first.contains(" dispatches in ") && first.contains(" waves; "), "{first}");
    }
    // The CPU-like plan runs 3x3 convs by Winograd and pools apart: more dispatches.
    assert!(plans[1]["dispatches"].as_u64() > plans[0]["dispatches"].as_u64(), "gpu {} cpu {}", plans[0], plans[1]);
    let out = googlenet(&["plan", "--for", "tpu"]);
    assert_eq!(out.status.code(), Some(2), "an unknown kind is a usage error");
}
