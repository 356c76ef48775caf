//! The error of the ring buffer and perf readers and of the user ring buffer writer.

use std::time::Duration;

use ebpf_syscall::MapType;

/// An error of a ring buffer or perf reader, or of a user ring buffer writer.
///
/// Messages name the ring (`ring buffer 'events'`, `perf buffer 'events' cpu 3`)
/// and carry the values involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReaderError {
    /// A system call failed (the call's error is the `source()`).
    #[error("{what}")]
    Syscall {
        /// What was being done, naming the ring.
        what: String,
        /// The underlying error.
        #[source]
        source: ebpf_syscall::Error,
    },
    /// Reading a kernel file (`/sys/devices/system/cpu/online`, ...) failed
    /// (the I/O error is the `source()`).
    #[error("{what}")]
    Io {
        /// What was being done, including the path.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The map is not of the type the reader or writer handles.
    #[error("map '{name}': its type is {found}, expected {expected}")]
    WrongMapType {
        /// The map's name.
        name: String,
        /// Its type.
        found: MapType,
        /// The type expected.
        expected: MapType,
    },
    /// The map or the requested ring has a size the reader cannot use.
    #[error("{ring}: {reason}")]
    InvalidSize {
        /// The ring.
        ring: String,
        /// What is wrong, with the values.
        reason: String,
    },
    /// A record header the kernel wrote does not fit the ring: the mapping is
    /// not a ring of the expected layout (or memory was corrupted).
    #[error("{ring}: record at {pos:#x} of {len} bytes exceeds the ring size {size}")]
    Corrupt {
        /// The ring.
        ring: String,
        /// The record's position (free-running counter).
        pos: u64,
        /// The length its header gives.
        len: u64,
        /// The ring's data size.
        size: u64,
    },
    /// The ring buffer already has a reader (or the user ring buffer a
    /// writer) in this process: a second one would move the same consumer
    /// (producer) position under the first one's records.
    #[error(
        "{ring}: map id {id} is already read or written by another reader or writer of this process (one per ring buffer)"
    )]
    AlreadyClaimed {
        /// The ring.
        ring: String,
        /// The map's id.
        id: u32,
    },
    /// A blocking read reached its deadline with no record.
    #[error("{ring}: no record within the deadline ({waited:?} waited)")]
    Timeout {
        /// The ring or reader.
        ring: String,
        /// How long the read waited.
        waited: Duration,
    },
    /// A blocking read was woken by a `Flusher` and
    /// found no pending record.
    #[error("{ring}: flushed with no pending record")]
    Flushed {
        /// The ring or reader.
        ring: String,
    },
    /// A user ring buffer record cannot ever fit.
    #[error("{ring}: record of {len} bytes exceeds the largest possible record of {max} bytes")]
    RecordTooLarge {
        /// The ring.
        ring: String,
        /// The requested payload length.
        len: usize,
        /// The largest payload the ring can hold.
        max: usize,
    },
    /// A user ring buffer has no room for the record now (the kernel has not
    /// drained enough).
    #[error("{ring}: no room for a record of {needed} bytes ({free} bytes free)")]
    Full {
        /// The ring.
        ring: String,
        /// Bytes needed, header and padding included.
        needed: u64,
        /// Bytes free.
        free: u64,
    },
    /// The running kernel lacks the feature.
    #[error(transparent)]
    NotSupported(#[from] ebpf_syscall::NotSupported),
}

impl ReaderError {
    /// Whether this is a [`ReaderError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// Whether this is a [`ReaderError::Flushed`].
    pub fn is_flushed(&self) -> bool {
        matches!(self, Self::Flushed { .. })
    }

    pub(crate) fn syscall(what: impl Into<String>) -> impl FnOnce(ebpf_syscall::Error) -> Self {
        let what = what.into();
        move |source| match source {
            ebpf_syscall::Error::NotSupported(n) => Self::NotSupported(n),
            source => Self::Syscall { what, source },
        }
    }
}

/// A `Result` with [`ReaderError`].
pub type Result<T, E = ReaderError> = core::result::Result<T, E>;
