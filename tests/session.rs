//! The front door: `Session` opens every model kind, runs any batch (split at the device's
//! limits into sub-batches whose results equal batch-1 results), and is correct when many
//! threads share it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use googlenet::models::googlenet::{AUX_OUTPUTS, OUTPUT};
use googlenet::plan::PlanOptions;
use googlenet::rng::Rng;
use googlenet::{Error, Preprocess, Session, Tensor};

#[path = "common/tiny_onnx.rs"]
mod tiny_onnx;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// The small model-zoo-style GoogLeNet (every channel count divided by 8): quick to run.
fn small_session() -> googlenet::SessionBuilder {
    Session::builder().model_file(data("googlenet_zoo.onnx")).without_tune_cache()
}

fn images(batch: usize, seed: u64) -> Tensor {
    Tensor::new(vec![batch, 3, 224, 224], Rng::new(seed).symmetric_vec(batch * 3 * 224 * 224))
}

/// Image `i` of a batch as a batch of one.
fn image_of(batch: &Tensor, i: usize) -> Tensor {
    let size = 3 * 224 * 224;
    Tensor::new(vec![1, 3, 224, 224], batch.data[i * size..(i + 1) * size].to_vec())
}

#[test]
fn a_session_is_send_sync_and_static() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Session>();
}

#[test]
fn the_builtin_net_outputs_prob_and_with_aux_heads_its_auxiliary_outputs() {
    let input = images(1, 1);
    let plain = Session::builder().without_tune_cache().build().unwrap();
    let outputs = plain.run(&input).unwrap();
    assert_eq!(outputs.names().collect::<Vec<_>>(), [OUTPUT]);
    assert_eq!(outputs.main().dims, [1, 1000]);
    assert!((outputs.main().data.iter().sum::<f32>() - 1.0).abs() < 1e-4, "prob is a distribution");
    assert!(outputs.get(AUX_OUTPUTS[0]).is_none());

    let with_aux = Session::builder().aux(true).without_tune_cache().build().unwrap();
    let outputs_aux = with_aux.run(&input).unwrap();
    assert_eq!(outputs_aux.names().collect::<Vec<_>>(), [OUTPUT, AUX_OUTPUTS[0], AUX_OUTPUTS[1]]);
    assert_eq!(outputs_aux.get("loss1/prob").unwrap().dims, [1, 1000]);
    // The heads are extra outputs: the main one is what it is without them.
    assert_eq!(outputs_aux.main(), outputs.main());
}

#[test]
fn each_model_kind_gives_what_the_model_outputs_and_its_own_preprocessing() {
    let onnx = small_session().build().unwrap();
    assert_eq!(onnx.preprocess(), Preprocess::Caffe);
    assert!(onnx.outputs_probabilities());
    let dict = Session::builder().model_file(data("googlenet_torchvision.safetensors")).without_tune_cache().build().unwrap();
    assert_eq!(dict.preprocess(), Preprocess::Torchvision);
    assert!(!dict.outputs_probabilities(), "a torchvision state dict gives logits");
    let logits = dict.run(&images(1, 2)).unwrap();
    assert_eq!(logits.names().collect::<Vec<_>>(), ["fc"]);
    assert!((logits.main().data.iter().sum::<f32>() - 1.0).abs() > 1e-2, "logits, not probabilities");
    // The same state dict from its bytes, with the preprocessing overridden.
    let bytes = std::fs::read(data("googlenet_torchvision.safetensors")).unwrap();
    let from_bytes = Session::builder()
        .model(googlenet::ModelSource::SafetensorsBytes(bytes))
        .preprocess(Preprocess::Inception)
        .without_tune_cache()
        .build()
        .unwrap();
    assert_eq!(from_bytes.preprocess(), Preprocess::Inception);
    assert_eq!(from_bytes.run(&images(1, 2)).unwrap(), logits);
}

#[test]
fn classify_ranks_softmax_probabilities_of_a_logit_model() {
    let session = Session::builder().model_file(data("googlenet_torchvision.safetensors")).without_tune_cache().build().unwrap();
    let picture = image::RgbImage::from_fn(300, 257, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8]));
    let photos = [image::DynamicImage::ImageRgb8(picture.clone()), image::DynamicImage::ImageRgb8(image::imageops::flip_horizontal(&picture))];
    let top = session.classify(&photos, 5).unwrap();
    assert_eq!(top.len(), 2);
    for row in &top {
        assert_eq!(row.len(), 5);
        assert!(row.windows(2).all(|w| w[0].probability >= w[1].probability));
        assert!(row.iter().all(|p| p.probability > 0.0 && p.probability < 1.0));
        assert_eq!(row[0].label, googlenet::labels::class_name(row[0].class));
    }
    // The first image alone ranks the same, with the same probabilities.
    assert_eq!(session.classify(&photos[..1], 5).unwrap()[0], top[0]);
    assert!(session.classify(&[], 5).unwrap().is_empty());
}

