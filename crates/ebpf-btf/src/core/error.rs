//! Errors of the CO-RE engine.
//!
//! A [`CoreError`] reads like a path to the failing relocation, for example
//! `relocation 3 (field byte offset of struct core_s.a, insn 12): ambiguous relocation: ...`.

use std::fmt;

use crate::ext_info::CoreReloKind;

/// Why an accessor string (`"0:1:2"`) is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessorError {
    /// The string is empty.
    #[error("empty accessor")]
    Empty,
    /// Component `pos` is empty or not a non-negative decimal number.
    #[error("accessor {access:?}: component {pos} is not an index")]
    BadIndex {
        /// The whole accessor.
        access: String,
        /// Index of the offending component.
        pos: usize,
    },
    /// More components than libbpf's `BPF_CORE_SPEC_MAX_LEN`.
    #[error("accessor {access:?}: more than {max} components")]
    TooLong {
        /// The whole accessor.
        access: String,
        /// The limit.
        max: usize,
    },
    /// Type-based relocations take exactly `"0"`.
    #[error("accessor {access:?}: type-based relocations take \"0\"")]
    NotTypeAccessor {
        /// The whole accessor.
        access: String,
    },
    /// Enum-value relocations take one index below the number of enumerators.
    #[error("accessor {access:?}: not an enumerator index of {type_desc}")]
    NotEnumAccessor {
        /// The whole accessor.
        access: String,
        /// The local type (`[5] struct foo`).
        type_desc: String,
    },
    /// Component `pos` indexes past the members of a struct/union or the elements of an array.
    #[error("accessor {access:?}: component {pos} ({index}) out of range for {type_desc}")]
    OutOfRange {
        /// The whole accessor.
        access: String,
        /// Index of the offending component.
        pos: usize,
        /// Its value.
        index: u32,
        /// The type it indexes (`[5] struct foo`).
        type_desc: String,
    },
    /// Component `pos` steps into a type that is neither composite nor array.
    #[error(
        "accessor {access:?}: component {pos} steps into {type_desc}, which has no members or elements"
    )]
    NotAggregate {
        /// The whole accessor.
        access: String,
        /// Index of the offending component.
        pos: usize,
        /// The type (`[3] int`).
        type_desc: String,
    },
    /// A named member has an empty name where one is required.
    #[error("accessor {access:?}: component {pos} names an invalid member")]
    BadMember {
        /// The whole accessor.
        access: String,
        /// Index of the offending component.
        pos: usize,
    },
}

/// What went wrong with one relocation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreErrorKind {
    /// The accessor string is malformed or does not fit the local type.
    #[error(transparent)]
    Accessor(#[from] AccessorError),
    /// Reading local or target BTF failed.
    #[error(transparent)]
    Btf(#[from] crate::Error),
    /// The local type is anonymous: candidates are searched by name.
    #[error("relocations against anonymous types are not supported")]
    AnonymousType,
    /// Several candidates give different results.
    #[error("ambiguous relocation: {detail} (candidates: {})", candidates.join(", "))]
    Ambiguous {
        /// What differs.
        detail: String,
        /// The disagreeing candidates, spelled like libbpf (`[7] struct amb___one.y (0:1 @ offset 4)`).
        candidates: Vec<String>,
    },
    /// The relocation kind cannot be applied to an array element accessor (`a[n]`).
    #[error("{kind} can't be applied to an array element access")]
    ArrayAccess {
        /// The kind.
        kind: &'static str,
    },
    /// A bitfield cannot be read with one load of at most 8 bytes.
    #[error("bitfield can't be read with a 64-bit load")]
    BitfieldTooWide,
    /// A type has no size or the arithmetic overflowed.
    #[error("{0}")]
    Size(String),
    /// No instruction starts at the relocation's byte offset.
    #[error("no instruction at byte offset {offset}")]
    NoInstruction {
        /// The byte offset.
        offset: u32,
    },
    /// The instruction cannot carry a CO-RE relocation.
    #[error("instruction {insn} can't be relocated ({reason})")]
    BadInstruction {
        /// The instruction, disassembled.
        insn: String,
        /// Why.
        reason: &'static str,
    },
    /// The instruction does not hold the value the local type implies.
    #[error("unexpected {what} in instruction: got {got}, expected {expected} (-> {new})")]
    UnexpectedValue {
        /// `imm`, `off` or `imm64`.
        what: &'static str,
        /// The instruction's value.
        got: u64,
        /// The value computed from the local type.
        expected: u64,
        /// The value it would have been patched to.
        new: u64,
    },
    /// A load/store's size differs from the local field's size.
    #[error("unexpected memory size: got {got}, expected {expected}")]
    UnexpectedMemSize {
        /// The instruction's size.
        got: u32,
        /// The local field's size.
        expected: u32,
    },
    /// The target field's size is not a load/store size.
    #[error("invalid new memory size {0}")]
    InvalidMemSize(u32),
    /// The new offset does not fit an instruction's 16-bit offset.
    #[error("offset {0} too big for a load/store")]
    OffsetTooBig(u64),
}

/// A relocation that could not be computed or applied, with where it was.
///
/// Its message names the relocation; what went wrong is its
/// [`source`](std::error::Error::source), the [`CoreErrorKind`].
#[derive(Debug)]
pub struct CoreError {
    /// Index of the relocation (as numbered by the caller, see [`super::Relocator`]).
    pub relocation: usize,
    /// Its kind.
    pub kind: CoreReloKind,
    /// The local side spelled like libbpf (`struct core_s.arr[3]`), or the type id if unknown.
    pub local: String,
    /// Instruction index in 8-byte slots from the start of the instructions.
    pub insn: usize,
    /// What went wrong.
    pub source: CoreErrorKind,
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "relocation {} ({} of {}, insn {})",
            self.relocation,
            kind_description(self.kind),
            self.local,
            self.insn,
        )
    }
}

impl std::error::Error for CoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl CoreError {
    /// True for [`CoreErrorKind::Ambiguous`].
    #[must_use]
    pub fn is_ambiguous(&self) -> bool {
        matches!(self.source, CoreErrorKind::Ambiguous { .. })
    }
}

/// A human description of a relocation kind (`field byte offset`).
#[must_use]
pub fn kind_description(kind: CoreReloKind) -> &'static str {
    match kind {
        CoreReloKind::FieldByteOffset => "field byte offset",
        CoreReloKind::FieldByteSize => "field byte size",
        CoreReloKind::FieldExists => "field exists",
        CoreReloKind::FieldSigned => "field signed",
        CoreReloKind::FieldLShiftU64 => "field lshift_u64",
        CoreReloKind::FieldRShiftU64 => "field rshift_u64",
        CoreReloKind::TypeIdLocal => "local type id",
        CoreReloKind::TypeIdTarget => "target type id",
        CoreReloKind::TypeExists => "type exists",
        CoreReloKind::TypeSize => "type size",
        CoreReloKind::TypeMatches => "type matches",
        CoreReloKind::EnumvalExists => "enumval exists",
        CoreReloKind::EnumvalValue => "enumval value",
    }
}
