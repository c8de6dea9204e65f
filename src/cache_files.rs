//! Where the caches live and how they are written. A cache steers what the engine runs (tuned
//! choices, compiled code handed to the driver), so it is used only from a folder and a file that
//! no other user controls; and it is written through a temporary file and a rename, so that a
//! reader sees the old file or the new one, never part of one, and a failed write (a full disk)
//! leaves the old file whole.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The value of the environment variable `name`; an empty value is taken as unset.
pub fn env_value(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// Whether a setting that accepts `off` says so, in any case (`off`, `OFF`, `Off`).
pub fn is_off(value: &OsStr) -> bool {
    value.to_str().is_some_and(|value| value.eq_ignore_ascii_case("off"))
}

/// The folder the caches go to unless told otherwise: `$XDG_CACHE_HOME/googlenet`, else
/// `$HOME/.cache/googlenet`, else `$TMPDIR/googlenet` (a relative or empty base is skipped, as
/// the XDG spec asks). The last one is in a folder every user can write to: whoever makes
/// `googlenet` there first owns it, which `check_folder` catches.
pub fn default_folder() -> PathBuf {
    let absolute = |path: PathBuf| path.is_absolute().then_some(path);
    let base = env_value("XDG_CACHE_HOME")
        .and_then(|xdg| absolute(PathBuf::from(xdg)))
        .or_else(|| env_value("HOME").and_then(|home| absolute(PathBuf::from(home).join(".cache"))))
        .or_else(|| absolute(std::env::temp_dir()))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    base.join("googlenet")
}

/// The folder holding the cache file `path` (`.` for a bare file name).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    }
}

/// Whether `folder` may hold caches: where it exists, it (and the symlink naming it, if it is
/// one) belongs to this user or to root, and no one else can write to it. The error says why
/// not. A folder that does not exist yet is fine: `create_private_folder` makes it.
pub fn check_folder(folder: &Path) -> Result<(), String> {
    let link = match std::fs::symlink_metadata(folder) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot look at the folder {}: {e}", folder.display())),
        Ok(link) => link,
    };
    if link.is_symlink() {
        owned_here(&link).map_err(|owner| format!("the folder {} is a symlink {owner}", folder.display()))?;
    }
    let target = std::fs::metadata(folder).map_err(|e| format!("cannot look at the folder {}: {e}", folder.display()))?;
    if !target.is_dir() {
        return Err(format!("{} is not a folder", folder.display()));
    }
    private(&target).map_err(|why| format!("the folder {} {why}", folder.display()))
}

/// Whether the cache file `path` may be read or replaced, its folder aside (see
/// `check_folder`); the error says why not, without naming the file. It may be absent, or a
/// regular file that belongs to this user or root and that no one else can write to, named by a
/// symlink (if it is one) that belongs to them too; not a folder nor a device (replacing
/// `/dev/zero` with a cache would be no better than reading it).
pub fn check_file(path: &Path) -> Result<(), String> {
    let Ok(link) = std::fs::symlink_metadata(path) else { return Ok(()) };
    if link.is_symlink() {
        owned_here(&link).map_err(|owner| format!("it is a symlink {owner}"))?;
    }
    match std::fs::metadata(path) {
        Ok(target) if target.is_file() => private(&target).map_err(|why| format!("it {why}")),
        Ok(_) => Err("it is not a regular file".into()),
        // A dangling symlink: nothing to read, and a rename replaces the link itself.
        Err(_) => Ok(()),
    }
}

/// `metadata`'s owner is this process's user or root; else who it belongs to, in words.
#[cfg(unix)]
fn owned_here(metadata: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    match metadata.uid() {
        owner if owner == me || owner == 0 => Ok(()),
        owner => Err(format!("owned by user {owner}, not by this user ({me})")),
    }
}

/// `metadata` is owned here and neither its group nor others can write to it.
#[cfg(unix)]
fn private(metadata: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    owned_here(metadata).map_err(|owner| format!("is {owner}"))?;
    match metadata.mode() & 0o7777 {
        mode if mode & 0o022 != 0 => Err(format!("can be written by other users (mode {mode:o})")),
        _ => Ok(()),
    }
}

