//! The `googlenet` binary as a user runs it.

use std::process::Command;

fn googlenet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_googlenet")).args(args).output().expect("the binary runs")
}

#[test]
fn verify_passes_every_case_and_reports_json() {
    let out = googlenet(&["verify", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "verify failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("verify --json prints JSON");
    let cases = report["cases"].as_array().expect("cases array");
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    assert_eq!(report["failed"], 0);
    for case in cases {
        assert_eq!(case["passed"], true, "{case}");
        assert!(case["max_abs_err"].as_f64().unwrap() <= case["tolerance"].as_f64().unwrap());
    }
    assert!(!report["adapter"].as_str().unwrap().is_empty());
}

#[test]
fn verify_prints_a_table() {
    let out = googlenet(&["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.starts_with("adapter: "));
    for kernel in ["conv kxk", "conv 1x1", "max pool", "avg pool", "lrn", "fully connected", "softmax", "copy slice"] {
        assert!(stdout.lines().any(|l| l.starts_with(kernel) && l.ends_with("pass")), "no passing {kernel} row");
    }
    assert!(stdout.contains(" passed, 0 failed"));
}

#[test]
fn info_names_the_adapter_and_limits() {
    let out = googlenet(&["info", "--json"]);
    assert!(out.status.success());
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).expect("info --json prints JSON");
    assert!(!info["name"].as_str().unwrap().is_empty());
    assert!(info["limits"]["max_storage_buffer_binding_size"].as_u64().unwrap() > 0);
}

#[test]
fn a_missing_adapter_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_googlenet"))
        .arg("info")
        .env("WGPU_ADAPTER_NAME", "no such adapter anywhere")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no GPU adapter found"), "{stderr}");
    assert!(stderr.contains("mesa-vulkan-drivers"), "{stderr}");
}
