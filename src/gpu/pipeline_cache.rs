//! Compiled pipelines kept across processes: wgpu's `PipelineCache` (where the adapter offers
//! `PIPELINE_CACHE`), stored in one file per adapter and driver beside the tuning cache.
//!
//! The file is ours around wgpu's bytes: a magic, a key (adapter, driver, this crate's version
//! and every shader's source), the payload's length and a checksum. A file that is truncated,
//! corrupt, or in a folder or file another user controls is ignored with a warning; one made for
//! other shaders (expected after an upgrade) is logged at info level; either is rewritten. It
//! never stops a run, since everything in it can be compiled again.

use std::path::{Path, PathBuf};

use super::{Gpu, SHADER_FILES};
use crate::cache_files;
use crate::error::{Error, Result};
use crate::files::{read_capped, FileKind};

const MAGIC: &[u8; 8] = b"GNETPLC1";
const HEADER_BYTES: usize = 8 + 3 * 8;

/// A pipeline cache and the file it is loaded from and saved to.
pub struct DiskPipelineCache {
    pub(super) cache: wgpu::PipelineCache,
    path: PathBuf,
    key: u64,
}

impl DiskPipelineCache {
    /// The cache for `gpu` in `folder`, loaded from its file if there is a valid one; `None`
    /// where the device has no `PIPELINE_CACHE`.
    pub fn open(gpu: &Gpu, folder: &Path) -> Option<Self> {
        if !gpu.features.contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        let path = folder.join(format!("pipelines-{:016x}.bin", fnv1a(adapter_identity(gpu).as_bytes())));
        if let Err(why) = cache_files::check_folder(folder).and_then(|()| cache_files::check_file(&path)) {
            log::warn!("running without the pipeline cache ({})", Error::file(&path, why));
            return None;
        }
        let key = shader_key(gpu);
        let file = match std::fs::exists(&path) {
            Ok(false) => None,
            _ => read_capped(&path, FileKind::PipelineCache).inspect_err(|e| log::warn!("ignoring the pipeline cache ({e}); it will be rewritten")).ok(),
        };
        let data = match file.as_deref().map(|bytes| payload(bytes, key)) {
            None => None,
            Some(Ok(payload)) => Some(payload),
            // New shaders or a new engine version: expected after an upgrade.
            Some(Err(Refused::Stale)) => {
                log::info!("the pipeline cache {} was made for other shaders; it will be rewritten", path.display());
                None
            }
            Some(Err(Refused::Damaged(why))) => {
                log::warn!("ignoring the pipeline cache ({}); it will be rewritten", Error::file(&path, why));
                None
            }
        };
        // SAFETY: wgpu requires `data` to come from `PipelineCache::get_data` on a compatible
        // adapter. It does: `payload` checked our magic, the checksum and the key (adapter, driver,
        // crate version, shader sources), and wgpu checks its own header (wgpu version, device,
        // driver) before the driver, which checks its own, sees the bytes. `fallback: true` makes
        // data that is still refused an empty cache instead of an error. A file forged by someone
        // who can write the user's cache folder is outside the threat model (docs/SECURITY.md),
        // and a folder or file another user controls is not read (`cache_files::check_folder`).
        let cache = gpu
            .checked("creating the pipeline cache", || unsafe {
                gpu.device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                    label: Some("googlenet pipelines"),
                    data,
                    fallback: true,
                })
            })
            .inspect_err(|e| log::warn!("no pipeline cache: {e}"))
            .ok()?;
        log::debug!("pipeline cache {}: {} bytes loaded", path.display(), data.map_or(0, |d| d.len()));
        Some(DiskPipelineCache { cache, path, key })
    }

    /// The file the cache is kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the cache's current contents to its file (through a temporary file and a rename,
    /// so that a reader never sees half a file), in a folder made private to this user where it
    /// is missing. A folder or file another user controls is refused.
    pub fn save(&self) -> Result<()> {
        let Some(data) = self.cache.get_data() else { return Ok(()) };
        let folder = cache_files::folder_of(&self.path);
        let fail = |why: String| Error::file(&self.path, format!("cannot write the pipeline cache: {why}"));
        cache_files::create_private_folder(folder).map_err(|e| fail(e.to_string()))?;
        cache_files::check_folder(folder).and_then(|()| cache_files::check_file(&self.path)).map_err(fail)?;
        cache_files::replace_file(&self.path, &encode(self.key, &data)).map_err(|e| fail(e.to_string()))
    }
}

