//! Reading files that come from strangers, and writing files whole. Every read has a size cap
//! for its kind of file, only regular files are read (not `/dev/zero`, not a FIFO), and a file a
//! model names is confined to the model's folder. Every write goes through a temporary file and a
//! rename.

use std::fmt;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The kinds of file the engine reads, each with the most bytes it reads of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// An ONNX model (protobuf caps a message at 2 GiB; the model zoo's GoogLeNet is 27 MB).
    Onnx,
    /// A safetensors state dict (torchvision's GoogLeNet is 27 MB).
    Safetensors,
    /// One tensor's external data, named by an ONNX model.
    ExternalData,
    /// A JPEG or PNG image.
    Image,
    /// A `.npy` input batch (256 images of 3x224x224 floats is 154 MB).
    Npy,
    /// A tuning cache (a few kilobytes in practice).
    TuneCache,
    /// Compiled pipelines kept across processes (a few megabytes for the whole network).
    PipelineCache,
}

impl FileKind {
    /// The most bytes of one file of this kind the engine reads.
    pub const fn max_bytes(self) -> u64 {
        match self {
            FileKind::Onnx | FileKind::Safetensors => 1 << 30,
            FileKind::ExternalData => 1 << 30,
            FileKind::Image => 64 << 20,
            FileKind::Npy => 256 << 20,
            FileKind::TuneCache => 16 << 20,
            FileKind::PipelineCache => 256 << 20,
        }
    }

    fn name(self) -> &'static str {
        match self {
            FileKind::Onnx => "ONNX model",
            FileKind::Safetensors => "safetensors file",
            FileKind::ExternalData => "external data",
            FileKind::Image => "image",
            FileKind::Npy => ".npy file",
            FileKind::TuneCache => "tuning cache",
            FileKind::PipelineCache => "pipeline cache",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a path could not be opened as a regular file.
enum OpenError {
    NotRegular,
    Io(std::io::Error),
}

/// `path` opened for reading, if it is a regular file, and its length. It is looked at before it
/// is opened (opening a FIFO for reading blocks until someone writes to it) and again after.
fn open_file(path: &Path) -> std::result::Result<(std::fs::File, u64), OpenError> {
    if !std::fs::metadata(path).map_err(OpenError::Io)?.is_file() {
        return Err(OpenError::NotRegular);
    }
    let file = std::fs::File::open(path).map_err(OpenError::Io)?;
    let metadata = file.metadata().map_err(OpenError::Io)?;
    if !metadata.is_file() {
        return Err(OpenError::NotRegular);
    }
    Ok((file, metadata.len()))
}

/// Opens `path` for reading as a `kind` file: it must be a regular file of at most
/// `kind.max_bytes()`. Returns the file and its length.
pub fn open_regular(path: &Path, kind: FileKind) -> Result<(std::fs::File, u64)> {
    let (file, len) = open_file(path).map_err(|e| match e {
        OpenError::NotRegular => Error::file(path, format!("the {kind} is not a regular file")),
        OpenError::Io(e) => Error::file(path, format!("cannot open the {kind}: {e}")),
    })?;
    if len > kind.max_bytes() {
        let what = format!("the {kind} {}", path.display());
        return Err(Error::TooLarge { what, needed: len, limit: kind.max_bytes(), budget: "file size cap" });
    }
    Ok((file, len))
}

/// The whole of a `kind` file, read only if it is a regular file within the kind's cap (and never
/// more than the cap, should it grow while being read).
pub fn read_capped(path: &Path, kind: FileKind) -> Result<Vec<u8>> {
    let (file, len) = open_regular(path, kind)?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(kind.max_bytes() + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::file(path, format!("cannot read the {kind}: {e}")))?;
    if bytes.len() as u64 > kind.max_bytes() {
        return Err(Error::file(path, format!("the {kind} grew past {} bytes while being read", kind.max_bytes())));
    }
    Ok(bytes)
}

/// The temporary file a write to `path` goes through, beside it (a rename within one folder
/// replaces the file at once), and the folder.
fn temporary_beside(path: &Path) -> Result<(PathBuf, &Path)> {
    let name = path.file_name().ok_or_else(|| Error::file(path, "names a folder, not a file to write"))?;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(format!(".{}.tmp", std::process::id()));
    Ok((folder.join(temporary), folder))
}

/// Creates `temporary` afresh: never through a file or link already there (a leftover of this
/// process id is removed first).
fn create_temporary(temporary: &Path) -> std::io::Result<std::fs::File> {
    let create = || std::fs::OpenOptions::new().write(true).create_new(true).open(temporary);
    match create() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(temporary)?;
            create()
        }
        other => other,
    }
}

