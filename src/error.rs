//! The one error type of the engine: every failure says what went wrong and where.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
/// Why an operation failed: each kind names what failed and where.
pub enum Error {
    /// No adapter, or none matching the choice.
    #[error(
        "no GPU adapter found{detail}. On Linux install a Vulkan driver, e.g. Debian's \
         `apt-get install mesa-vulkan-drivers` (software Vulkan, lavapipe), or your GPU vendor's driver"
    )]
    NoAdapter {
        /// What was asked for, or why none was found.
        detail: String,
    },

    /// The adapter refused the device request.
    #[error("GPU device request failed: {0}")]
    Device(
        /// The adapter's reason.
        String,
    ),

    /// wgpu raised a validation or out-of-memory error.
    #[error("GPU error in {context}: {message}")]
    Gpu {
        /// What the engine was doing.
        context: String,
        /// wgpu's message.
        message: String,
    },

    /// A buffer or grid would pass a device limit.
    #[error("{what} needs {needed} but the device allows at most {limit} ({limit_name})")]
    OverLimit {
        /// The buffer or grid.
        what: String,
        /// What it needs (bytes or workgroups).
        needed: u64,
        /// What the device allows.
        limit: u64,
        /// The wgpu limit's name.
        limit_name: &'static str,
    },

    /// A tensor, value or input of the wrong shape.
    #[error("invalid shape for {op}: {message}")]
    Shape {
        /// The op, value or input.
        op: String,
        /// What is wrong with it.
        message: String,
    },

    /// Something the engine does not do (an op, attribute, variant or option).
    #[error("unsupported: {op}: {message}")]
    Unsupported {
        /// The op, attribute, kernel or option.
        op: String,
        /// What it asks for that the engine does not do.
        message: String,
    },

    /// A file that cannot be read or is not what it should be.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (and where in it).
        message: String,
    },
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An `Error::Shape`.
    pub fn shape(op: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Shape { op: op.into(), message: message.into() }
    }

    /// An `Error::Unsupported`.
    pub fn unsupported(op: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Unsupported { op: op.into(), message: message.into() }
    }

    /// An `Error::File`.
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::File { path: path.into(), message: message.into() }
    }
}
