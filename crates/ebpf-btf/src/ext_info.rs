//! `.BTF.ext`: function info, line info and CO-RE relocations, grouped per ELF section
//! name and keyed by instruction **byte** offset within that section (as in object files).
//!
//! Strings (section names, file names, source lines, accessor strings) come from the
//! `.BTF` string table of the accompanying [`Spec`]; each distinct string is allocated
//! once and shared.
//!
//! ```
//! use ebpf_btf::{CoreReloKind, ExtInfo};
//! assert_eq!(CoreReloKind::from_raw(0), Some(CoreReloKind::FieldByteOffset));
//! assert_eq!(CoreReloKind::TypeMatches as u32, 12);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::raw::{self, Endian};
use crate::spec::Spec;
use crate::strings::StringTable;
use crate::types::TypeId;

mod read;

/// `enum bpf_core_relo_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum CoreReloKind {
    /// Field byte offset.
    FieldByteOffset = 0,
    /// Field size in bytes.
    FieldByteSize = 1,
    /// Field exists in target.
    FieldExists = 2,
    /// Field signedness.
    FieldSigned = 3,
    /// Bitfield left shift for u64 extraction.
    FieldLShiftU64 = 4,
    /// Bitfield right shift for u64 extraction.
    FieldRShiftU64 = 5,
    /// Local type id.
    TypeIdLocal = 6,
    /// Target type id.
    TypeIdTarget = 7,
    /// Type exists in target.
    TypeExists = 8,
    /// Type size.
    TypeSize = 9,
    /// Enumerator exists in target.
    EnumvalExists = 10,
    /// Enumerator value.
    EnumvalValue = 11,
    /// Type matches target (# Minimum kernel version: libbpf 1.0 semantics, no kernel need).
    TypeMatches = 12,
}

impl CoreReloKind {
    /// Converts the raw kind.
    #[must_use]
    pub const fn from_raw(v: u32) -> Option<Self> {
        Some(match v {
            0 => Self::FieldByteOffset,
            1 => Self::FieldByteSize,
            2 => Self::FieldExists,
            3 => Self::FieldSigned,
            4 => Self::FieldLShiftU64,
            5 => Self::FieldRShiftU64,
            6 => Self::TypeIdLocal,
            7 => Self::TypeIdTarget,
            8 => Self::TypeExists,
            9 => Self::TypeSize,
            10 => Self::EnumvalExists,
            11 => Self::EnumvalValue,
            12 => Self::TypeMatches,
            _ => return None,
        })
    }

    /// libbpf's name for the kind (`byte_off`, `type_size`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::FieldByteOffset => "byte_off",
            Self::FieldByteSize => "byte_sz",
            Self::FieldExists => "field_exists",
            Self::FieldSigned => "signed",
            Self::FieldLShiftU64 => "lshift_u64",
            Self::FieldRShiftU64 => "rshift_u64",
            Self::TypeIdLocal => "local_type_id",
            Self::TypeIdTarget => "target_type_id",
            Self::TypeExists => "type_exists",
            Self::TypeSize => "type_size",
            Self::EnumvalExists => "enumval_exists",
            Self::EnumvalValue => "enumval_value",
            Self::TypeMatches => "type_matches",
        }
    }
}

/// `bpf_func_info`: the FUNC describing the function starting at `insn_off`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncInfo {
    /// Byte offset of the function's first instruction in its section.
    pub insn_off: u32,
    /// The FUNC type.
    pub type_id: TypeId,
}

/// `bpf_line_info`: source position of the instruction at `insn_off`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInfo {
    /// Byte offset of the instruction.
    pub insn_off: u32,
    /// Source file.
    pub file_name: Arc<str>,
    /// Text of the source line.
    pub line: Arc<str>,
    /// Line number (`line_col >> 10`).
    pub line_num: u32,
    /// Column (`line_col & 0x3ff`).
    pub column: u32,
    /// Raw offsets for re-encoding: (`file_name_off`, `line_off`).
    pub raw_offsets: (u32, u32),
}

/// `bpf_core_relo`: a CO-RE relocation for the instruction at `insn_off`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreRelo {
    /// Byte offset of the instruction.
    pub insn_off: u32,
    /// Local root type.
    pub type_id: TypeId,
    /// Accessor string (`0:1:2`).
    pub access: Arc<str>,
    /// What to compute.
    pub kind: CoreReloKind,
}