#[test]
fn classify_feeds_images_at_the_models_own_size_and_its_preprocessing() {
    let open = |height: i64, width: i64| {
        Session::builder().model(googlenet::ModelSource::OnnxBytes(tiny_onnx::image_classifier(height, width))).without_tune_cache().build().unwrap()
    };
    let picture = image::RgbImage::from_fn(410, 360, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8]));
    let photos = [image::DynamicImage::ImageRgb8(picture.clone()), image::DynamicImage::ImageRgb8(image::imageops::flip_vertical(&picture))];
    // 299x299 is torchvision's and timm's Inceptions: [-1, 1] unless told otherwise; any other
    // size of an ONNX file keeps the zoo's Caffe preprocessing.
    for (session, preprocess) in [(open(299, 299), Preprocess::Inception), (open(97, 131), Preprocess::Caffe)] {
        let [height, width] = session.image_size().unwrap();
        assert_eq!(session.input_chw(), [3, height, width]);
        assert_eq!(session.preprocess(), preprocess);
        let top = session.classify(&photos, 3).unwrap();
        // The same as running the images preprocessed at the model's size by hand.
        let mut data = Vec::new();
        for photo in &photos {
            data.extend(googlenet::preprocess::image_tensor(photo, preprocess, [height, width]).unwrap().data);
        }
        let outputs = session.run(&Tensor::new(vec![2, 3, height, width], data)).unwrap();
        assert_eq!(top, session.predictions(&outputs, 3).unwrap());
        assert_ne!(top[0], top[1], "the two photos differ: {top:?}");
    }
    let told = Session::builder().model(googlenet::ModelSource::OnnxBytes(tiny_onnx::image_classifier(299, 299))).preprocess(Preprocess::Caffe).without_tune_cache().build().unwrap();
    assert_eq!(told.preprocess(), Preprocess::Caffe);
    // A model whose input is not 3 channels cannot take an image.
    let gray = tiny_onnx::model_bytes(13, &[1, 8, 8], vec![tiny_onnx::node("GlobalAveragePool", &["x"], &["pool"], vec![])], vec![], &["pool"]);
    let gray = Session::builder().model(googlenet::ModelSource::OnnxBytes(gray)).without_tune_cache().build().unwrap();
    let err = gray.classify(&photos, 1).unwrap_err().to_string();
    assert!(err.contains("[1, 8, 8]") && err.contains("3 channels"), "{err}");
}

#[test]
fn a_conv_head_output_of_rank_4_is_ranked_as_classes() {
    // SqueezeNet's and DenseNet's heads end in a pool: [N, 10, 1, 1], logits.
    let session = Session::builder().model_file(data("family/squeeze_head.onnx")).without_tune_cache().build().unwrap();
    let input = googlenet::npy::read_f32(&data("family/squeeze_head.input.npy")).unwrap();
    let expected = googlenet::npy::read_f32(&data("family/squeeze_head.expected.npy")).unwrap();
    let outputs = session.run(&input).unwrap();
    assert_eq!(outputs.main().dims, [2, 10, 1, 1]);
    assert_eq!(outputs.main_classes(), Some(10));
    let top = session.predictions(&outputs, 10).unwrap();
    for (row, scores) in top.iter().zip(expected.data.chunks(10)) {
        // onnxruntime's scores through a softmax, in the same order.
        let sum: f32 = scores.iter().map(|s| s.exp()).sum();
        assert!(row.windows(2).all(|w| scores[w[0].class] >= scores[w[1].class]), "{row:?} against {scores:?}");
        for p in row {
            assert!((p.probability - scores[p.class].exp() / sum).abs() < 1e-5, "class {}: {} against {scores:?}", p.class, p.probability);
        }
    }
}