/// Whether `write_atomic(path, ..)` can succeed, checked before the work that makes the bytes:
/// the folder exists, `path` is not a folder, and a file can be created beside it.
pub fn check_writable(path: &Path) -> Result<()> {
    let (temporary, folder) = temporary_beside(path)?;
    if !folder.is_dir() {
        return Err(Error::file(path, format!("cannot write: the folder {} does not exist", folder.display())));
    }
    if path.is_dir() {
        return Err(Error::file(path, "cannot write: it is a folder"));
    }
    create_temporary(&temporary).map_err(|e| Error::file(path, format!("cannot write in {}: {e}", folder.display())))?;
    std::fs::remove_file(&temporary).map_err(|e| Error::file(&temporary, format!("cannot remove: {e}")))
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, then renamed over it, so
/// that a reader never sees a half-written file and a failed write leaves the old one whole.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let (temporary, _) = temporary_beside(path)?;
    replace_through(create_temporary(&temporary), &temporary, path, bytes).map_err(|e| Error::file(path, format!("cannot write: {e}")))
}

/// Writes `bytes` into `file` (just created at `temporary`, beside `path`), flushes them to the
/// disk and renames `temporary` over `path`. On any failure the temporary file is removed and
/// `path` is as it was.
pub(crate) fn replace_through(file: std::io::Result<std::fs::File>, temporary: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let written = file.and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()));
    let renamed = written.and_then(|()| std::fs::rename(temporary, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(temporary);
    }
    renamed
}

/// Where a file named by a model resolves: `location` must be a relative path with no `..`,
/// and, symlinks resolved, inside `folder`. The error says why not.
pub fn confined(folder: &Path, location: &str) -> std::result::Result<PathBuf, String> {
    let relative = Path::new(location);
    if location.is_empty() {
        return Err("the location is empty".into());
    }
    if let Some(component) = relative.components().find(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        let why = match component {
            Component::ParentDir => "it climbs out with `..`",
            _ => "it is not a relative path",
        };
        return Err(format!("refused: {why}; external data must lie in the model's folder"));
    }
    let root = folder.canonicalize().map_err(|e| format!("cannot resolve the model's folder {}: {e}", folder.display()))?;
    let resolved = root.join(relative).canonicalize().map_err(|e| format!("cannot open {}: {e}", root.join(relative).display()))?;
    if !resolved.starts_with(&root) {
        return Err(format!("refused: it resolves to {}, outside the model's folder {}", resolved.display(), root.display()));
    }
    Ok(resolved)
}

/// Which bytes of a file to read.
#[derive(Clone, Copy, Debug)]
pub struct ByteRange {
    /// Where the range starts.
    pub offset: u64,
    /// How long it is; `None`: to the end of the file.
    pub length: Option<u64>,
    /// How many bytes the reader needs: a range of any other length is refused unread.
    pub expected: u64,
}

