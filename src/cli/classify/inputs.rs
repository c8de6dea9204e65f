//! The images a `classify` run takes: files as given, and every JPEG or PNG under a directory.

use std::path::{Path, PathBuf};

/// File extensions taken from directories (any case); a file named on the command line is
/// taken whatever its name, and its contents decide its format.
const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// One input: an image file to classify, or a path that could not be listed.
pub enum Input {
    Image(PathBuf),
    Unlistable { path: PathBuf, error: String },
}

/// The inputs of `paths` in order, directories walked recursively in name order. Symlinks to
/// files are taken; symlinks to directories are not followed (no loops). A link with an image's
/// name that leads nowhere (dangling, or a loop) is an input that cannot be listed, as the same
/// path named on the command line is an image that cannot be opened.
pub fn collect(paths: &[PathBuf]) -> Vec<Input> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut inputs);
        } else {
            inputs.push(Input::Image(path.clone()));
        }
    }
    inputs
}

fn walk(dir: &Path, inputs: &mut Vec<Input>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return inputs.push(Input::Unlistable { path: dir.to_path_buf(), error: format!("cannot list: {e}") }),
    };
    let mut listed = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => listed.push((entry.path(), entry.file_type())),
            Err(e) => inputs.push(Input::Unlistable { path: dir.to_path_buf(), error: format!("cannot list all of it: {e}") }),
        }
    }
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in listed {
        match kind {
            Ok(kind) if kind.is_dir() => walk(&path, inputs),
            Ok(_) if !is_image_name(&path) => {}
            Ok(kind) if kind.is_symlink() => match std::fs::metadata(&path) {
                Ok(target) if target.is_dir() => {}
                Ok(_) => inputs.push(Input::Image(path)),
                Err(e) => inputs.push(Input::Unlistable { path, error: format!("a link that leads to no file: {e}") }),
            },
            Ok(_) => inputs.push(Input::Image(path)),
            Err(e) => inputs.push(Input::Unlistable { path, error: format!("cannot stat: {e}") }),
        }
    }
}

fn is_image_name(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}
