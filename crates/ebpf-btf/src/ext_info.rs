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

use zerocopy::FromBytes;
use zerocopy::byteorder::{ByteOrder, U32};

use crate::bits::Bits;
use crate::error::{Error, Result};
use crate::raw::{self, Endian};
use crate::spec::Spec;
use crate::strings::StringTable;
use crate::types::{Kind, TypeId};

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
            Endian::Little => parse_impl::<raw::LE>(bytes, spec),
            Endian::Big => parse_impl::<raw::BE>(bytes, spec),
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

struct Ctx<'a> {
    spec: &'a Spec,
    /// The offsets (from [`Spec::string_base`]) already found to be valid strings, and
    /// valid accessors: records repeat file names and lines, and relocations accessors.
    valid: Bits,
    valid_access: Bits,
    /// The file name offset of the last line info checked: consecutive records are mostly
    /// in one file.
    last_file: Option<u32>,
    /// This spec's own string table when all of it is UTF-8 (checked once, at a few bytes
    /// per instruction): then a string needs only its NUL found.
    utf8: Option<&'a str>,
    /// The length of the own string table when it is all ASCII and the spec is not split
    /// (found on the first line info block): then every offset below it starts a string.
    ascii_len: Option<Option<u32>>,
}

impl Ctx<'_> {
    /// [`Ctx::ascii_len`], found on first use.
    fn ascii_len(&mut self) -> Option<u32> {
        let (utf8, base) = (self.utf8, self.spec.string_base());
        *self.ascii_len.get_or_insert_with(|| {
            utf8.filter(|t| base == 0 && t.is_ascii())
                .and_then(|t| u32::try_from(t.len()).ok())
        })
    }
}

impl<'a> Ctx<'a> {
    /// The string at `off`, checked (in the table, valid UTF-8) and borrowed: nothing is
    /// allocated.
    fn string(&self, section: &str, field: &'static str, off: u32) -> Result<&'a str> {
        // What string_at gives when it succeeds; any doubt goes to string_at for its error.
        if let (Some(t), Some(rel)) = (self.utf8, off.checked_sub(self.spec.string_base())) {
            let rest = t.as_bytes().get(rel as usize..).unwrap_or_default();
            if let Some(end) = crate::strings::nul_position(rest) {
                if let Some(s) = t.get(rel as usize..rel as usize + end) {
                    return Ok(s);
                }
            }
        }
        self.spec.string_at(off).map_err(|e| Error::BadExt {
            section: section.into(),
            field,
            reason: e.to_string(),
        })
    }

    /// Checks the string at `off` like [`Ctx::string`], once per offset.
    #[inline]
    fn check(&mut self, section: &str, field: &'static str, off: u32) -> Result<()> {
        // In an all-UTF-8 table that ends with NUL (checked with the header), an offset
        // inside it that starts a character starts a valid string: no need to find its end.
        // (Inlined: a line info checks one or two strings, and this is all of it.)
        if let (Some(t), Some(rel)) = (self.utf8, off.checked_sub(self.spec.string_base())) {
            let rel = rel as usize;
            if rel < t.len() && t.is_char_boundary(rel) {
                return Ok(());
            }
        }
        self.check_slow(section, field, off)
    }

    /// [`Ctx::check`] for a table that is not all UTF-8, or an offset outside it.
    #[inline(never)]
    fn check_slow(&mut self, section: &str, field: &'static str, off: u32) -> Result<()> {
        let rel = off.wrapping_sub(self.spec.string_base());
        if !self.valid.contains(rel) {
            self.string(section, field, off)?;
            self.valid.insert(rel);
        }
        Ok(())
    }
}

fn parse_impl<O: ByteOrder>(b: &[u8], spec: &Spec) -> Result<RawExtInfo> {
    let (h, _) = raw::btf_ext_header::<O>::ref_from_prefix(b).map_err(|_| Error::Truncated {
        what: WHAT,
        offset: 0,
        need: 24,
        have: b.len(),
    })?;
    if h.version != raw::BTF_VERSION {
        return Err(Error::BadVersion {
            what: WHAT,
            version: h.version,
        });
    }
    let hdr_len = h.hdr_len.get() as usize;
    if hdr_len < 24 || hdr_len > b.len() {
        return Err(Error::BadHeader {
            what: WHAT,
            field: "hdr_len",
            value: hdr_len as u64,
        });
    }
    let mut info = RawExtInfo::default();
    let body = &b[hdr_len..];
    let sub = |field: &'static str, off: u32, len: u32| -> Result<&[u8]> {
        let end = (off as usize).checked_add(len as usize);
        match end {
            Some(e) if e <= body.len() => Ok(&body[off as usize..e]),
            _ => Err(Error::BadHeader {
                what: WHAT,
                field,
                value: u64::from(off) + u64::from(len),
            }),
        }
    };
    let fi = sub(
        "func_info_off",
        h.func_info_off.get(),
        h.func_info_len.get(),
    )?;
    let li = sub(
        "line_info_off",
        h.line_info_off.get(),
        h.line_info_len.get(),
    )?;
    let cr = if hdr_len >= 32 {
        let (c, _) = raw::btf_ext_header_core::<O>::ref_from_prefix(&b[24..]).map_err(|_| {
            Error::Truncated {
                what: WHAT,
                offset: 24,
                need: 8,
                have: b.len() - 24,
            }
        })?;
        sub(
            "core_relo_off",
            c.core_relo_off.get(),
            c.core_relo_len.get(),
        )?
    } else {
        &[]
    };