// Elsewhere files carry ACLs, not owners and modes; the caches are used as they are.
#[cfg(not(unix))]
fn owned_here(_: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

#[cfg(not(unix))]
fn private(_: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// Makes `folder` (and any missing folder above it) readable and writable by this user only.
pub fn create_private_folder(folder: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

/// A file opened anew (never an existing one, nor through a symlink), readable by this user only.
fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Replaces `path` with `bytes`: they go to a new temporary file beside it, are flushed to the
/// disk, and the file is renamed over `path`. On any failure the temporary file is removed and
/// `path` is as it was.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Unique within the process too: two sessions may save the same cache at once.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let mut name = path.file_name().map_or_else(OsString::new, OsStr::to_os_string);
    name.push(format!(".tmp{}-{}", std::process::id(), WRITES.fetch_add(1, Ordering::Relaxed)));
    let temporary = path.with_file_name(name);
    crate::files::replace_through(create_new(&temporary), &temporary, path, bytes)
}

/// An exclusive lock on a cache file, held until dropped: writers that read, merge and replace
/// the file take turns. It is an advisory lock on `<file>.lock` beside it, which the system
/// releases when the process ends, however it ends.
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Waits for, then takes, the lock on `path`.
    pub fn acquire(path: &Path) -> std::io::Result<Self> {
        let mut name = path.file_name().map_or_else(OsString::new, OsStr::to_os_string);
        name.push(".lock");
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path.with_file_name(name))?;
        file.lock()?;
        Ok(FileLock { _file: file })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{chown, symlink, PermissionsExt};

    use super::*;

    const NOBODY: u32 = 65534;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("googlenet-cache-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        create_private_folder(&dir).unwrap();
        dir
    }

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_folder_or_file_others_control_is_refused() {
        let dir = scratch("trust");
        assert_eq!(check_folder(&dir), Ok(()));
        assert_eq!(check_folder(&dir.join("absent")), Ok(()), "made later, privately");
        set_mode(&dir, 0o777);
        assert!(check_folder(&dir).unwrap_err().contains("can be written by other users (mode 777)"));
        set_mode(&dir, 0o770);
        assert!(check_folder(&dir).unwrap_err().contains("mode 770"));
        set_mode(&dir, 0o755);
        let file = dir.join("tune.json");
        std::fs::write(&file, "{}").unwrap();
        set_mode(&file, 0o644);
        assert_eq!(check_file(&file), Ok(()));
        set_mode(&file, 0o666);
        assert!(check_file(&file).unwrap_err().contains("mode 666"));
        set_mode(&file, 0o600);
        assert!(check_file(&dir).unwrap_err().contains("not a regular file"));
        assert!(check_file(Path::new("/dev/zero")).unwrap_err().contains("not a regular file"));
        if unsafe { libc::geteuid() } == 0 {
            // Another user, simulated where the tests run as root.
            chown(&file, Some(NOBODY), None).unwrap();
            assert!(check_file(&file).unwrap_err().contains("owned by user 65534"));
            let theirs = dir.join("theirs");
            std::fs::create_dir(&theirs).unwrap();
            set_mode(&theirs, 0o700);
            chown(&theirs, Some(NOBODY), None).unwrap();
            assert!(check_folder(&theirs).unwrap_err().contains("owned by user 65534"));
            // A symlink another user made, to a folder of ours, is not followed.
            let link = dir.join("link");
            symlink(dir.join("absent"), &link).unwrap();
            std::os::unix::fs::lchown(&link, Some(NOBODY), None).unwrap();
            create_private_folder(&dir.join("absent")).unwrap();
            assert!(check_folder(&link).unwrap_err().contains("is a symlink owned by user 65534"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_replaced_file_is_whole_private_and_leaves_nothing_behind() {
        let dir = scratch("replace");
        let file = dir.join("cache.bin");
        replace_file(&file, b"old").unwrap();
        replace_file(&file, b"new contents").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new contents");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        // A failed write (here: a folder where the file goes) leaves no temporary file.
        std::fs::create_dir(dir.join("taken")).unwrap();
        assert!(replace_file(&dir.join("taken"), b"x").is_err());
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_settings_are_unset_and_off_is_any_case() {
        for off in ["off", "OFF", "Off"] {
            assert!(is_off(OsStr::new(off)));
        }
        assert!(!is_off(OsStr::new("offline")) && !is_off(OsStr::new("")));
        assert_eq!(folder_of(Path::new("tune.json")), Path::new("."));
        assert_eq!(folder_of(Path::new("/a/tune.json")), Path::new("/a"));
    }
}