impl CoreRelo {
    /// The accessor string parsed into indices.
    pub fn accessor(&self) -> Result<Vec<u32>> {
        self.access
            .split(':')
            .map(|s| s.parse::<u32>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| Error::BadExt {
                section: "core_relo".into(),
                field: "access_str_off",
                reason: format!("invalid accessor {:?}", self.access),
            })
    }
}

/// Everything `.BTF.ext` says about one ELF section, each list sorted by `insn_off`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtSection {
    /// Function info.
    pub func_info: Vec<FuncInfo>,
    /// Line info.
    pub line_info: Vec<LineInfo>,
    /// CO-RE relocations.
    pub core_relos: Vec<CoreRelo>,
}

/// A parsed `.BTF.ext` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtInfo {
    /// Records per ELF section name (`kprobe/sys_open`, `.text`...).
    pub sections: BTreeMap<String, ExtSection>,
}

/// `bpf_line_info` as stored: its strings left as offsets into the `.BTF` string table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLineInfo {
    /// Byte offset of the instruction.
    pub insn_off: u32,
    /// `file_name_off`.
    pub file_name_off: u32,
    /// `line_off`.
    pub line_off: u32,
    /// `line_col`: line number `<< 10` | column.
    pub line_col: u32,
}

impl RawLineInfo {
    /// The record with its strings read from `strings` (the `.BTF` string table it was
    /// checked against); an offset that is not there reads as an empty string.
    #[must_use]
    pub fn resolve(&self, strings: &StringTable<'_>) -> LineInfo {
        let s = |off| Arc::<str>::from(strings.get(off).unwrap_or(""));
        self.resolve_with(s(self.file_name_off), s(self.line_off))
    }

    fn resolve_with(&self, file_name: Arc<str>, line: Arc<str>) -> LineInfo {
        LineInfo {
            insn_off: self.insn_off,
            file_name,
            line,
            line_num: self.line_col >> 10,
            column: self.line_col & 0x3ff,
            raw_offsets: (self.file_name_off, self.line_off),
        }
    }
}

/// The `.BTF` string table (of an object's own BTF, so offsets start at 0) that raw
/// `.BTF.ext` records' string offsets ([`RawLineInfo`], [`RawCoreRelo`]) were checked
/// against when they were parsed. Kept with records left raw, so that a reader can tell
/// whether a BTF holds the same strings at the same offsets without reading any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtStrings(pub Arc<[u8]>);

impl ExtStrings {
    /// Whether `spec`'s own string table holds these strings at the same offsets: it
    /// starts with these bytes (strings added later go after them) and is not split.
    #[must_use]
    pub fn held_by(&self, spec: &Spec) -> bool {
        spec.string_base() == 0 && spec.strings().as_bytes().starts_with(&self.0)
    }

    /// The table, to read strings from.
    #[must_use]
    pub fn table(&self) -> StringTable<'_> {
        StringTable::new(&self.0)
    }

    /// The string at `off`, if it is one of the table's.
    #[must_use]
    pub fn get(&self, off: u32) -> Option<&str> {
        self.table().get(off).ok()
    }
}

/// `bpf_core_relo` as stored: the accessor left as an offset into the `.BTF` string table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawCoreRelo {
    /// Byte offset of the instruction.
    pub insn_off: u32,
    /// Local root type.
    pub type_id: TypeId,
    /// `access_str_off`.
    pub access_str_off: u32,
    /// What to compute.
    pub kind: CoreReloKind,
}

impl RawCoreRelo {
    /// The relocation with its accessor read from `strings` (the `.BTF` string table it
    /// was checked against); an offset that is not there reads as an empty string.
    #[must_use]
    pub fn resolve(&self, strings: &StringTable<'_>) -> CoreRelo {
        self.resolve_with(strings.get(self.access_str_off).unwrap_or("").into())
    }

    fn resolve_with(&self, access: Arc<str>) -> CoreRelo {
        CoreRelo {
            insn_off: self.insn_off,
            type_id: self.type_id,
            access,
            kind: self.kind,
        }
    }
}

/// What `.BTF.ext` says about one ELF section, strings not yet read (see [`RawExtInfo`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawExtSection {
    /// Function info.
    pub func_info: Vec<FuncInfo>,
    /// Line info.
    pub line_info: Vec<RawLineInfo>,
    /// CO-RE relocations.
    pub core_relos: Vec<RawCoreRelo>,
}