    let strings = spec.strings();
    let mut ctx = Ctx {
        spec,
        valid: Bits::new(strings.len()),
        valid_access: Bits::new(strings.len()),
        last_file: None,
        utf8: std::str::from_utf8(strings.as_bytes()).ok(),
        ascii_len: None,
    };
    let secs = &mut info.sections;
    walk::<O, _>(
        fi,
        "func_info",
        8,
        &mut ctx,
        secs,
        |_: &mut Ctx<'_>, sec: &str, out: &mut RawExtSection, recs: Records<'_>| {
            for rec in recs.iter() {
                let (r, _) = raw::bpf_func_info::<O>::ref_from_prefix(rec)
                    .map_err(|_| trunc("func_info"))?;
                let id = TypeId(r.type_id.get());
                match spec.kind_of(id) {
                    Ok(Kind::Func) => {}
                    _ => {
                        return Err(Error::BadExt {
                            section: format!("func_info {sec}"),
                            field: "type_id",
                            reason: format!("type {id} is not a func"),
                        });
                    }
                }
                out.func_info.push(FuncInfo {
                    insn_off: r.insn_off.get(),
                    type_id: id,
                });
            }
            Ok(())
        },
    )?;
    walk::<O, _>(
        li,
        "line_info",
        16,
        &mut ctx,
        secs,
        |ctx: &mut Ctx<'_>, sec: &str, out: &mut RawExtSection, recs: Records<'_>| {
            let line_info = |rec| {
                raw::bpf_line_info::<O>::ref_from_prefix(rec)
                    .map(|(r, _)| r)
                    .map_err(|_| trunc("line_info"))
            };
            // Records of the struct's size whose every offset is inside an all-ASCII table
            // are all valid: checked with two maxima, in a loop without branches (for a
            // block of more than a few, which pays for finding whether the table is ASCII).
            let whole = <[raw::bpf_line_info<O>]>::ref_from_bytes(recs.bytes)
                .ok()
                .filter(|all| {
                    recs.size == size_of::<raw::bpf_line_info<O>>() && all.len() >= MANY_LINES
                });
            let fast = match (whole, ctx.ascii_len()) {
                (Some(all), Some(len)) => {
                    let (mut files, mut lines) = (0u32, 0u32);
                    for r in all {
                        files = files.max(r.file_name_off.get());
                        lines = lines.max(r.line_off.get());
                    }
                    files < len && lines < len
                }
                _ => false,
            };
            // Otherwise the strings one by one (finding the first bad one), then the
            // records copied in one go (a section has thousands: the loop stays small).
            if !fast {
                for rec in recs.iter() {
                    let r = line_info(rec)?;
                    let fo = r.file_name_off.get();
                    if ctx.last_file != Some(fo) {
                        ctx.check(sec, "file_name_off", fo)?;
                        ctx.last_file = Some(fo);
                    }
                    ctx.check(sec, "line_off", r.line_off.get())?;
                }
            }
            let raw = |r: &raw::bpf_line_info<O>| RawLineInfo {
                insn_off: r.insn_off.get(),
                file_name_off: r.file_name_off.get(),
                line_off: r.line_off.get(),
                line_col: r.line_col.get(),
            };
            // Records of exactly the struct's size (what compilers write) cast as one
            // slice; longer ones (a newer format's extra fields) one by one.
            match <[raw::bpf_line_info<O>]>::ref_from_bytes(recs.bytes) {
                Ok(all) if recs.size == size_of::<raw::bpf_line_info<O>>() => {
                    out.line_info.extend(all.iter().map(raw));
                }
                _ => {
                    for rec in recs.iter() {
                        out.line_info.push(raw(line_info(rec)?));
                    }
                }
            }
            Ok(())
        },
    )?;
    walk::<O, _>(
        cr,
        "core_relo",
        16,
        &mut ctx,
        secs,
        |ctx: &mut Ctx<'_>, sec: &str, out: &mut RawExtSection, recs: Records<'_>| {
            for rec in recs.iter() {
                let (r, _) = raw::bpf_core_relo::<O>::ref_from_prefix(rec)
                    .map_err(|_| trunc("core_relo"))?;
                let id = TypeId(r.type_id.get());
                let err = |field, reason: String| Error::BadExt {
                    section: format!("core_relo {sec}"),
                    field,
                    reason,
                };
                spec.kind_of(id)
                    .map_err(|e| err("type_id", e.to_string()))?;
                let kind = CoreReloKind::from_raw(r.kind.get())
                    .ok_or_else(|| err("kind", format!("unknown kind {}", r.kind.get())))?;
                let access_str_off = r.access_str_off.get();
                let rel = access_str_off.wrapping_sub(spec.string_base());
                if !ctx.valid_access.contains(rel) {
                    if !is_accessor_at(spec, access_str_off) {
                        // Not a string (that error), or not an accessor.
                        let access = ctx.string(sec, "access_str_off", access_str_off)?;
                        return Err(err(
                            "access_str_off",
                            format!("invalid accessor {access:?}"),
                        ));
                    }
                    ctx.valid_access.insert(rel);
                }
                out.core_relos.push(RawCoreRelo {
                    insn_off: r.insn_off.get(),
                    type_id: id,
                    access_str_off,
                    kind,
                });
            }
            Ok(())
        },
    )?;
    // Compilers write each list sorted: checked in one pass, sorted only when it is not.
    fn sort<T>(v: &mut [T], key: impl Fn(&T) -> u32) {
        if !v.is_sorted_by_key(&key) {
            v.sort_by_key(key);
        }
    }
    for s in info.sections.values_mut() {
        sort(&mut s.func_info, |r| r.insn_off);
        sort(&mut s.line_info, |r| r.insn_off);
        sort(&mut s.core_relos, |r| r.insn_off);
    }
    Ok(info)
}