/// The bytes of `range` in a regular file, with the range checked against the file's length
/// and against what the reader expects before anything is read or allocated.
pub fn read_range(path: &Path, kind: FileKind, range: ByteRange) -> std::result::Result<Vec<u8>, String> {
    let (mut file, len) = open_file(path).map_err(|e| match e {
        OpenError::NotRegular => format!("refused: {} is not a regular file", path.display()),
        OpenError::Io(e) => format!("cannot open: {e}"),
    })?;
    let offset = range.offset;
    let length = match range.length {
        Some(length) => length,
        None => len.checked_sub(offset).ok_or_else(|| format!("offset {offset} is past the end of the file ({len} bytes)"))?,
    };
    let end = offset.checked_add(length).filter(|&end| end <= len);
    if end.is_none() {
        return Err(format!("bytes {offset}..{offset}+{length} are outside the file ({len} bytes)"));
    }
    if length != range.expected {
        return Err(format!("bytes {offset}..{offset}+{length} hold {length} bytes, but the tensor needs {}", range.expected));
    }
    if length > kind.max_bytes() {
        return Err(format!("{length} bytes, over the {kind} cap of {} bytes", kind.max_bytes()));
    }
    file.seek(SeekFrom::Start(offset)).map_err(|e| format!("cannot seek to {offset}: {e}"))?;
    let mut bytes = vec![0u8; length as usize];
    file.read_exact(&mut bytes).map_err(|e| format!("cannot read bytes {offset}..{}: {e}", offset + length))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_outside_the_folder_are_refused() {
        let dir = std::env::temp_dir().join(format!("googlenet-confined-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/w.bin"), [0u8; 8]).unwrap();
        assert!(confined(&dir, "sub/w.bin").is_ok());
        assert!(confined(&dir, "./sub/w.bin").is_ok());
        for location in ["/etc/passwd", "../x", "sub/../../x", "", "sub/../sub/w.bin"] {
            assert!(confined(&dir, location).is_err(), "{location:?} is accepted");
        }
        #[cfg(unix)]
        {
            let outside = dir.with_extension("outside");
            std::fs::write(&outside, [0u8; 4]).unwrap();
            std::os::unix::fs::symlink(&outside, dir.join("link.bin")).unwrap();
            let error = confined(&dir, "link.bin").unwrap_err();
            assert!(error.contains("outside the model's folder"), "{error}");
            std::fs::remove_file(&outside).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writes_are_whole_and_unwritable_places_are_found_before() {
        let dir = std::env::temp_dir().join(format!("googlenet-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let path = dir.join("out.bin");
        check_writable(&path).unwrap();
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2, "no temporary file is left");
        for (bad, words) in [(dir.join("missing/out.bin"), "does not exist"), (dir.join("sub"), "is a folder"), (dir.join(".."), "names a folder")] {
            let error = check_writable(&bad).unwrap_err().to_string();
            assert!(error.contains(words), "{}: {error}", bad.display());
            assert!(write_atomic(&bad, b"x").is_err(), "{}", bad.display());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ranges_are_checked_before_reading() {
        let path = std::env::temp_dir().join(format!("googlenet-range-{}.bin", std::process::id()));
        std::fs::write(&path, (0u8..16).collect::<Vec<_>>()).unwrap();
        let read = |path: &Path, offset, length, expected| read_range(path, FileKind::ExternalData, ByteRange { offset, length, expected });
        assert_eq!(read(&path, 4, Some(4), 4).unwrap(), [4, 5, 6, 7]);
        assert_eq!(read(&path, 12, None, 4).unwrap(), [12, 13, 14, 15]);
        assert!(read(&path, 12, None, 8).unwrap_err().contains("needs 8"));
        assert!(read(&path, 0, Some(16), 4).unwrap_err().contains("needs 4"));
        assert!(read(&path, 12, Some(8), 8).is_err());
        assert!(read(&path, u64::MAX - 2, Some(8), 8).is_err());
        assert!(read(&path, 17, None, 0).is_err());
        std::fs::remove_file(&path).unwrap();
        #[cfg(unix)]
        assert!(read(Path::new("/dev/zero"), 0, Some(4), 4).unwrap_err().contains("not a regular file"));
        #[cfg(unix)]
        assert!(read_capped(Path::new("/dev/zero"), FileKind::TuneCache).is_err());
    }
}
