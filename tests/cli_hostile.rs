//! The `googlenet` binary given hostile flags, file names, folders and output places: each gives a
//! clear error with the documented exit status, never a panic, and never work done in vain.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn googlenet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_googlenet"))
}

fn run(args: &[&str]) -> Output {
    googlenet().args(args).output().expect("the binary runs")
}

/// The small model-zoo-style GoogLeNet: quick to load and run.
fn small_model() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx").to_str().unwrap().to_string()
}

/// A fresh folder for one test's files.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("googlenet-cli-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn picture(path: &Path) {
    image::RgbImage::from_fn(48, 36, |x, y| image::Rgb([x as u8 * 5, y as u8 * 7, 60])).save_with_format(path, image::ImageFormat::Png).unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON lines of a run, parsed.
fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_gets_its_line_written_lossily() {
    use std::os::unix::ffi::OsStrExt;
    let dir = folder("utf8");
    let odd = dir.join(std::ffi::OsStr::from_bytes(b"b\xffd.png"));
    for path in [dir.join("a.png"), odd.clone(), dir.join("c.png")] {
        picture(&path);
    }
    let lines_file = dir.join("lines.jsonl");
    for output in [vec!["--json"], vec!["--json-lines", lines_file.to_str().unwrap()]] {
        let out = googlenet().arg("classify").args(["--model", &small_model()]).args(&output).arg(&dir).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{output:?}: {}", stderr(&out));
        let lines = json_lines(if output[0] == "--json" { out.stdout } else { std::fs::read(&lines_file).unwrap() }.as_slice());
        let paths: Vec<&str> = lines.iter().map(|l| l["path"].as_str().unwrap()).collect();
        let lossy = odd.to_string_lossy();
        assert_eq!(paths, [dir.join("a.png").to_str().unwrap(), &lossy, dir.join("c.png").to_str().unwrap()], "{output:?}");
        assert!(lossy.contains('\u{FFFD}'));
        assert!(lines.iter().all(|l| l["top"].as_array().unwrap().len() == 5), "{lines:?}");
        std::fs::remove_file(&lines_file).ok();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `args` with stdout on a full disk.
#[cfg(target_os = "linux")]
fn into_full_disk(args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    googlenet().args(args).stdout(full).output().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_to_stdout_is_an_error_and_a_closed_pipe_a_quiet_end() {
    let dir = folder("full");
    let photo = dir.join("photo.png");
    picture(&photo);
    let (model, photo) = (small_model(), photo.to_str().unwrap().to_string());
    let commands: [&[&str]; 8] = [
        &["info"],
        &["info", "--json"],
        &["plan", "--model", &model],
        &["run", "--model", &model, "--no-check"],
        &["run", "--model", &model, "--no-check", "--json"],
        &["classify", "--model", &model, &photo],
        &["classify", "--model", &model, "--json", &photo],
        &["bench", "--model", &model, "--iters", "1", "--cpu-iters", "0"],
    ];
    for args in commands {
        let out = into_full_disk(args);
        let stderr = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("error: stdout: cannot write the results") && stderr.contains("No space left"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // A reader that has gone: the process ends by SIGPIPE, saying nothing.
    let mut child = googlenet().args(["info", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The numeric flags, each with its command.
const NUMERIC_FLAGS: [(&str, &str); 12] = [
    ("run", "batch"),
    ("classify", "top"),
    ("classify", "batch"),
    ("bench", "batch"),
    ("bench", "iters"),
    ("bench", "cpu-iters"),
    ("tune", "batch"),
    ("tune", "iters"),
    ("plan", "batch"),
    ("soak", "minutes"),
    ("soak", "threads"),
    ("soak", "batch"),
];

/// The range `command --help` states for `--flag`: the first `A to B` of its help text.
fn stated_range(command: &str, flag: &str) -> (f64, f64) {
    let help = String::from_utf8(run(&[command, "--help"]).stdout).unwrap();
    let start = help.find(&format!("--{flag} <")).unwrap_or_else(|| panic!("{command} --help has no --{flag}"));
    let text = &help[start..];
    let text = &text[..text[2..].find("\n  -").map_or(text.len(), |end| end + 2)];
    let words: Vec<&str> = text.split_whitespace().map(|w| w.trim_end_matches([',', '.', ':', ';', ')'])).collect();
    words
        .windows(3)
        .find_map(|w| Some((w[0].parse().ok()?, w[2].parse().ok()?)).filter(|_| w[1] == "to"))
        .unwrap_or_else(|| panic!("{command} --{flag} states no range: {text}"))
}

fn refused_as_usage(args: &[&str], range: &str) {
    let out = run(args);
    let stderr = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(range), "{args:?} does not name the range {range:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn every_numeric_flag_has_its_stated_range_checked_when_parsed() {
    for (command, flag) in NUMERIC_FLAGS {
        let (min, max) = stated_range(command, flag);
        let range = format!("from {min} to {max}");
        let whole = min.fract() == 0.0 && max.fract() == 0.0;
        let (below, above) = if whole { ((min - 1.0).to_string(), (max + 1.0).to_string()) } else { ((min / 2.0).to_string(), (max * 2.0).to_string()) };
        for value in [below.as_str(), above.as_str(), "nan", "inf", "1e300", "18446744073709551615", "x"] {
            refused_as_usage(&[command, &format!("--{flag}"), value], &range);
        }
    }
    // Every flag whose help gives a number as its default is in the list above.
    for command in ["run", "classify", "bench", "tune", "plan", "soak", "verify", "info"] {
        let help = String::from_utf8(run(&[command, "--help"]).stdout).unwrap();
        for (at, _) in help.match_indices("[default: ") {
            let default = &help[at + 10..at + 10 + help[at + 10..].find(']').unwrap()];
            let flag = &help[..at].rsplit_once("\n      --").unwrap().1;
            let flag = flag.split_whitespace().next().unwrap();
            if default.parse::<f64>().is_ok() {
                assert!(NUMERIC_FLAGS.contains(&(command, flag)), "{command} --{flag} (default {default}) has no range test");
            }
        }
    }
    // The cases found by hand, each named.
    for args in [
        ["soak", "--minutes", "inf"],
        ["soak", "--minutes", "1e300"],
        ["soak", "--minutes", "-1"],
        ["soak", "--minutes", "nan"],
        ["soak", "--minutes", "0"],
        ["soak", "--threads", "100000"],
        ["bench", "--iters", "0"],
        ["bench", "--iters", "10000000000000"],
        ["bench", "--iters", "18446744073709551615"],
        ["tune", "--iters", "18446744073709551615"],
        ["plan", "--batch", "18446744073709551615"],
        ["bench", "--batch", "100000000000"],
        ["run", "--batch", "100000000000"],
    ] {
        refused_as_usage(&args, "from ");
    }
    refused_as_usage(&["classify", "--batch", "0", "photo.png"], "from 1 to ");
    refused_as_usage(&["classify", "--top", "0", "photo.png"], "from 1 to ");
}

#[cfg(unix)]
#[test]
fn broken_links_in_a_folder_are_errors_as_on_the_command_line() {
    let dir = folder("links");
    picture(&dir.join("good.png"));
    std::os::unix::fs::symlink(dir.join("gone.png"), dir.join("dangling.png")).unwrap();
    std::os::unix::fs::symlink(dir.join("loop.jpg"), dir.join("loop.jpg")).unwrap();
    // A broken link without an image's name is no image, as a file of that name is not.
    std::os::unix::fs::symlink(dir.join("gone"), dir.join("notes")).unwrap();
    let model = small_model();
    let out = run(&["classify", "--model", &model, "--json", dir.to_str().unwrap()]);
    let stderr = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("1 classified, 2 failed"), "{stderr}");
    let lines = json_lines(&out.stdout);
    let failed: Vec<&str> = lines.iter().filter(|l| l["error"].is_string()).map(|l| l["path"].as_str().unwrap()).collect();
    assert_eq!(failed, [dir.join("dangling.png").to_str().unwrap(), dir.join("loop.jpg").to_str().unwrap()], "{lines:?}");
    // The same link named on the command line.
    let out = run(&["classify", "--model", &model, "--json", dir.join("dangling.png").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(json_lines(&out.stdout)[0]["error"].is_string());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_output_that_cannot_be_written_is_refused_before_the_input_is_read() {
    let dir = folder("output");
    std::fs::create_dir_all(dir.join("a-folder.npy")).unwrap();
    let places = [
        (dir.join("missing/prob.npy"), "does not exist"),
        (dir.join("a-folder.npy"), "is a folder"),
        #[cfg(target_os = "linux")]
        (PathBuf::from("/proc/prob.npy"), "cannot write in /proc"),
    ];
    for (output, words) in places {
        // The input does not exist either: the output is found wanting first.
        let out = run(&["run", "--model", &small_model(), "--input", "/no/such/input.npy", "--output", output.to_str().unwrap()]);
        let stderr = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(output.to_str().unwrap()) && stderr.contains(words), "{}: {stderr}", output.display());
        assert!(!stderr.contains("input.npy"), "{stderr}");
    }
    // Likewise the chart of `bench`, before the timing.
    let out = run(&["bench", "--model", &small_model(), "--svg", dir.join("missing/chart.svg").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist") && out.stdout.is_empty(), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_are_sentences_without_the_kind_of_error() {
    let dir = folder("sentences");
    let empty = dir.join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    for args in [vec!["classify", dir.to_str().unwrap()], vec!["run", "--model", empty.to_str().unwrap()]] {
        let out = run(&args);
        let stderr = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        let error = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("{args:?}: {stderr}"));
        assert!(!error.contains("invalid shape"), "{args:?}: {error}");
        if args[0] == "run" {
            assert!(error.contains("holds no graph"), "{args:?}: {error}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_startup_noise_without_a_desktop_session() {
    let mut info = googlenet();
    for variable in ["XDG_RUNTIME_DIR", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "NODEVICE_SELECT", "MESA_VK_DEVICE_SELECT", "DRI_PRIME"] {
        info.env_remove(variable);
    }
    let out = info.arg("info").output().unwrap();
    assert!(out.status.success());
    assert_eq!(stderr(&out), "", "nothing on stderr");
}

#[test]
fn a_missing_adapter_names_each_with_its_backend_and_advises_by_cause() {
    // Drivers present, the name matched none: the names, each with its backend, and no advice to
    // install a driver.
    let out = googlenet().arg("info").env("WGPU_ADAPTER_NAME", "no such adapter anywhere").output().unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("no GPU adapter found") && text.contains("WGPU_ADAPTER_NAME") && !text.contains("apt-get"), "{text}");
    let present = &text[text.find("Present: ").expect("the adapters present") + 9..];
    let present = &present[..present.find("; give").unwrap()];
    let adapters: Vec<&str> = present.split(", \"").collect();
    assert!(adapters.iter().all(|a| a.contains(" on ")), "each with its backend: {present}");
    let unique: std::collections::BTreeSet<&str> = adapters.iter().map(|a| a.trim_start_matches('"')).collect();
    assert_eq!(unique.len(), adapters.len(), "no adapter listed twice alike: {present}");
    // No driver at all: the advice to install one.
    let out = googlenet()
        .arg("info")
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/no_driver.json")
        .env("VK_DRIVER_FILES", "/nonexistent/no_driver.json")
        .output()
        .unwrap();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("mesa-vulkan-drivers") && text.contains("WGPU_BACKEND"), "{text}");
}
