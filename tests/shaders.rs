//! Every WGSL file parses and validates with naga (no GPU needed), as part of the kernel
//! modules it is composed into, and no file in `shaders/` is left out of the build.

use googlenet::gpu::{KernelId, SHADER_FILES};

/// Validates with the default capabilities, plus subgroup operations in compute shaders for a
/// kernel written for subgroups.
fn validate(source: &str, subgroups: bool) -> Result<(), String> {
    use naga::valid::{Capabilities, ShaderStages, SubgroupOperationSet, ValidationFlags, Validator};
    let module = naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    let capabilities = if subgroups { Capabilities::default() | Capabilities::SUBGROUP } else { Capabilities::default() };
    let mut validator = Validator::new(ValidationFlags::all(), capabilities);
    if subgroups {
        validator.subgroup_stages(ShaderStages::COMPUTE).subgroup_operations(SubgroupOperationSet::BASIC | SubgroupOperationSet::BALLOT | SubgroupOperationSet::SHUFFLE);
    }
    validator
        .validate(&module)
        .map_err(|e| e.emit_to_string(source))?;
    Ok(())
}

#[test]
fn every_kernel_module_validates() {
    for id in KernelId::all() {
        if let Err(e) = validate(&id.source(), id.subgroup_width().is_some()) {
            panic!("kernel {id:?} ({}) does not validate:\n{e}", id.files().join(" + "));
        }
    }
}

#[test]
fn every_kernel_has_its_entry_point() {
    for id in KernelId::all() {
        let module = naga::front::wgsl::parse_str(&id.source()).expect("parses");
        assert!(
            module.entry_points.iter().any(|e| e.name == id.entry_point() && e.stage == naga::ShaderStage::Compute),
            "kernel {id:?} has no compute entry point `{}`",
            id.entry_point()
        );
    }
}

/// The decimal float literals of `source` (a digit run with a point or an exponent, not part
/// of a name or a hex literal).
fn float_literals(source: &str) -> Vec<&str> {
    let bytes = source.as_bytes();
    let mut literals = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let after_name = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if !bytes[i].is_ascii_digit() || after_name {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'e' || (matches!(bytes[i], b'+' | b'-') && bytes[i - 1] == b'e')) {
            i += 1;
        }
        let literal = &source[start..i];
        if literal.contains(['.', 'e']) {
            literals.push(literal);
        }
    }
    literals
}

/// naga rounds a literal past f32's range to the largest f32; Tint (Chromium's WebGPU) rejects
/// the shader, as the WGSL spec says it must.
#[test]
fn every_float_literal_is_a_finite_f32() {
    assert_eq!(float_literals("x1 = 2.5e3 + 0x1.8p1 + 7 + 1e-2;"), ["2.5e3", "1e-2"]);
    for (name, source) in SHADER_FILES {
        for literal in float_literals(source) {
            let value: f64 = literal.parse().unwrap_or_else(|e| panic!("{name}: `{literal}` is not a number: {e}"));
            assert!(value.abs() <= f32::MAX as f64, "{name}: `{literal}` is beyond the largest f32 ({:e})", f32::MAX);
        }
    }
}

#[test]
fn every_shader_file_is_embedded_and_used() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("shaders/ exists")
        .map(|e| e.expect("readable entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wgsl"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = SHADER_FILES.iter().map(|(name, _)| name.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "shaders/ and SHADER_FILES disagree");
    for (name, _) in SHADER_FILES {
        assert!(KernelId::all().iter().any(|id| id.files().contains(name)), "{name} is in no kernel");
    }
}

#[test]
fn a_broken_shader_is_rejected() {
    // The validator itself must catch errors, or the tests above prove nothing.
    assert!(validate("@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }", false).is_err());
}

/// The size naga lays out for the uniform at group 0, binding 0 of `source`: the parameter block
/// every kernel takes.
fn uniform_params_size(source: &str) -> u32 {
    let module = naga::front::wgsl::parse_str(source).expect("the kernel parses");
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).expect("the kernel's types lay out");
    let (_, params) = module
        .global_variables
        .iter()
        .find(|(_, v)| v.space == naga::AddressSpace::Uniform && v.binding.as_ref().is_some_and(|b| b.group == 0 && b.binding == 0))
        .expect("a uniform parameter block at group 0, binding 0");
    layouter[params.ty].size
}

#[test]
fn every_parameter_block_is_the_size_of_its_wgsl_twin() {
    // The Rust structs mirror WGSL structs by hand; a field added to one side only would shift
    // every field after it. Each kernel case's launch carries the Rust struct's bytes.
    let mut checked = std::collections::BTreeSet::new();
    for op in googlenet::verify::kernel_cases() {
        let launch = op.launch();
        if checked.insert(format!("{:?}", launch.kernel)) {
            let wgsl = uniform_params_size(&launch.kernel.source());
            assert_eq!(launch.params.len() as u32, wgsl, "{:?} ({}): Rust parameter block of {} bytes, WGSL's of {wgsl}", launch.kernel, op.kernel_name(), launch.params.len());
        }
    }
    // Every kernel the sweep reaches, the subgroup ones at every width.
    assert!(checked.len() >= 20, "only {} kernels checked: {checked:?}", checked.len());
}