/// A `.BTF.ext` section checked exactly as [`ExtInfo::parse`] checks it (every string
/// offset resolves to valid UTF-8, every type id exists, ...), but with the records' strings
/// left as offsets: nothing is allocated per record, and a record's strings are read only
/// when it is [resolved](RawLineInfo::resolve).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawExtInfo {
    /// Records per ELF section name, each list sorted by `insn_off`.
    pub sections: BTreeMap<String, RawExtSection>,
}

impl RawExtInfo {
    /// Parses and checks `.BTF.ext` bytes against `spec` (the `.BTF` of the same object),
    /// with the same errors as [`ExtInfo::parse`].
    pub fn parse(bytes: &[u8], spec: &Spec) -> Result<Self> {
        if bytes.len() < 8 {
            return Err(Error::Truncated {
                what: WHAT,
                offset: 0,
                need: 8,
                have: bytes.len(),
            });
        }
        let endian = Endian::detect([bytes[0], bytes[1]]).ok_or(Error::BadMagic {
            what: WHAT,
            magic: u16::from_le_bytes([bytes[0], bytes[1]]),
        })?;
        if endian != spec.endian() && !spec.is_empty() {
            return Err(Error::BadHeader {
                what: WHAT,
                field: "magic (byte order differs from .BTF)",
                value: 0,
            });
        }
        match endian {
            Endian::Little => read::parse_impl::<raw::LE>(bytes, spec),
            Endian::Big => read::parse_impl::<raw::BE>(bytes, spec),
        }
    }

    /// The section `name`, if it has any record.
    #[must_use]
    pub fn section(&self, name: &str) -> Option<&RawExtSection> {
        self.sections.get(name)
    }
}

const WHAT: &str = "ext header";

impl ExtInfo {
    /// Parses `.BTF.ext` bytes, resolving strings and checking type ids against `spec`
    /// (the `.BTF` of the same object).
    pub fn parse(bytes: &[u8], spec: &Spec) -> Result<Self> {
        let raw = RawExtInfo::parse(bytes, spec)?;
        // Each distinct string is allocated once and shared: file names and source
        // lines repeat. Every offset was checked by the raw parse.
        let mut interned: HashMap<u32, Arc<str>, BuildHasherDefault<crate::strings::IntHasher>> =
            HashMap::default();
        let mut string = |off: u32| -> Arc<str> {
            interned
                .entry(off)
                .or_insert_with(|| Arc::from(spec.string_at(off).unwrap_or("")))
                .clone()
        };
        let sections = raw
            .sections
            .into_iter()
            .map(|(name, sec)| {
                let line_info = sec
                    .line_info
                    .iter()
                    .map(|r| {
                        let file_name = string(r.file_name_off);
                        r.resolve_with(file_name, string(r.line_off))
                    })
                    .collect();
                let core_relos = sec
                    .core_relos
                    .iter()
                    .map(|r| r.resolve_with(string(r.access_str_off)))
                    .collect();
                let sec = ExtSection {
                    func_info: sec.func_info,
                    line_info,
                    core_relos,
                };
                (name, sec)
            })
            .collect();
        Ok(ExtInfo { sections })
    }

    /// The section `name`, if it has any record.
    #[must_use]
    pub fn section(&self, name: &str) -> Option<&ExtSection> {
        self.sections.get(name)
    }
}

/// Encodes func info records for `BPF_PROG_LOAD` (`func_info`, `func_info_rec_size` = 8):
/// `insn_off` is converted from bytes to instructions (divided by 8) after subtracting
/// `start` (the byte offset of the program's first instruction in its section).
#[must_use]
pub fn marshal_func_info(records: &[FuncInfo], start: u32, endian: Endian) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 8);
    for r in records {
        for v in [r.insn_off.wrapping_sub(start) / 8, r.type_id.0] {
            out.extend_from_slice(&u32_bytes(v, endian));
        }
    }
    out
}

/// Encodes line info records for `BPF_PROG_LOAD` (`line_info_rec_size` = 16), converting
/// `insn_off` like [`marshal_func_info`]. String offsets refer to the `.BTF` loaded with the
/// program.
#[must_use]
pub fn marshal_line_info(records: &[LineInfo], start: u32, endian: Endian) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 16);
    for r in records {
        let line_col = (r.line_num << 10) | (r.column & 0x3ff);
        for v in [
            r.insn_off.wrapping_sub(start) / 8,
            r.raw_offsets.0,
            r.raw_offsets.1,
            line_col,
        ] {
            out.extend_from_slice(&u32_bytes(v, endian));
        }
    }
    out
}

fn u32_bytes(v: u32, endian: Endian) -> [u8; 4] {
    match endian {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => v.to_be_bytes(),
    }
}