/// Whether the own string table of `spec` holds an accessor at `off`: digits and colons up
/// to a NUL, at least one (so a valid string too), read in one pass over its bytes.
fn is_accessor_at(spec: &Spec, off: u32) -> bool {
    let Some(rel) = off.checked_sub(spec.string_base()) else {
        return false;
    };
    let rest = spec
        .strings()
        .as_bytes()
        .get(rel as usize..)
        .unwrap_or_default();
    let n = rest
        .iter()
        .position(|&c| !(c.is_ascii_digit() || c == b':'))
        .unwrap_or(rest.len());
    n > 0 && rest.get(n) == Some(&0)
}

/// A line info block at least this long is checked by its maxima when it can be.
const MANY_LINES: usize = 32;

fn trunc(what: &str) -> Error {
    Error::BadExt {
        section: what.into(),
        field: "rec_size",
        reason: "record truncated".into(),
    }
}

/// The records of one section in one info block: `size` bytes each (at least the
/// struct's), `bytes` a whole number of them.
#[derive(Clone, Copy)]
struct Records<'b> {
    bytes: &'b [u8],
    size: usize,
}

impl<'b> Records<'b> {
    fn iter(self) -> std::slice::ChunksExact<'b, u8> {
        self.bytes.chunks_exact(self.size)
    }
}

/// Walks one info block: `rec_size`, then `{sec_name_off, num_info, records...}*`; `f`
/// handles the records of one section (named by the `&str`), adding them to that section's
/// [`RawExtSection`] (generic, so each block's handler is inlined).
fn walk<'a, O: ByteOrder, F>(
    data: &[u8],
    what: &'static str,
    min_rec: usize,
    ctx: &mut Ctx<'a>,
    sections: &mut BTreeMap<String, RawExtSection>,
    mut f: F,
) -> Result<()>
where
    F: FnMut(&mut Ctx<'a>, &str, &mut RawExtSection, Records<'_>) -> Result<()>,
{
    if data.is_empty() {
        return Ok(());
    }
    let bad = |field: &'static str, reason: String| Error::BadExt {
        section: what.into(),
        field,
        reason,
    };
    let (rs, mut rest) =
        U32::<O>::ref_from_prefix(data).map_err(|_| bad("rec_size", "truncated".into()))?;
    let rec_size = rs.get() as usize;
    if rec_size < min_rec || rec_size % 4 != 0 || rec_size > 1024 {
        return Err(bad("rec_size", format!("invalid record size {rec_size}")));
    }
    while !rest.is_empty() {
        let (sec, r) = raw::btf_ext_info_sec::<O>::ref_from_prefix(rest)
            .map_err(|_| bad("sec", "truncated".into()))?;
        let name = ctx.string(what, "sec_name_off", sec.sec_name_off.get())?;
        if name.is_empty() {
            return Err(bad("sec_name_off", "empty section name".into()));
        }
        let n = sec.num_info.get() as usize;
        if n == 0 {
            return Err(bad("num_info", format!("{name}: zero records")));
        }
        let total = n
            .checked_mul(rec_size)
            .filter(|&t| t <= r.len())
            .ok_or_else(|| {
                bad(
                    "num_info",
                    format!(
                        "{name}: {n} records of {rec_size} bytes exceed the {} remaining",
                        r.len()
                    ),
                )
            })?;
        // The section's entry is found once per block, not once per record.
        let out = match sections.get_mut(name) {
            Some(out) => out,
            None => sections.entry(name.to_string()).or_default(),
        };
        match what {
            "func_info" => out.func_info.reserve(n),
            "line_info" => out.line_info.reserve(n),
            _ => out.core_relos.reserve(n),
        }
        let recs = Records {
            bytes: r.get(..total).unwrap_or_default(),
            size: rec_size,
        };
        f(ctx, name, out, recs)?;
        rest = &r[total..];
    }
    Ok(())
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
