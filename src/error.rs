//! The one error type of the engine: every failure says what went wrong and where.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no GPU adapter found{detail}. On Linux install a Vulkan driver, e.g. Debian's \
         `apt-get install mesa-vulkan-drivers` (software Vulkan, lavapipe), or your GPU vendor's driver"
    )]
    NoAdapter { detail: String },

    #[error("GPU device request failed: {0}")]
    Device(String),

    #[error("GPU error in {context}: {message}")]
    Gpu { context: String, message: String },

    #[error("{what} needs {needed} but the device allows at most {limit} ({limit_name})")]
    OverLimit { what: String, needed: u64, limit: u64, limit_name: &'static str },

    #[error("invalid shape for {op}: {message}")]
    Shape { op: String, message: String },

    #[error("unsupported: {op}: {message}")]
    Unsupported { op: String, message: String },

    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn shape(op: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Shape { op: op.into(), message: message.into() }
    }

    pub fn unsupported(op: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Unsupported { op: op.into(), message: message.into() }
    }

    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::File { path: path.into(), message: message.into() }
    }
}
