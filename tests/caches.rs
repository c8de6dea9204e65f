//! The tuning and pipeline caches as a user meets them: damaged, planted by another user, written
//! on a full disk, named by the environment. Each test keeps its caches in a folder of its own.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use googlenet::ops::{KernelFamily, KernelKey};
use googlenet::tune::{adapter_key, PlanChoice, TuneCache, TunedVariant};
use googlenet::Session;

/// A folder of one test's own, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("googlenet-caches-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("work")).unwrap();
        Scratch(dir)
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }

    /// The names in the folder the binary runs in: it should leave nothing there.
    fn work_files(&self) -> Vec<String> {
        std::fs::read_dir(self.path("work")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn small_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/googlenet_zoo.onnx")
}

/// The binary with its caches under `scratch` only (see `hermetic`).
fn googlenet(scratch: &Scratch) -> Command {
    hermetic(Command::new(env!("CARGO_BIN_EXE_googlenet")), scratch)
}

/// `command` with its caches under `scratch` only (`XDG_CACHE_HOME` there, no cache variables,
/// no `RUST_LOG`), run in `scratch`'s `work` folder.
fn hermetic(mut command: Command, scratch: &Scratch) -> Command {
    command
        .current_dir(scratch.path("work"))
        .env("XDG_CACHE_HOME", scratch.path("xdg"))
        .env_remove("GOOGLENET_TUNE_CACHE")
        .env_remove("GOOGLENET_PIPELINE_CACHE")
        .env_remove("RUST_LOG");
    command
}

/// `googlenet run` on the small model, which must succeed; its stderr.
fn run_small(command: &mut Command) -> String {
    let out = command.args(["run", "--no-check", "--model"]).arg(small_model()).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}\n{stderr}", String::from_utf8_lossy(&out.stdout));
    stderr
}

const UNTUNED_NOTE: &str = "no tuning cache entry for this adapter";

/// Whether the adapter keeps compiled pipelines: where it does not, there are no pipeline files
/// to look at.
fn has_pipeline_cache() -> bool {
    let offered = common::gpu().0.features.contains(wgpu::Features::PIPELINE_CACHE);
    if !offered {
        eprintln!("{} offers no PIPELINE_CACHE: the pipeline files are not checked", common::gpu().0.info.name);
    }
    offered
}

/// The file the pipeline cache for this adapter has in `folder`.
fn pipeline_cache_file(folder: &Path) -> PathBuf {
    let session = Session::builder().model_file(small_model()).without_tune_cache().pipeline_cache_dir(folder).build().unwrap();
    session.pipelines().disk_cache().expect("a pipeline cache").path().to_path_buf()
}

fn variant(batch: usize) -> TunedVariant {
    TunedVariant { key: KernelKey::new(KernelFamily::ConvGroup, vec![64, 192, 56, 56, 3, 1, 1], batch), variant: "tiled".into() }
}

#[test]
fn a_damaged_tuning_cache_is_a_warning_and_the_run_goes_on_with_the_defaults() {
    let scratch = Scratch::new("damaged");
    let file = |name: &str, bytes: &str| {
        let path = scratch.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let oversized = scratch.path("oversized.json");
    std::fs::File::create(&oversized).unwrap().set_len(17 << 20).unwrap();
    let folder = scratch.path("a-folder.json");
    std::fs::create_dir(&folder).unwrap();
    let zero = scratch.path("zero.json");
    #[cfg(unix)]
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let cases = [
        file("empty.json", ""),
        file("garbage.json", "{ not json"),
        file("typed.json", r#"{"format": 3, "adapters": []}"#),
        file("array.json", "[1, 2]"),
        oversized,
        folder,
        zero,
    ];
    for path in &cases {
        assert!(TuneCache::load(path).is_err(), "{} loads", path.display());
        let session = Session::builder().model_file(small_model()).tune_cache(path).without_pipeline_cache().build();
        let session = session.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(session.tune_cache().plans.is_empty() && session.tune_cache().adapters.is_empty());
    }
    // `run` and `classify` say so in a warning and go on.
    let garbage = &cases[1];
    let stderr = run_small(googlenet(&scratch).env("GOOGLENET_TUNE_CACHE", garbage));
    assert!(stderr.contains("not applying the tuning cache") && stderr.contains("garbage.json") && stderr.contains(UNTUNED_NOTE), "{stderr}");
    let photo = scratch.path("photo.png");
    image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90])).save(&photo).unwrap();
    let out = googlenet(&scratch).env("GOOGLENET_TUNE_CACHE", garbage).arg("classify").arg(&photo).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("not applying the tuning cache"), "{stderr}");
}