#[test]
fn a_softmax_followed_by_nodes_that_do_not_change_values_is_not_applied_twice() {
    // x [N, 5] -> `head` -> Identity -> Flatten -> Dropout -> Reshape to [N, 5] -> Unsqueeze to
    // [N, 5, 1, 1] -> Squeeze back to [N, 5].
    let session = |head: &str| {
        let nodes = vec![
            tiny_onnx::node(head, &["x"], &["head"], vec![]),
            tiny_onnx::node("Identity", &["head"], &["same"], vec![]),
            tiny_onnx::node("Flatten", &["same"], &["flat"], vec![]),
            tiny_onnx::node("Dropout", &["flat"], &["kept"], vec![]),
            tiny_onnx::node("Reshape", &["kept", "rows"], &["reshaped"], vec![]),
            tiny_onnx::node("Unsqueeze", &["reshaped", "unit_axes"], &["image"], vec![]),
            tiny_onnx::node("Squeeze", &["image", "unit_axes"], &["scores"], vec![]),
        ];
        let constants = vec![tiny_onnx::int_tensor("rows", &[0, -1]), tiny_onnx::int_tensor("unit_axes", &[2, 3])];
        let bytes = tiny_onnx::model_bytes(13, &[5], nodes, constants, &["scores"]);
        Session::builder().model(googlenet::models::ModelSource::OnnxBytes(bytes)).without_tune_cache().build().unwrap()
    };
    let input = Tensor::new(vec![2, 5, 1, 1], vec![4.0, 1.0, 0.0, -1.0, 2.0, 0.5, 0.5, 3.0, -2.0, 0.0]);

    let probabilities = session("Softmax");
    assert!(probabilities.outputs_probabilities());
    let outputs = probabilities.run(&input).unwrap();
    let top = probabilities.predictions(&outputs, 5).unwrap();
    for (row, scores) in top.iter().zip(outputs.main().data.chunks(5)) {
        // Each probability is the model's own score for its class, not a softmax of the scores.
        assert!(row.iter().all(|p| p.probability == scores[p.class]), "{row:?} against {scores:?}");
    }
    assert_eq!(top[0][0].class, 0);
    assert_eq!(top[1][0].class, 2);

    let logits = session("Relu");
    assert!(!logits.outputs_probabilities());
    let top = logits.predictions(&logits.run(&input).unwrap(), 1).unwrap();
    // Logits get the softmax: image 0's ReLU'd scores are [4, 1, 0, 0, 2].
    let expected = 4f32.exp() / [4f32, 1.0, 0.0, 0.0, 2.0].iter().map(|v| v.exp()).sum::<f32>();
    assert!((top[0][0].probability - expected).abs() < 1e-6, "{} against {expected}", top[0][0].probability);
}

#[test]
fn a_wrong_input_is_refused_naming_what_the_network_takes() {
    let session = small_session().build().unwrap();
    for input in [
        Tensor { dims: vec![1, 3, 224, 224], data: vec![0.0; 5] },
        Tensor { dims: vec![0, 3, 224, 224], data: vec![] },
        Tensor { dims: vec![1, 1, 224, 224], data: vec![0.0; 224 * 224] },
        Tensor { dims: vec![3, 224, 224], data: vec![0.0; 3 * 224 * 224] },
    ] {
        let err = session.run(&input).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err}");
    }
}

#[test]
fn an_option_the_model_has_no_use_for_is_an_error() {
    let err = Session::builder().model_file(data("googlenet_zoo.onnx")).aux(true).build().err().expect("refused").to_string();
    assert!(err.contains("aux"), "{err}");
    let err = Session::builder().model_file(data("googlenet_zoo.onnx")).transform_input(true).build().err().expect("refused").to_string();
    assert!(err.contains("transform_input"), "{err}");
}

#[test]
fn a_batch_past_the_buffer_limit_runs_as_sub_batches_with_batch_one_results() {
    // Cap every buffer at what two images need: five images must run as 2 + 2 + 1.
    let probe = small_session().build().unwrap();
    let two = probe.plan(2, &PlanOptions::default()).unwrap();
    let cap = *two.buffer_sizes.iter().max().unwrap() as u64 * 4;
    let session = small_session().max_buffer_bytes(cap).build().unwrap();
    assert_eq!(session.split(5).unwrap(), [2, 2, 1]);
    assert_eq!(session.split(2).unwrap(), [2]);
    let batch = images(5, 3);
    let whole = session.run(&batch).unwrap();
    assert_eq!(whole.main().dims, [5, probe.run(&image_of(&batch, 0)).unwrap().main().dims[1]]);
    let classes = whole.main().dims[1];
    for i in 0..5 {
        let alone = session.run(&image_of(&batch, i)).unwrap();
        assert_eq!(&whole.main().data[i * classes..(i + 1) * classes], alone.main().data.as_slice(), "image {i}");
    }
    // Without the cap the same batch runs whole, to the same results within f32 rounding.
    let unsplit = probe.run(&batch).unwrap();
    for (a, b) in unsplit.main().data.iter().zip(&whole.main().data) {
        assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
    }
}

#[test]
fn max_batch_splits_and_a_cap_below_one_image_is_an_error() {
    let session = small_session().max_batch(3).build().unwrap();
    assert_eq!(session.split(7).unwrap(), [3, 3, 1]);
    let tiny = small_session().max_buffer_bytes(1024).build().unwrap();
    let err = tiny.run(&images(1, 4)).unwrap_err();
    assert!(matches!(err, Error::OverLimit { .. }), "{err}");
}

