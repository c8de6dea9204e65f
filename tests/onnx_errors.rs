//! Broken ONNX files get errors that name the file and the place, never a panic.

use std::path::{Path, PathBuf};

use googlenet::onnx::import::{import_onnx, import_onnx_bytes};
use googlenet::onnx::proto::{AttributeProto, ModelProto, StringStringEntryProto, EXTERNAL};
use prost::Message;

#[path = "common/tiny_onnx.rs"]
mod tiny_onnx;

fn zoo_model() -> ModelProto {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx")).unwrap();
    ModelProto::decode(bytes.as_slice()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("googlenet-onnx-errors-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("model.onnx")
}

/// Imports `model` after `edit`; returns the error's text.
fn import_error(name: &str, edit: impl FnOnce(&mut ModelProto)) -> String {
    let mut model = zoo_model();
    edit(&mut model);
    let path = scratch(name);
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    import_onnx(&path).expect_err("the model must be refused").to_string()
}

#[test]
fn truncated_and_corrupt_files_are_refused() {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx")).unwrap();
    let path = scratch("truncated");
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let error = import_onnx(&path).err().unwrap().to_string();
    assert!(error.contains("model.onnx") && error.contains("not a valid ONNX model"), "{error}");
    std::fs::write(&path, b"\x08\x96\x01 not protobuf at all \xff\xff\xff").unwrap();
    assert!(import_onnx(&path).err().unwrap().to_string().contains("not a valid ONNX model"));
}

#[test]
fn an_unknown_operator_is_named() {
    let error = import_error("op", |m| m.graph.as_mut().unwrap().node[3].op_type = "Frobnicate".into());
    assert!(error.contains("unsupported") && error.contains("operator `Frobnicate`"), "{error}");
}

#[test]
fn an_unknown_attribute_value_is_named() {
    let error = import_error("attr", |m| {
        let conv = m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.op_type == "Conv").unwrap();
        conv.attribute.push(AttributeProto { name: "auto_pad".into(), s: b"SOMETIMES".to_vec(), r#type: 3, ..Default::default() });
    });
    assert!(error.contains("`auto_pad` = \"SOMETIMES\""), "{error}");
}

#[test]
fn wrong_element_types_and_sizes_are_refused() {
    let error = import_error("dtype", |m| m.graph.as_mut().unwrap().initializer[0].data_type = 11);
    assert!(error.contains("DOUBLE") && error.contains("only FLOAT"), "{error}");
    let error = import_error("bytes", |m| {
        let init = &mut m.graph.as_mut().unwrap().initializer[0];
        let len = init.raw_data.len();
        init.raw_data.truncate(len - 4);
    });
    assert!(error.contains("bytes but dims"), "{error}");
}

#[test]
fn absurd_dimensions_are_refused_before_allocating() {
    let error = import_error("dims", |m| m.graph.as_mut().unwrap().initializer[0].dims = vec![1 << 20, 1 << 20, 1 << 10]);
    assert!(error.contains("over the limit"), "{error}");
}

#[test]
fn shapes_that_do_not_fit_name_the_node() {
    let error = import_error("shape", |m| {
        let graph = m.graph.as_mut().unwrap();
        let conv = graph.node.iter().find(|n| n.op_type == "Conv").unwrap().clone();
        let weight = graph.initializer.iter_mut().find(|i| i.name == conv.input[1]).unwrap();
        weight.dims[1] += 1;
        weight.raw_data.extend(vec![0; (weight.dims[0] * weight.dims[2] * weight.dims[3] * 4) as usize]);
    });
    assert!(error.contains("Conv") && error.contains("input channels"), "{error}");
}

#[test]
fn external_data_is_read_beside_the_model_and_its_absence_named() {
    let mut model = zoo_model();
    let graph = model.graph.as_mut().unwrap();
    let init = graph.initializer.iter_mut().find(|i| i.raw_data.len() > 1000).unwrap();
    let data = std::mem::take(&mut init.raw_data);
    init.data_location = EXTERNAL;
    init.external_data = vec![
        StringStringEntryProto { key: "location".into(), value: "weights.bin".into() },
        StringStringEntryProto { key: "offset".into(), value: "16".into() },
        StringStringEntryProto { key: "length".into(), value: data.len().to_string() },
    ];
    let path = scratch("external");
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    let error = import_onnx(&path).err().unwrap();
    assert_eq!(error.kind(), googlenet::ErrorKind::ExternalData, "{error}");
    assert!(error.to_string().contains("weights.bin") && error.to_string().contains("external data of"), "{error}");
    let mut file = vec![0u8; 16];
    file.extend(&data);
    std::fs::write(path.with_file_name("weights.bin"), file).unwrap();
    let graph = import_onnx(&path).expect("imports with its external data");
    assert_eq!(graph.nodes.len(), import_onnx(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx")).unwrap().nodes.len());
}

#[test]
fn a_softmax_over_the_batch_is_refused_even_where_that_axis_has_length_one() {
    // Softmax of x = [N, features...] at `opset` along `axis` (the opset's default if None).
    let softmax = |opset: i64, item: &[i64], axis: Option<i64>| {
        let attributes = axis.map(|a| vec![tiny_onnx::int_attribute("axis", a)]).unwrap_or_default();
        import_onnx_bytes(&tiny_onnx::model_bytes(opset, item, vec![tiny_onnx::node("Softmax", &["x"], &["prob"], attributes)], vec![], &["prob"]))
    };
    for (opset, item) in [(13, &[10][..]), (13, &[1]), (11, &[10]), (11, &[1]), (11, &[1, 1, 1])] {
        for axis in [0, -(item.len() as i64) - 1] {
            let error = softmax(opset, item, Some(axis)).expect_err("a softmax across the batch must be refused");
            assert_eq!(error.kind(), googlenet::ErrorKind::Unsupported, "{error}");
            assert!(error.to_string().contains("Softmax node `prob`") && error.to_string().contains("along axis 0"), "{error}");
        }
    }
    // Along the features, the engine's softmax is the one the file asks for.
    for (opset, item, axis) in [(13, &[10][..], None), (13, &[10], Some(1)), (11, &[10, 1, 1], None), (13, &[1], None)] {
        softmax(opset, item, axis).unwrap_or_else(|e| panic!("opset {opset} {item:?} axis {axis:?}: {e}"));
    }
}

/// The family's ops refuse what they cannot compute exactly, with an error that names the node
/// and says what: never a panic, a GPU validation error or a silently wrong answer.
#[test]
fn the_family_ops_refuse_what_they_cannot_compute() {
    use tiny_onnx::{float_tensor, int_attribute, int_tensor, ints_attribute, model_bytes, node};
    let conv_w = float_tensor("w", &[6, 2, 1, 1], &[0.5; 12]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "division by a zero constant",
            model_bytes(13, &[4, 5, 5], vec![node("Div", &["x", "zero"], &["y"], vec![])], vec![float_tensor("zero", &[1], &[0.0])], &["y"]),
            "scale holds inf",
        ),
        (
            "a constant varying along the width",
            model_bytes(13, &[4, 5, 5], vec![node("Mul", &["x", "c"], &["y"], vec![])], vec![float_tensor("c", &[5], &[1.0, 2.0, 3.0, 4.0, 5.0])], &["y"]),
            "only a scalar or one value per channel",
        ),
        ("two activations multiplied", model_bytes(13, &[4, 5, 5], vec![node("Mul", &["x", "x"], &["y"], vec![])], vec![], &["y"]), "Mul of two activations"),
        (
            "a constant divided by an activation",
            model_bytes(13, &[4, 5, 5], vec![node("Div", &["c", "x"], &["y"], vec![])], vec![float_tensor("c", &[1], &[2.0])], &["y"]),
            "Div of a constant by an activation",
        ),
        (
            "an Unsqueeze of the batch axis",
            model_bytes(13, &[4, 5, 5], vec![node("Unsqueeze", &["x", "axes"], &["y"], vec![])], vec![int_tensor("axes", &[0])], &["y"]),
            "batch axis",
        ),
        (
            "a ReduceMean over channels",
            model_bytes(13, &[4, 5, 5], vec![node("ReduceMean", &["x"], &["y"], vec![ints_attribute("axes", &[1])])], vec![], &["y"]),
            "only over H and W",
        ),
        (
            "a group that does not divide the channels",
            model_bytes(13, &[4, 5, 5], vec![node("Conv", &["x", "w"], &["y"], vec![int_attribute("group", 3)])], vec![conv_w.clone()], &["y"]),
            "`group` = 3",
        ),
        (
            "a group past the channels",
            model_bytes(13, &[4, 5, 5], vec![node("Conv", &["x", "w"], &["y"], vec![int_attribute("group", 9)])], vec![conv_w.clone()], &["y"]),
            "outside 1..=4",
        ),
        (
            "a channel split transposed another way",
            model_bytes(
                13,
                &[4, 5, 5],
                vec![node("Reshape", &["x", "split"], &["s"], vec![]), node("Transpose", &["s"], &["t"], vec![ints_attribute("perm", &[0, 1, 2, 4, 3])])],
                vec![int_tensor("split", &[1, 2, 2, 5, 5])],
                &["t"],
            ),
            "only a channel shuffle's",
        ),
        (
            "a Sum of values of two shapes",
            model_bytes(
                13,
                &[4, 5, 5],
                vec![node("MaxPool", &["x"], &["p"], vec![ints_attribute("kernel_shape", &[2, 2])]), node("Sum", &["x", "p"], &["y"], vec![])],
                vec![],
                &["y"],
            ),
            "only of one shape",
        ),
    ];
    for (what, bytes, words) in cases {
        let checked = import_onnx_bytes(&bytes).and_then(|g| g.check_finite().and_then(|_| googlenet::graph::infer_shapes(&g, 2)));
        let error = checked.err().unwrap_or_else(|| panic!("{what}: accepted")).to_string();
        assert!(error.contains(words), "{what}: {error}");
    }
}
