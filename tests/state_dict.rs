//! torchvision state dicts: the auxiliary heads, and clear errors for files that do not fit.

mod common;

use std::path::{Path, PathBuf};

use googlenet::models::torchvision::{from_state_dict, AUX_OUTPUTS, OUTPUT};
use googlenet::npy;
use googlenet::rng::Rng;
use googlenet::state_dict::StateDict;
use googlenet::verify::check_network;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

fn test_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_torchvision.safetensors")
}

/// An f32 entry with seeded values in [lo, hi).
fn entry(name: &str, dims: Vec<usize>, rng: &mut Rng, lo: f32, hi: f32) -> (String, Dtype, Vec<usize>, Vec<u8>) {
    let count = dims.iter().product();
    let values: Vec<f32> = (0..count).map(|_| lo + (hi - lo) * (rng.symmetric() + 1.0) / 2.0).collect();
    (name.to_string(), Dtype::F32, dims, bytemuck::cast_slice(&values).to_vec())
}

/// torchvision's auxiliary heads (narrow, seeded) added to the test state dict: after 4a (64
/// channels at 1/8 width) and 4d (66 channels).
fn with_aux_heads(entries: &mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>) {
    let mut rng = Rng::new(77);
    for (name, channels) in [("aux1", 64), ("aux2", 66)] {
        let limit = (6.0 / channels as f32).sqrt();
        entries.push(entry(&format!("{name}.conv.conv.weight"), vec![16, channels, 1, 1], &mut rng, -limit, limit));
        for (param, lo, hi) in [("weight", 0.5, 1.5), ("bias", -0.2, 0.2), ("running_mean", -0.2, 0.2), ("running_var", 0.5, 1.5)] {
            entries.push(entry(&format!("{name}.conv.bn.{param}"), vec![16], &mut rng, lo, hi));
        }
        entries.push(entry(&format!("{name}.fc1.weight"), vec![32, 256], &mut rng, -0.15, 0.15));
        entries.push(entry(&format!("{name}.fc1.bias"), vec![32], &mut rng, -0.05, 0.05));
        entries.push(entry(&format!("{name}.fc2.weight"), vec![1000, 32], &mut rng, -0.4, 0.4));
        entries.push(entry(&format!("{name}.fc2.bias"), vec![1000], &mut rng, -0.05, 0.05));
    }
}

#[test]
fn auxiliary_heads_load_and_agree_with_the_reference() {
    let path = rewritten(with_aux_heads);
    let mut dict = StateDict::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let graph = from_state_dict(&mut dict, true).unwrap();
    assert_eq!(graph.outputs, [OUTPUT, AUX_OUTPUTS[0], AUX_OUTPUTS[1]]);
    let (gpu, pipelines) = common::gpu();
    let mut input = npy::read_f32(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/input.npy")).unwrap();
    input.dims[0] = 1;
    input.data.truncate(3 * 224 * 224);
    let check = check_network(gpu, pipelines, &graph, &input).unwrap();
    assert!(check.passed, "{check:#?}");
}

/// The test file rewritten by `edit`, which gets (name, dtype, shape, bytes) entries.
fn rewritten(edit: impl FnOnce(&mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>)) -> PathBuf {
    let bytes = std::fs::read(test_file()).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut entries: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> =
        file.tensors().into_iter().map(|(name, v)| (name, v.dtype(), v.shape().to_vec(), v.data().to_vec())).collect();
    edit(&mut entries);
    let views: Vec<(String, TensorView)> =
        entries.iter().map(|(name, dtype, shape, data)| (name.clone(), TensorView::new(*dtype, shape.clone(), data).unwrap())).collect();
    let path = std::env::temp_dir().join(format!("googlenet-{}-{}.safetensors", std::process::id(), rand_suffix()));
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    path
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn load_error(path: &Path) -> String {
    let result = StateDict::read(path).and_then(|mut dict| from_state_dict(&mut dict, false));
    std::fs::remove_file(path).unwrap();
    result.expect_err("the file must be refused").to_string()
}

#[test]
fn a_missing_tensor_is_named() {
    let path = rewritten(|e| e.retain(|(name, ..)| name != "inception4c.branch2.1.bn.running_var"));
    let error = load_error(&path);
    assert!(error.contains("missing tensor `inception4c.branch2.1.bn.running_var`"), "{error}");
}

#[test]
fn an_extra_tensor_is_named() {
    let path = rewritten(|e| e.push(("head.extra.weight".into(), Dtype::F32, vec![2], vec![0; 8])));
    let error = load_error(&path);
    assert!(error.contains("unexpected tensor `head.extra.weight` of shape [2]"), "{error}");
}

#[test]
fn a_mis_shaped_tensor_names_both_shapes() {
    let path = rewritten(|e| {
        let entry = e.iter_mut().find(|(name, ..)| name == "inception3b.branch3.1.conv.weight").unwrap();
        // The torchvision "5x5" branch is 3x3: a real 5x5 weight is refused.
        let [out, inp, _, _] = entry.2[..] else { panic!() };
        entry.2 = vec![out, inp, 5, 5];
        entry.3 = vec![0; out * inp * 25 * 4];
    });
    let error = load_error(&path);
    assert!(error.contains("tensor `inception3b.branch3.1.conv.weight` has shape"), "{error}");
    assert!(error.contains("5, 5]") && error.contains("3, 3]"), "{error}");
}

#[test]
fn half_precision_weights_are_refused_by_name() {
    let path = rewritten(|e| {
        let entry = e.iter_mut().find(|(name, ..)| name == "fc.bias").unwrap();
        entry.1 = Dtype::F16;
        entry.3.truncate(entry.3.len() / 2);
    });
    let error = load_error(&path);
    assert!(error.contains("`fc.bias` is F16"), "{error}");
}

#[test]
fn a_truncated_file_is_refused() {
    let bytes = std::fs::read(test_file()).unwrap();
    let path = std::env::temp_dir().join(format!("googlenet-{}-truncated.safetensors", std::process::id()));
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let error = load_error(&path);
    assert!(error.contains("not a valid safetensors file"), "{error}");
}