#[test]
fn threads_sharing_a_session_get_their_sequential_results_bit_for_bit() {
    const THREADS: usize = 4;
    const CALLS: usize = 3;
    let session = Arc::new(small_session().build().unwrap());
    let input = |thread: usize, call: usize| images(1 + (thread + call) % 2, (100 * thread + call) as u64);
    let expected: Vec<Vec<_>> = (0..THREADS).map(|t| (0..CALLS).map(|c| session.run(&input(t, c)).unwrap()).collect()).collect();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let session = Arc::clone(&session);
            std::thread::spawn(move || (0..CALLS).map(|c| session.run(&input(t, c)).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    for (t, handle) in handles.into_iter().enumerate() {
        let got = handle.join().unwrap();
        for (c, (got, expected)) in got.iter().zip(&expected[t]).enumerate() {
            assert!(got == expected, "thread {t}, call {c}: differs from the sequential run");
        }
    }
    let engine = session.engine(1).unwrap();
    assert!(engine.contexts() >= 1 && engine.contexts() <= googlenet::engine::DEFAULT_CONTEXTS, "{} contexts", engine.contexts());
}

#[test]
fn a_session_runs_on_an_applications_own_device() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default())).expect("an adapter");
    let (device, queue) = pollster::block_on(adapter.request_device(&Default::default())).expect("a device");
    let session = small_session().device(device, queue).build().unwrap();
    let own = session.run(&images(1, 5)).unwrap();
    let reference = small_session().build().unwrap();
    let theirs = reference.run(&images(1, 5)).unwrap();
    for (a, b) in own.main().data.iter().zip(&theirs.main().data) {
        assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
    }
}

/// The `pipelines-*.bin` files in `folder`.
fn pipeline_cache_files(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    entries.map(|e| e.unwrap().path()).filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("pipelines-")).collect()
}

#[test]
fn compiled_pipelines_are_kept_on_disk_and_a_damaged_cache_is_rewritten() {
    let folder = std::env::temp_dir().join(format!("googlenet-pipeline-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    let input = images(1, 5);
    let first = small_session().pipeline_cache_dir(&folder).build().unwrap();
    let expected = first.run(&input).unwrap();
    if !first.gpu().unwrap().features.contains(wgpu::Features::PIPELINE_CACHE) {
        assert!(first.pipelines().disk_cache().is_none());
        assert!(pipeline_cache_files(&folder).is_empty(), "no cache without PIPELINE_CACHE");
        eprintln!("not run: {} offers no PIPELINE_CACHE", first.gpu().unwrap().info.name);
        return;
    }
    let files = pipeline_cache_files(&folder);
    assert_eq!(files.len(), 1, "one file per adapter and driver: {files:?}");
    assert_eq!(first.pipelines().disk_cache().unwrap().path(), files[0]);
    let written = std::fs::read(&files[0]).unwrap();
    assert_eq!(&written[..8], b"GNETPLC1");

    // A second session reads it back and computes the same.
    let second = small_session().pipeline_cache_dir(&folder).build().unwrap();
    assert_eq!(second.run(&input).unwrap(), expected);

    // Damaged: ignored (the run is unaffected) and replaced by a whole file.
    std::fs::write(&files[0], &written[..written.len() / 2]).unwrap();
    let third = small_session().pipeline_cache_dir(&folder).build().unwrap();
    assert_eq!(third.run(&input).unwrap(), expected);
    let rewritten = std::fs::read(&files[0]).unwrap();
    assert_eq!(&rewritten[..8], b"GNETPLC1");
    assert!(rewritten.len() > written.len() / 2, "the damaged file was replaced");
    let _ = std::fs::remove_dir_all(&folder);
}

/// `profile` times every dispatch both where the adapter writes timestamps inside a pass and where
/// it writes them only at a pass's ends (all WebGPU offers: each dispatch then gets a pass), and
/// its outputs are the plain run's.
#[test]
fn profile_times_every_dispatch_with_timestamps_inside_passes_or_only_around_them() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default())).expect("an adapter");
    let inside = wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES;
    assert!(adapter.features().contains(inside), "{} writes no timestamps inside passes", adapter.get_info().name);
    let input = images(1, 9);
    for features in [inside, wgpu::Features::TIMESTAMP_QUERY] {
        let descriptor = wgpu::DeviceDescriptor { required_features: features, ..Default::default() };
        let (device, queue) = pollster::block_on(adapter.request_device(&descriptor)).expect("a device");
        let session = small_session().device(device, queue).build().unwrap();
        let engine = session.engine(1).unwrap();
        let profile = engine.profile(&input.data).unwrap();
        let ms = profile.dispatch_ms.unwrap_or_else(|| panic!("no times with {features:?}"));
        assert_eq!(ms.len(), engine.plan().dispatches.len(), "{features:?}");
        assert!(ms.iter().all(|t| t.is_finite() && *t >= 0.0) && ms.iter().sum::<f64>() > 0.0, "{features:?}: {ms:?}");
        assert_eq!(profile.outputs, engine.run(&input.data).unwrap(), "{features:?}");
    }
}
