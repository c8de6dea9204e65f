//! Shapes and sizes past the device's limits are refused with errors that say what and where.

mod common;

use googlenet::gpu::{run_once, storage_buffer};
use googlenet::ops::{Conv2d, FullyConnected, Kernel};
use googlenet::Error;

#[test]
fn a_buffer_over_the_binding_limit_is_refused_before_allocation() {
    let (gpu, _) = common::gpu();
    let floats = gpu.limits.max_storage_buffer_binding_size as usize / 4 + 1;
    let data = vec![0.0f32; floats];
    match storage_buffer(gpu, "too big", &data) {
        Err(Error::OverLimit { what, limit_name, .. }) => {
            assert!(what.contains("too big"));
            assert_eq!(limit_name, "max_storage_buffer_binding_size");
        }
        other => panic!("expected an over-limit error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_grid_over_the_dispatch_limit_is_refused() {
    let (gpu, kernels) = common::gpu();
    let fc = FullyConnected::new(1, 1, gpu.limits.max_compute_workgroups_per_dimension as usize + 1);
    let inputs: Vec<Vec<f32>> = fc.input_lens().into_iter().map(|n| vec![0.0; n]).collect();
    let refs: Vec<&[f32]> = inputs.iter().map(Vec::as_slice).collect();
    let output = vec![0.0; fc.output_lens()[0]];
    let err = run_once(gpu, kernels, &fc.launch(), &refs, &[&output]).unwrap_err();
    assert!(matches!(err, Error::OverLimit { limit_name: "max_compute_workgroups_per_dimension", .. }), "{err}");
}

#[test]
fn shapes_that_do_not_fit_are_refused() {
    let too_small = Conv2d::simple(1, 3, 2, 2, 4, 5, 1, 0);
    assert!(too_small.check().unwrap_err().to_string().contains("larger than the padded input"));
    let mut outside = Conv2d::simple(1, 3, 8, 8, 4, 3, 1, 1);
    outside.output.offset = 2;
    assert!(outside.check().unwrap_err().to_string().contains("do not fit"));
}

#[test]
fn a_batch_too_large_for_the_device_is_refused_by_name() {
    use googlenet::engine::Engine;
    use googlenet::models::googlenet::{googlenet, Options};
    use googlenet::plan::{Plan, PlanOptions};
    let (gpu, pipelines) = common::gpu();
    // conv1's output (64 x 112 x 112 floats per image) alone outgrows one binding at this batch.
    let per_image = 64 * 112 * 112 * 4;
    let batch = gpu.limits.max_storage_buffer_binding_size as usize / per_image + 1;
    let plan = Plan::build(&googlenet(Options::default()), batch, &PlanOptions::default()).unwrap();
    let err = Engine::new(gpu, pipelines, plan).err().expect("refused").to_string();
    assert!(err.contains(&format!("at batch {batch}")) && err.contains("max_storage_buffer_binding_size"), "{err}");
}

#[test]
fn the_whole_network_runs_within_webgpu_default_limits() {
    use googlenet::gpu::{AdapterChoice, LimitsChoice};
    let choice = AdapterChoice { limits: LimitsChoice::WebGpuDefaults, ..AdapterChoice::from_env().unwrap() };
    let session = googlenet::Session::builder().adapter(choice).aux(true).without_tune_cache().build().unwrap();
    let limits = &session.gpu().unwrap().limits;
    assert_eq!(limits.max_storage_buffers_per_shader_stage, 8);
    assert_eq!(limits.max_storage_buffer_binding_size, 128 << 20);
    assert_eq!(limits.max_compute_workgroup_storage_size, 16 << 10);
    assert_eq!(limits.max_compute_invocations_per_workgroup, 256);
    let input = googlenet::Tensor::new(vec![2, 3, 224, 224], googlenet::rng::Rng::new(11).symmetric_vec(2 * 3 * 224 * 224));
    let outputs = session.run(&input).unwrap();
    let reference = googlenet::reference::run_reference(session.graph(), &input).unwrap();
    for (name, value) in outputs.iter() {
        let check = googlenet::verify::check_value(name, value, &reference[name], googlenet::verify::NETWORK_RTOL);
        assert!(check.passed, "{name}: max abs err {:e}", check.max_abs_err);
    }
    assert_eq!(outputs.names().count(), 3, "the main output and both auxiliary heads");
}
