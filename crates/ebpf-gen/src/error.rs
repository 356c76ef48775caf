//! The error type of code generation and of the build-time compile helper.

use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// An error of `ebpf-gen`. Messages read like a path:
/// `type 'struct event' (id 12): member 'flags': bitfield of 70 bits is wider than 64`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The BTF could not be read (its messages start with `btf:`).
    #[error(transparent)]
    Btf(#[from] ebpf_btf::Error),
    /// The object file could not be read (the spec error is the `source()`).
    #[error("object")]
    Spec(#[from] ebpf_spec::Error),
    /// A type cannot be represented in Rust with its exact layout.
    #[error("type '{name}' (id {id}): {reason}")]
    Unrepresentable {
        /// The C name of the type (`struct event`, `union (anon)`).
        name: String,
        /// Its id in the BTF.
        id: u32,
        /// Why.
        reason: String,
    },
    /// A type asked for by name (`--type`) is not in the BTF.
    #[error("type '{0}': not in the BTF (give a struct, union, enum or typedef name)")]
    NoSuchType(String),
    /// A tool the build needs is missing.
    #[error(
        "{tool}: not found ({tried}); install it with `apt-get install {package}` or set ${env}"
    )]
    ToolNotFound {
        /// The tool (`clang`, `llvm-strip`).
        tool: &'static str,
        /// What was tried.
        tried: String,
        /// The Debian package that has it.
        package: &'static str,
        /// The environment variable that names it.
        env: &'static str,
    },
    /// A tool ran and failed.
    #[error("{command}: {status}\n{stderr}")]
    ToolFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// Reading or writing a file failed (the path; the I/O error is the `source()`).
    #[error("{path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A CO-RE relocation of an object could not be resolved against the
    /// source BTF (minimal BTF).
    #[error("program '{program}': CO-RE relocation")]
    Core {
        /// The program the relocation belongs to.
        program: String,
        /// The relocation and why.
        #[source]
        source: Box<ebpf_btf::core::CoreError>,
    },
    /// The build was configured wrongly (no `OUT_DIR`, a bad name, ...).
    #[error("{0}")]
    Config(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