#[test]
fn tune_replaces_a_damaged_cache_and_caches_its_plan_only_if_it_beats_the_defaults() {
    let scratch = Scratch::new("tune");
    let path = scratch.path("tune.json");
    std::fs::write(&path, "{ not json").unwrap();
    let out = googlenet(&scratch).args(["tune", "--iters", "1", "--json", "--model"]).arg(small_model()).arg("--cache").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("replacing the tuning cache"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rounds = |key: &str| report["check"][key].as_array().unwrap().iter().map(|ms| ms.as_f64().unwrap()).collect::<Vec<_>>();
    let (chosen, defaults) = (rounds("chosen_ms"), rounds("defaults_ms"));
    assert!(chosen.len() >= 5 && chosen.len() == defaults.len(), "{report}");
    let beats = chosen.iter().copied().fold(0.0, f64::max) < defaults.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(report["beats_defaults"], beats, "{report}");
    if beats {
        assert_eq!(report["chosen"], report["fastest"], "{report}");
    } else {
        assert_eq!(report["speedup_over_untuned"], 1.0, "{report}");
    }
    let cache = TuneCache::load(&path).unwrap();
    let key = report["cache_key"].as_str().unwrap();
    assert_eq!(serde_json::to_value(cache.plans[key]).unwrap(), report["chosen"]);
    // Later runs take it, whichever it is.
    let stderr = run_small(googlenet(&scratch).env("GOOGLENET_TUNE_CACHE", &path));
    assert!(!stderr.contains(UNTUNED_NOTE), "{stderr}");
}

#[test]
fn a_tune_that_cannot_write_leaves_the_old_cache_whole() {
    let scratch = Scratch::new("full");
    let path = scratch.path("tune.json");
    let mut cache = TuneCache::default();
    cache.adapters.insert("some gpu".into(), (1..=100).map(variant).collect());
    cache.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    assert!(before.len() > 4096);
    // The files it writes may not grow past 2 KiB, as on a full disk (SIGXFSZ ignored, so that
    // the write fails with an error instead of ending the process).
    let mut limited = Command::new("bash");
    limited.arg("-c").arg(r#"trap "" XFSZ; ulimit -f 2; exec "$0" "$@""#).arg(env!("CARGO_BIN_EXE_googlenet"));
    let out = hermetic(limited, &scratch)
        .args(["tune", "--model"])
        .arg(small_model())
        .env("GOOGLENET_TUNE_CACHE", &path)
        .env("GOOGLENET_PIPELINE_CACHE", "off")
        .env("MESA_SHADER_CACHE_DISABLE", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write the tuning cache"), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the old cache is whole");
    let names: Vec<_> = std::fs::read_dir(scratch.path("")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

#[cfg(unix)]
#[test]
fn a_cache_folder_another_user_controls_is_not_used() {
    use std::os::unix::fs::{chown, PermissionsExt};
    let scratch = Scratch::new("planted");
    // With neither HOME nor XDG_CACHE_HOME, the caches go to $TMPDIR/googlenet, which any local
    // user can make first: here it holds a tuning cache with an entry for this adapter and a
    // well-formed pipeline cache, and anyone can write to it (and, where the tests run as root,
    // it belongs to another user).
    let planted = scratch.path("tmp/googlenet");
    let mut cache = TuneCache::default();
    cache.plans.insert(adapter_key(&common::gpu().0), PlanChoice::default());
    cache.save(&planted.join("tune.json")).unwrap();
    let pipelines = has_pipeline_cache().then(|| {
        let session = Session::builder().model_file(small_model()).without_tune_cache().pipeline_cache_dir(&planted).build().unwrap();
        session.engine(1).unwrap();
        let file = session.pipelines().disk_cache().unwrap().path().to_path_buf();
        assert!(file.exists());
        file
    });
    let root = unsafe { libc::geteuid() } == 0;
    for entry in std::fs::read_dir(&planted).unwrap() {
        let path = entry.unwrap().path();
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        if root {
            chown(&path, Some(65534), Some(65534)).unwrap();
        }
    }
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
    if root {
        chown(&planted, Some(65534), Some(65534)).unwrap();
    }
    let listing = || std::fs::read_dir(&planted).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>();
    let planted_files = listing();

    let fallback = || {
        let mut command = googlenet(&scratch);
        command.env_remove("XDG_CACHE_HOME").env_remove("HOME").env("TMPDIR", scratch.path("tmp"));
        command
    };
    let stderr = run_small(&mut fallback());
    let warning = "running without the tuning and pipeline caches";
    assert_eq!(stderr.matches(warning).count(), 1, "one warning: {stderr}");
    let why = if root { "owned by user 65534" } else { "can be written by other users" };
    assert!(stderr.contains(planted.to_str().unwrap()) && stderr.contains(why), "{stderr}");
    assert!(stderr.contains(UNTUNED_NOTE), "the planted choices are not applied: {stderr}");
    assert_eq!(listing(), planted_files, "nothing written there");
    if let Some(file) = pipelines {
        assert_eq!(std::fs::metadata(file).unwrap().modified().unwrap(), std::time::SystemTime::UNIX_EPOCH, "the planted pipeline cache is neither read nor rewritten");
    }
    // `tune` refuses to write there, before it tunes.
    let out = fallback().args(["tune", "--model"]).arg(small_model()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("refusing to write the tuning cache") && stderr.contains(why), "{stderr}");

    // In a folder of this user's, a cache file others can write to is not applied either.
    let own = scratch.path("own/tune.json");
    cache.save(&own).unwrap();
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(TuneCache::load(&own).unwrap_err().to_string().contains("can be written by other users (mode 666)"));
    let session = Session::builder().model_file(small_model()).tune_cache(&own).without_pipeline_cache().build().unwrap();
    assert!(session.tune_cache().plans.is_empty());
}

#[test]
fn empty_cache_variables_are_unset_and_off_takes_any_case() {
    let scratch = Scratch::new("environment");
    // Empty: the default folder, not the working directory.
    run_small(googlenet(&scratch).env("GOOGLENET_TUNE_CACHE", "").env("GOOGLENET_PIPELINE_CACHE", ""));
    assert_eq!(scratch.work_files(), Vec::<String>::new());
    let pipelines = has_pipeline_cache();
    if pipelines {
        assert!(pipeline_cache_file(&scratch.path("xdg/googlenet")).exists(), "the pipeline cache went to the default folder");
    }
    // `off` in any case: no pipeline cache, and no folder named after the value.
    for (value, xdg) in [("OFF", "xdg-upper"), ("Off", "xdg-mixed")] {
        run_small(googlenet(&scratch).env("GOOGLENET_PIPELINE_CACHE", value).env("XDG_CACHE_HOME", scratch.path(xdg)));
        assert_eq!(scratch.work_files(), Vec::<String>::new(), "{value}");
        if pipelines {
            assert!(!pipeline_cache_file(&scratch.path(xdg).join("googlenet")).exists(), "{value}");
        }
    }
}

/// 64-bit FNV-1a, the pipeline cache file's checksum.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[test]
fn a_stale_pipeline_cache_is_rewritten_at_info_level_and_a_damaged_one_with_a_warning() {
    if !has_pipeline_cache() {
        return;
    }
    let scratch = Scratch::new("stale");
    let file = pipeline_cache_file(&scratch.path("xdg/googlenet"));
    // Whole, but made for other shaders (another key): what an upgrade leaves behind.
    let data = b"compiled by an older engine";
    let mut stale = b"GNETPLC1".to_vec();
    for field in [1, data.len() as u64, fnv1a(data)] {
        stale.extend_from_slice(&field.to_le_bytes());
    }
    stale.extend_from_slice(data);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &stale).unwrap();
    let stderr = run_small(googlenet(&scratch).env("RUST_LOG", "googlenet=info"));
    let line = stderr.lines().find(|l| l.contains("made for other shaders")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("INFO") && !line.contains("WARN"), "{line}");
    let rewritten = std::fs::read(&file).unwrap();
    assert!(rewritten.starts_with(b"GNETPLC1") && rewritten != stale, "rewritten");
    // Damaged: a warning at the default level.
    std::fs::write(&file, &rewritten[..10]).unwrap();
    let stderr = run_small(&mut googlenet(&scratch));
    assert!(stderr.contains("WARN") && stderr.contains("ignoring the pipeline cache"), "{stderr}");
}
