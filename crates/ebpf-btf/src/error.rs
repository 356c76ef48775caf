//! The crate's single error type.
//!
//! Messages are lowercase and read like a path to the offending datum, for example
//! `btf: type 7: member 2: type id 99 out of range`.

use crate::types::TypeId;

/// Everything that can go wrong while reading, querying or writing BTF.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The blob is shorter than the structure being read.
    #[error("btf: {what}: truncated (need {need} bytes at offset {offset}, have {have})")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset of the structure.
        offset: usize,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The magic number is neither 0xeB9F in little nor in big endian.
    #[error("btf: {what}: not BTF: magic {magic:#06x}, BTF's is 0xeb9f")]
    BadMagic {
        /// Which header (`header` or `ext header`).
        what: &'static str,
        /// The first two bytes, read little endian.
        magic: u16,
    },
    /// Unsupported version in a header.
    #[error("btf: {what}: unsupported version {version}")]
    BadVersion {
        /// Which header.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// A header field is inconsistent (bad length, overlapping sections, non-zero padding...).
    #[error("btf: {what}: {field}: invalid value {value}")]
    BadHeader {
        /// Which header.
        what: &'static str,
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// A type record is malformed.
    #[error("btf: type {id}: {field}: {reason}")]
    BadType {
        /// The type being decoded.
        id: TypeId,
        /// The field at fault (`kind`, `vlen`, `member 3 type`...).
        field: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A type id does not exist in the spec.
    #[error("btf: type id {id} out of range ({count} types)")]
    TypeIdOutOfRange {
        /// The requested id.
        id: TypeId,
        /// Number of type ids in the spec (including void).
        count: u32,
    },
    /// A string offset is past the end of the string table or not NUL-terminated.
    #[error("btf: {what}: string offset {offset} invalid (table is {len} bytes)")]
    BadString {
        /// Where the offset came from.
        what: String,
        /// The offset.
        offset: u32,
        /// Length of the string table.
        len: u32,
    },
    /// A string is not valid UTF-8 or too long.
    #[error("btf: {what}: string at offset {offset} is not a valid name")]
    BadName {
        /// Where the offset came from.
        what: String,
        /// The offset.
        offset: u32,
    },
    /// A chain of typedefs, qualifiers or arrays is longer than the resolve limit (probably a loop).
    #[error("btf: type {id}: resolve depth exceeded (loop in the type graph?)")]
    TooDeep {
        /// The type where resolution started.
        id: TypeId,
    },
    /// A type has no size (void, func, fwd...).
    #[error("btf: type {id}: {kind} has no size")]
    NoSize {
        /// The type.
        id: TypeId,
        /// Its kind name.
        kind: &'static str,
    },
    /// Lookup by name found nothing.
    #[error("btf: no type named {name:?}")]
    NotFound {
        /// The name looked up.
        name: String,
    },
    /// Lookup by name found several candidates where one was expected.
    #[error("btf: name {name:?} is ambiguous ({count} types)")]
    Ambiguous {
        /// The name looked up.
        name: String,
        /// How many matched.
        count: usize,
    },
    /// A `.BTF.ext` record is malformed.
    #[error("btf: ext: {section}: {field}: {reason}")]
    BadExt {
        /// The info section (`func_info`, `line_info`, `core_relo`) and ELF section name if known.
        section: String,
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Marshalling failed (too many types, string table too big...).
    #[error("btf: marshal: {0}")]
    Marshal(String),
    /// Reading kernel BTF failed. The message names the file; the I/O error
    /// is the `source()`.
    #[error("btf: {path}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