/// Why a cache file's bytes are not handed to the driver.
#[derive(Debug, PartialEq)]
enum Refused {
    /// Whole, but made for other shaders or another engine version.
    Stale,
    /// Not a whole cache file of this engine: why.
    Damaged(String),
}

/// A file of ours around wgpu's bytes: magic, key, length, checksum, then `data`.
fn encode(key: u64, data: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES + data.len());
    bytes.extend_from_slice(MAGIC);
    for field in [key, data.len() as u64, fnv1a(data)] {
        bytes.extend_from_slice(&field.to_le_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

/// wgpu's bytes from a file of ours, if the file is whole and made for `key`.
fn payload(bytes: &[u8], key: u64) -> std::result::Result<&[u8], Refused> {
    let Some((header, data)) = bytes.split_at_checked(HEADER_BYTES) else {
        return Err(Refused::Damaged(format!("{} bytes: shorter than the header", bytes.len())));
    };
    if &header[..8] != MAGIC {
        return Err(Refused::Damaged("not a pipeline cache of this engine".into()));
    }
    let field = |i: usize| u64::from_le_bytes(header[8 + 8 * i..16 + 8 * i].try_into().expect("8 bytes"));
    if field(1) != data.len() as u64 {
        return Err(Refused::Damaged(format!("the header says {} bytes of data, the file holds {}", field(1), data.len())));
    }
    if field(2) != fnv1a(data) {
        return Err(Refused::Damaged("the checksum does not match: the file is corrupt".into()));
    }
    if field(0) != key {
        return Err(Refused::Stale);
    }
    Ok(data)
}

/// What a cache is only valid for: the adapter and its driver.
fn adapter_identity(gpu: &Gpu) -> String {
    let info = &gpu.info;
    format!("{}|{:04x}:{:04x}|{:?}|{}|{}", info.name, info.vendor, info.device, info.backend, info.driver, info.driver_info)
}

/// The adapter, this crate's version and every shader source: a cache made for other shaders
/// holds nothing this process would use.
fn shader_key(gpu: &Gpu) -> u64 {
    let mut text = format!("{}|{}", adapter_identity(gpu), env!("CARGO_PKG_VERSION"));
    for (name, source) in SHADER_FILES {
        text.push_str(name);
        text.push_str(source);
    }
    fnv1a(text.as_bytes())
}

/// 64-bit FNV-1a: stable across processes and Rust versions (unlike `DefaultHasher`), enough
/// to tell a damaged or stale file from a good one.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_file_gives_its_payload() {
        assert_eq!(payload(&encode(7, b"pipelines"), 7).unwrap(), b"pipelines");
    }

    fn damage(bytes: &[u8], key: u64) -> String {
        match payload(bytes, key) {
            Err(Refused::Damaged(why)) => why,
            other => panic!("not refused as damaged: {other:?}"),
        }
    }

    #[test]
    fn damaged_or_stale_files_are_refused() {
        let good = encode(7, b"pipelines");
        assert_eq!(payload(&good, 8), Err(Refused::Stale));
        assert!(damage(&good[..good.len() - 1], 7).contains("says 9 bytes"));
        assert!(damage(&good[..10], 7).contains("shorter than the header"));
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(damage(&flipped, 7).contains("checksum"));
        let mut foreign = good;
        foreign[0] = b'X';
        assert!(damage(&foreign, 7).contains("not a pipeline cache"));
    }
}
