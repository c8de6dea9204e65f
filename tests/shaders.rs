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
        validator.subgroup_stages(ShaderStages::COMPUTE).subgroup_operations(SubgroupOperationSet::BASIC | SubgroupOperationSet::BALLOT);
    }
    validator
        .validate(&module)
        .map_err(|e| e.emit_to_string(source))?;
    Ok(())
}

#[test]
fn every_kernel_module_validates() {
    for id in KernelId::ALL {
        if let Err(e) = validate(&id.source(), id.subgroup_width().is_some()) {
            panic!("kernel {id:?} ({}) does not validate:\n{e}", id.files().join(" + "));
        }
    }
}

#[test]
fn every_kernel_has_its_entry_point() {
    for id in KernelId::ALL {
        let module = naga::front::wgsl::parse_str(&id.source()).expect("parses");
        assert!(
            module.entry_points.iter().any(|e| e.name == id.entry_point() && e.stage == naga::ShaderStage::Compute),
            "kernel {id:?} has no compute entry point `{}`",
            id.entry_point()
        );
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
        assert!(KernelId::ALL.iter().any(|id| id.files().contains(name)), "{name} is in no kernel");
    }
}

#[test]
fn a_broken_shader_is_rejected() {
    // The validator itself must catch errors, or the tests above prove nothing.
    assert!(validate("@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }", false).is_err());
}
