//! The one error type of the engine: every failure says what went wrong and where.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
/// Why an operation failed: each kind names what failed and where.
pub enum Error {
    /// No adapter, or none matching the choice.
    #[error("no GPU adapter found{detail}")]
    NoAdapter {
        /// What was asked for, why none was found, and what to do about it.
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
    #[error("{op}: {message}")]
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

    /// A weight or constant holding NaN or infinity, which would make every answer meaningless.
    #[error("{what} holds {value} at element {index}: weights must be finite")]
    NotFinite {
        /// The tensor or node.
        what: String,
        /// The first non-finite element's index.
        index: usize,
        /// Its value.
        value: f32,
    },

    /// A file a model names that the engine will not read: outside the model's folder, not a
    /// regular file, or a byte range outside the file.
    #[error("external data of {tensor} at {location:?}: {message}")]
    ExternalData {
        /// The tensor whose data it is.
        tensor: String,
        /// The location the model gives.
        location: String,
        /// Why it is refused.
        message: String,
    },

    /// Something read from a file or flag is larger than the engine's stated budget for it.
    #[error("{what} needs {needed} bytes, over the limit of {limit} bytes ({budget})")]
    TooLarge {
        /// What would be read or allocated.
        what: String,
        /// The bytes it needs (saturating at `u64::MAX`).
        needed: u64,
        /// The most the engine allows.
        limit: u64,
        /// Which budget it is.
        budget: &'static str,
    },

    /// Any other error, found in a file: the file, then the error itself, whose kind survives.
    #[error("{path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        source: Box<Error>,
    },
}

/// What kind of failure an [`Error`] is, seen through [`Error::InFile`]: for callers (and tests)
/// to match on instead of message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// [`Error::NoAdapter`].
    NoAdapter,
    /// [`Error::Device`].
    Device,
    /// [`Error::Gpu`].
    Gpu,
    /// [`Error::OverLimit`].
    OverLimit,
    /// [`Error::Shape`].
    Shape,
    /// [`Error::Unsupported`].
    Unsupported,
    /// [`Error::File`].
    File,
    /// [`Error::NotFinite`].
    NotFinite,
    /// [`Error::ExternalData`].
    ExternalData,
    /// [`Error::TooLarge`].
    TooLarge,
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

    /// The error as found in `path`: errors that already name a file are kept as they are.
    pub fn in_file(self, path: impl Into<PathBuf>) -> Self {
        match self {
            Error::File { .. } | Error::InFile { .. } => self,
            other => Error::InFile { path: path.into(), source: Box::new(other) },
        }
    }

    /// The kind of failure, whatever file it was found in.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NoAdapter { .. } => ErrorKind::NoAdapter,
            Error::Device(_) => ErrorKind::Device,
            Error::Gpu { .. } => ErrorKind::Gpu,
            Error::OverLimit { .. } => ErrorKind::OverLimit,
            Error::Shape { .. } => ErrorKind::Shape,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::File { .. } => ErrorKind::File,
            Error::NotFinite { .. } => ErrorKind::NotFinite,
            Error::ExternalData { .. } => ErrorKind::ExternalData,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::InFile { source, .. } => source.kind(),
        }
    }

    /// The file the error was found in, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::File { path, .. } | Error::InFile { path, .. } => Some(path),
            _ => None,
        }
    }
}
