//! Reading the wire format: header validation, the pass over type headers
//! (offsets + name index) and on-demand decoding of one record into a [`Type`].

use zerocopy::FromBytes;
use zerocopy::byteorder::ByteOrder;

use crate::error::{Error, Result};
use crate::names::{
    FlavouredIndex, NameIndex, Segment, essential_len, has_triple, hash, hash_cstr,
};
use crate::raw::{
    self, BTF_KIND_DECL_TAG, BTF_KIND_TYPE_TAG, BTF_VERSION, Endian, btf_header, btf_type,
    info_kind, info_kind_flag, info_vlen, trailer_len,
};
use crate::strings::{MAX_NAME_LEN, QuickNames};
use crate::threads::{PARALLEL_MIN_TYPES, have_second_cpu};
use crate::types::*;

mod check;
pub(crate) use check::check_all;

/// What decoding needs from the spec that owns the blob (implemented by
/// [`crate::Spec`]; a trait so this wire-format layer does not depend on the
/// model built on top of it).
pub(crate) trait Source: Sync {
    /// The byte order of the blob.
    fn endian(&self) -> Endian;
    /// One past the highest valid type id (base types included).
    fn next_id(&self) -> TypeId;
    /// The string at `off` (base strings included) as a checked type or
    /// member name; `field` names the field for an error.
    fn name_at(&self, id: TypeId, field: &dyn Fn() -> String, off: u32) -> Result<&str>;
    /// Checks the name at `off` as [`Source::name_at`] does, without returning it.
    fn check_name_at(&self, id: TypeId, field: &dyn Fn() -> String, off: u32) -> Result<()>;
    /// The quick test of names in the own string table.
    fn quick_names(&self) -> QuickNames<'_>;
    /// The NUL-terminated bytes at `off` in this spec's strings, if in range.
    fn string_bytes(&self, off: u32) -> Option<&[u8]>;
}

/// Where the sections of a `.BTF` blob are (absolute byte ranges).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) endian: Endian,
    pub(crate) types: std::ops::Range<usize>,
    pub(crate) strs: std::ops::Range<usize>,
}

const HDR: &str = "header";

pub(crate) fn parse_header(b: &[u8], split: bool) -> Result<Layout> {
    let need = std::mem::size_of::<btf_header<raw::LE>>();
    if b.len() < need {
        return Err(Error::Truncated {
            what: HDR,
            offset: 0,
            need,
            have: b.len(),
        });
    }
    let endian = Endian::detect([b[0], b[1]]).ok_or(Error::BadMagic {
        what: HDR,
        magic: u16::from_le_bytes([b[0], b[1]]),
    })?;
    match endian {
        Endian::Little => header_impl::<raw::LE>(b, endian, split),
        Endian::Big => header_impl::<raw::BE>(b, endian, split),
    }
}

fn header_impl<O: ByteOrder>(b: &[u8], endian: Endian, split: bool) -> Result<Layout> {
    let (h, _) = btf_header::<O>::ref_from_prefix(b).map_err(|_| Error::Truncated {
        what: HDR,
        offset: 0,
        need: 24,
        have: b.len(),
    })?;
    if h.version != BTF_VERSION {
        return Err(Error::BadVersion {
            what: HDR,
            version: h.version,
        });
    }
    if h.flags != 0 {
        return Err(Error::BadHeader {
            what: HDR,
            field: "flags",
            value: h.flags.into(),
        });
    }
    let hdr_len = h.hdr_len.get() as usize;
    if hdr_len < 24 || hdr_len > b.len() {
        return Err(Error::BadHeader {
            what: HDR,
            field: "hdr_len",
            value: hdr_len as u64,
        });
    }
    if b[24..hdr_len].iter().any(|&x| x != 0) {
        return Err(Error::BadHeader {
            what: HDR,
            field: "hdr_len (non-zero extension)",
            value: hdr_len as u64,
        });
    }
    let sect = |field: &'static str, off: u32, len: u32| -> Result<std::ops::Range<usize>> {
        let start = hdr_len.checked_add(off as usize);
        let end = start.and_then(|s| s.checked_add(len as usize));
        match (start, end) {
            (Some(s), Some(e)) if e <= b.len() => Ok(s..e),
            _ => Err(Error::BadHeader {
                what: HDR,
                field,
                value: u64::from(off) + u64::from(len),
            }),
        }
    };
    let types = sect("type_off", h.type_off.get(), h.type_len.get())?;
    let strs = sect("str_off", h.str_off.get(), h.str_len.get())?;
    if types.start < strs.end && strs.start < types.end && !types.is_empty() && !strs.is_empty() {
        return Err(Error::BadHeader {
            what: HDR,
            field: "str_off (overlaps types)",
            value: h.str_off.get().into(),
        });
    }
    if h.type_off.get() % 4 != 0 {
        return Err(Error::BadHeader {
            what: HDR,
            field: "type_off",
            value: h.type_off.get().into(),
        });
    }
    if h.str_len.get() > raw::BTF_MAX_NAME_OFFSET + 1 {
        return Err(Error::BadHeader {
            what: HDR,
            field: "str_len",
            value: h.str_len.get().into(),
        });
    }
    let s = &b[strs.clone()];
    if !split && s.first() != Some(&0) {
        return Err(Error::BadHeader {
            what: HDR,
            field: "str_len (table must start with an empty string)",
            value: s.len() as u64,
        });
    }
    if !s.is_empty() && s.last() != Some(&0) {
        return Err(Error::BadHeader {
            what: HDR,
            field: "str_len (table must end with NUL)",
            value: s.len() as u64,
        });
    }
    Ok(Layout {
        endian,
        types,
        strs,
    })
}

/// The pass over type headers (validating each record's kind, length and name offset),
/// then the name indexes: returns each record's absolute offset, the name index and the
/// index of flavoured names.
pub(crate) fn scan(
    b: &[u8],
    layout: &Layout,
    first_id: u32,
    base_strs: Option<(&dyn Source, u32)>,
) -> Result<Scan> {
    match layout.endian {
        Endian::Little => scan_impl::<raw::LE>(b, layout, first_id, base_strs),
        Endian::Big => scan_impl::<raw::BE>(b, layout, first_id, base_strs),
    }
}

/// What the header pass finds: where each record starts, and how many types have a
/// name to index.
pub(crate) struct Scan {
    /// Absolute offset of each type's record, by index.
    pub(crate) offsets: Vec<u32>,
    /// Each type's kind (`BTF_KIND_*`, checked to be known), by index.
    pub(crate) kinds: Vec<u8>,
    /// Types with an indexed name.
    pub(crate) named: usize,
}

/// Builds the name indexes of a spec whose header pass gave `offsets` and `named`.
pub(crate) fn index_names(
    b: &[u8],
    layout: &Layout,
    offsets: &[u32],
    named: usize,
    base_strs: Option<(&dyn Source, u32)>,
) -> (NameIndex, FlavouredIndex) {
    match layout.endian {
        Endian::Little => index_impl::<raw::LE>(b, layout, offsets, named, base_strs),
        Endian::Big => index_impl::<raw::BE>(b, layout, offsets, named, base_strs),
    }
}

/// Trailer sizes of every kind packed into registers, 2 bits per kind, in 4-byte
/// units: `(TRAILER_FIXED >> 2k) & 3` fixed words and `(TRAILER_PER_VLEN >> 2k) & 3`
/// words per vlen entry (every trailer is 0, 4, 8 or 12 bytes, fixed or per entry),
/// from [`trailer_len`]. Shifting a constant keeps a memory load out of the header
/// walk's critical path (each record's length decides where the next one starts).
const TRAILER_FIXED: u64 = trailer_table(false);
/// See [`TRAILER_FIXED`].
const TRAILER_PER_VLEN: u64 = trailer_table(true);
/// Bit `k` set for each kind that can appear in the type section.
const KNOWN_KINDS: u32 = {
    let mut m = 0u32;
    let mut k = 1;
    while k < 32 {
        if trailer_len(k, 0).is_some() {
            m |= 1 << k;
        }
        k += 1;
    }
    m
};

const fn trailer_table(per_vlen: bool) -> u64 {
    let mut t = 0u64;
    let mut k = 1;
    while k < 32 {
        if let (Some(f), Some(one)) = (trailer_len(k, 0), trailer_len(k, 1)) {
            let bytes = if per_vlen { one - f } else { f };
            assert!(bytes % 4 == 0 && bytes / 4 <= 3 && k < 32);
            t |= ((bytes / 4) as u64) << (2 * k);
        }
        k += 1;
    }
    t
}

/// Whether a type of this kind is indexed by name (tags' "names" are their values).
#[inline]
pub(crate) fn indexed_kind(kind: u32) -> bool {
    kind != BTF_KIND_DECL_TAG && kind != BTF_KIND_TYPE_TAG
}

fn scan_impl<O: ByteOrder>(
    b: &[u8],
    layout: &Layout,
    first_id: u32,
    base_strs: Option<(&dyn Source, u32)>,
) -> Result<Scan> {
    let types = &b[layout.types.clone()];
    let strs = &b[layout.strs.clone()];
    let base_len = base_strs.map_or(0, |(_, l)| l);
    // Every record is at least 12 bytes: this bounds the vector by the input size.
    let mut offsets = Vec::with_capacity(types.len() / 12);
    let mut kinds = Vec::with_capacity(types.len() / 12);
    let mut off = 0usize;
    let mut named = 0usize;
    // Pass 1: record offsets, validating headers and name offsets in id order (so the
    // first malformed type is the one reported).
    while off < types.len() {
        let id = TypeId(first_id.saturating_add(offsets.len() as u32));
        if id.0 > raw::BTF_MAX_TYPE {
            return Err(Error::BadType {
                id,
                field: "id".into(),
                reason: "more types than BTF_MAX_TYPE",
            });
        }
        let (t, _) = btf_type::<O>::ref_from_prefix(&types[off..]).map_err(|_| Error::BadType {
            id,
            field: "header".into(),
            reason: "truncated record",
        })?;
        let info = t.info.get();
        let kind = info_kind(info);
        if KNOWN_KINDS & (1 << (kind & 31)) == 0 {
            return Err(Error::BadType {
                id,
                field: "kind".into(),
                reason: "unknown kind",
            });
        }
        let shift = 2 * (kind & 31);
        let fixed = ((TRAILER_FIXED >> shift) & 3) as usize;
        let per_vlen = ((TRAILER_PER_VLEN >> shift) & 3) as usize;
        let rec = 4 * (3 + fixed + per_vlen * info_vlen(info) as usize);
        if types.len() - off < rec {
            return Err(Error::BadType {
                id,
                field: "vlen".into(),
                reason: "record extends past the type section",
            });
        }
        offsets.push((layout.types.start + off) as u32);
        kinds.push(kind as u8);
        let name_off = t.name_off.get();
        if name_off != 0 && indexed_kind(kind) {
            // The own table ends with NUL (checked with the header), so any offset inside
            // it starts a terminated string.
            let ok = match base_strs {
                Some((base, base_len)) if name_off < base_len => {
                    base.string_bytes(name_off).is_some()
                }
                _ => ((name_off - base_len) as usize) < strs.len(),
            };
            if !ok {
                return Err(Error::BadString {
                    what: format!("type {id}: name_off"),
                    offset: name_off,
                    len: strs.len() as u32,
                });
            }
            named += 1;
        }
        off += rec;
    }
    if offsets.len() as u64 + u64::from(first_id) > u64::from(raw::BTF_MAX_TYPE) + 1 {
        return Err(Error::BadHeader {
            what: HDR,
            field: "type_len (too many types)",
            value: offsets.len() as u64,
        });
    }
    // The capacity was a bound from the section size (12 bytes per record); give back the
    // unused part when it is worth a reallocation (a big spec's records average more).
    if offsets.capacity() - offsets.len() > 4096 {
        offsets.shrink_to_fit();
        kinds.shrink_to_fit();
    }
    Ok(Scan {
        offsets,
        kinds,
        named,
    })
}

/// Whether a record's header is as the encoder writes it: no reserved `info` bits, a kind
/// flag only on the kinds that use one, no name on a qualifier. Decoding ignores these;
/// the kernel refuses them, so a spec with any is encoded anew before it is loaded.
pub(crate) fn canonical_header(info: u32, kind: u32, name_off: u32) -> bool {
    const RESERVED: u32 = 0x60ff_0000;
    let flag_ok = !info_kind_flag(info)
        || matches!(
            kind,
            raw::BTF_KIND_STRUCT
                | raw::BTF_KIND_UNION
                | raw::BTF_KIND_ENUM
                | raw::BTF_KIND_ENUM64
                | raw::BTF_KIND_FWD
                | raw::BTF_KIND_DECL_TAG
                | raw::BTF_KIND_TYPE_TAG
        );
    let qualifier = matches!(
        kind,
        raw::BTF_KIND_CONST | raw::BTF_KIND_VOLATILE | raw::BTF_KIND_RESTRICT
    );
    info & RESERVED == 0 && flag_ok && !(qualifier && name_off != 0)
}

/// The name pass: hashes every indexed name (all offsets were validated by the header
/// pass) and links it into the index, last type first so that each bucket's chain ends up
/// in ascending order. Big specs such as vmlinux are split in two halves, each hashed and
/// linked into its own segment of the index on its own thread (lookups probe both).
fn index_impl<O: ByteOrder>(
    b: &[u8],
    layout: &Layout,
    offsets: &[u32],
    named: usize,
    base_strs: Option<(&dyn Source, u32)>,
) -> (NameIndex, FlavouredIndex) {
    let names = NameSource {
        b,
        strs: &b[layout.strs.clone()],
        base_strs,
    };
    if offsets.len() >= PARALLEL_MIN_TYPES && have_second_cpu() {
        let mid = offsets.len() / 2;
        let (lo_off, hi_off) = offsets.split_at(mid);
        // Each half holds about half of the named types.
        let per_half = named / 2 + 1;
        let names = &names;
        let (lo, hi) = crate::threads::join(
            || names.build::<O>(lo_off, 0, per_half),
            || names.build::<O>(hi_off, mid, per_half),
        );
        let (lo_index, mut flavoured) = lo;
        let (hi_index, mut hi_flavoured) = hi;
        flavoured.append(&mut hi_flavoured);
        (
            NameIndex::from_segments(vec![lo_index, hi_index]),
            FlavouredIndex::new(flavoured),
        )
    } else {
        let (segment, flavoured) = names.build::<O>(offsets, 0, named);
        (
            NameIndex::from_segments(vec![segment]),
            FlavouredIndex::new(flavoured),
        )
    }
}

/// Where the name pass reads names: the spec's own string table, and its base's.
struct NameSource<'a> {
    b: &'a [u8],
    strs: &'a [u8],
    base_strs: Option<(&'a dyn Source, u32)>,
}

impl NameSource<'_> {
    /// Hashes the names of the types at `offsets` (indices `first..`), last first, and
    /// links them into a new index segment sized for `named` names; also returns the
    /// flavoured names (`foo___v2`) as (hash of essential name, index).
    fn build<O: ByteOrder>(
        &self,
        offsets: &[u32],
        first: usize,
        named: usize,
    ) -> (Segment, Vec<(u32, u32)>) {
        let mut index = Segment::with_counts(first as u32, offsets.len(), named);
        let mut flavoured = Vec::new();
        let base_len = self.base_strs.map_or(0, |(_, l)| l);
        for (i, &off) in offsets.iter().enumerate().rev() {
            let Ok((t, _)) = btf_type::<O>::ref_from_prefix(&self.b[off as usize..]) else {
                continue;
            };
            let name_off = t.name_off.get();
            if name_off == 0 || !indexed_kind(info_kind(t.info.get())) {
                continue;
            }
            let (name, h, triple) = match self.base_strs {
                Some((base, base_len)) if name_off < base_len => {
                    match base.string_bytes(name_off) {
                        Some(n) if !n.is_empty() => (n, hash(n), has_triple(n)),
                        _ => continue,
                    }
                }
                _ => {
                    let Some(s) = self.strs.get((name_off - base_len) as usize..) else {
                        continue;
                    };
                    match hash_cstr(s) {
                        Some((len, h, triple)) if len != 0 => (&s[..len], h, triple),
                        _ => continue,
                    }
                }
            };
            let idx = (first + i) as u32;
            if triple {
                let ess = essential_len(name);
                if ess != name.len() {
                    flavoured.push((hash(&name[..ess]), idx));
                }
            }
            index.insert(idx, h);
        }
        (index, flavoured)
    }
}

/// Decodes the record at absolute offset `off` as type `id`.
pub(crate) fn decode<S: Source>(spec: &S, b: &[u8], id: TypeId, off: usize) -> Result<Type> {
    match spec.endian() {
        Endian::Little => decode_impl::<raw::LE, S, true>(spec, b, id, off),
        Endian::Big => decode_impl::<raw::BE, S, true>(spec, b, id, off),
    }
}

fn bad(id: TypeId, field: impl Into<String>, reason: &'static str) -> Error {
    Error::BadType {
        id,
        field: field.into(),
        reason,
    }
}

/// Decodes one record, checking every field; with `BUILD` false only checks (names are
/// left empty and member lists unfilled, so nothing is allocated).
fn decode_impl<O: ByteOrder, S: Source, const BUILD: bool>(
    spec: &S,
    b: &[u8],
    id: TypeId,
    off: usize,
) -> Result<Type> {
    let rec = b
        .get(off..)
        .ok_or_else(|| bad(id, "offset", "record out of range"))?;
    let (t, rest) =
        btf_type::<O>::ref_from_prefix(rec).map_err(|_| bad(id, "header", "truncated record"))?;
    let info = t.info.get();
    let kind = info_kind(info);
    let vlen = info_vlen(info) as usize;
    let kflag = info_kind_flag(info);
    let sot = t.size_or_type.get();
    let next = spec.next_id().0;
    let tref = |field: &dyn Fn() -> String, v: u32| -> Result<TypeId> {
        if v >= next {
            Err(bad(id, field(), "type id out of range"))
        } else {
            Ok(TypeId(v))
        }
    };

    // Room for the members, parameters or values only when building.
    let room = if BUILD { vlen } else { 0 };
    let name = |field: &dyn Fn() -> String, off: u32| -> Result<String> {
        if BUILD {
            Ok(spec.name_at(id, field, off)?.to_owned())
        } else {
            // Checking only: the quick test first, then the full check.
            spec.check_name_at(id, field, off).map(|()| String::new())
        }
    };
    let tname = || name(&|| "name_off".into(), t.name_off.get());
    let no_name = |k: &'static str| -> Result<()> {
        if t.name_off.get() != 0 {
            Err(bad(id, "name_off", k))
        } else {
            Ok(())
        }
    };
    let kind_e = Kind::from_raw(kind).ok_or_else(|| bad(id, "kind", "unknown kind"))?;
    if vlen != 0
        && !matches!(
            kind_e,
            Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::FuncProto
                | Kind::Datasec
                | Kind::Func
        )
    {
        return Err(bad(id, "vlen", "must be zero for this kind"));
    }
    Ok(match kind_e {
        Kind::Void => return Err(bad(id, "kind", "void record")),
        Kind::Int => {
            let (v, _) = zerocopy::byteorder::U32::<O>::ref_from_prefix(rest)
                .map_err(|_| bad(id, "int", "truncated"))?;
            let v = v.get();
            let encoding = match (v >> 24) & 0xf {
                0 => IntEncoding::Unsigned,
                raw::BTF_INT_SIGNED => IntEncoding::Signed,
                raw::BTF_INT_CHAR => IntEncoding::Char,
                raw::BTF_INT_BOOL => IntEncoding::Bool,
                _ => return Err(bad(id, "encoding", "invalid int encoding")),
            };
            let offset = ((v >> 16) & 0xff) as u8;
            let bits = (v & 0xff) as u8;
            if bits > 128
                || u32::from(offset) + u32::from(bits) > sot.saturating_mul(8)
                || v & 0xf000_ff00 != 0
            {
                return Err(bad(id, "bits", "int bits exceed size"));
            }
            Type::Int(Int {
                name: tname()?,
                size: sot,
                encoding,
                offset,
                bits,
            })
        }
        Kind::Pointer => {
            no_name("pointer must be anonymous")?;
            Type::Pointer(Pointer {
                target: tref(&|| "type".into(), sot)?,
            })
        }
        Kind::Array => {
            no_name("array must be anonymous")?;
            let (a, _) = raw::btf_array::<O>::ref_from_prefix(rest)
                .map_err(|_| bad(id, "array", "truncated"))?;
            Type::Array(Array {
                elem: tref(&|| "array type".into(), a.r#type.get())?,
                index: tref(&|| "array index_type".into(), a.index_type.get())?,
                nelems: a.nelems.get(),
            })
        }
        Kind::Struct | Kind::Union => {
            let (ms, _) = <[raw::btf_member<O>]>::ref_from_prefix_with_elems(rest, vlen)
                .map_err(|_| bad(id, "vlen", "members truncated"))?;
            let mut members = Vec::with_capacity(room);
            for (i, m) in ms.iter().enumerate() {
                let o = m.offset.get();
                let (bit_offset, bitfield_size) = if kflag {
                    (o & 0x00ff_ffff, o >> 24)
                } else {
                    (o, 0)
                };
                let item = Member {
                    name: name(&|| format!("member {i} name_off"), m.name_off.get())?,
                    type_id: tref(&|| format!("member {i} type"), m.r#type.get())?,
                    bit_offset,
                    bitfield_size,
                };
                if BUILD {
                    members.push(item);
                }
            }
            let s = Struct {
                name: tname()?,
                size: sot,
                members,
            };
            if kind_e == Kind::Struct {
                Type::Struct(s)
            } else {
                Type::Union(s)
            }
        }
        Kind::Enum => {
            let (vs, _) = <[raw::btf_enum<O>]>::ref_from_prefix_with_elems(rest, vlen)
                .map_err(|_| bad(id, "vlen", "values truncated"))?;
            let mut values = Vec::with_capacity(room);
            for (i, v) in vs.iter().enumerate() {
                let val = v.val.get();
                let item = EnumValue {
                    name: name(&|| format!("value {i} name_off"), v.name_off.get())?,
                    value: if kflag {
                        i64::from(val) as u64
                    } else {
                        u64::from(val as u32)
                    },
                };
                if BUILD {
                    values.push(item);
                }
            }
            Type::Enum(Enum {
                name: tname()?,
                size: sot,
                signed: kflag,
                values,
            })
        }
        Kind::Enum64 => {
            let (vs, _) = <[raw::btf_enum64<O>]>::ref_from_prefix_with_elems(rest, vlen)
                .map_err(|_| bad(id, "vlen", "values truncated"))?;
            let mut values = Vec::with_capacity(room);
            for (i, v) in vs.iter().enumerate() {
                let item = EnumValue {
                    name: name(&|| format!("value {i} name_off"), v.name_off.get())?,
                    value: u64::from(v.val_hi32.get()) << 32 | u64::from(v.val_lo32.get()),
                };
                if BUILD {
                    values.push(item);
                }
            }
            Type::Enum64(Enum {
                name: tname()?,
                size: sot,
                signed: kflag,
                values,
            })
        }
        Kind::Fwd => Type::Fwd(Fwd {
            name: tname()?,
            kind: if kflag {
                FwdKind::Union
            } else {
                FwdKind::Struct
            },
        }),
        Kind::Typedef => Type::Typedef(Typedef {
            name: tname()?,
            target: tref(&|| "type".into(), sot)?,
        }),
        Kind::Volatile => Type::Volatile(Qualifier {
            target: tref(&|| "type".into(), sot)?,
        }),
        Kind::Const => Type::Const(Qualifier {
            target: tref(&|| "type".into(), sot)?,
        }),
        Kind::Restrict => Type::Restrict(Qualifier {
            target: tref(&|| "type".into(), sot)?,
        }),
        Kind::Func => {
            let linkage = match vlen {
                0 => FuncLinkage::Static,
                1 => FuncLinkage::Global,
                2 => FuncLinkage::Extern,
                _ => return Err(bad(id, "linkage", "invalid func linkage")),
            };
            Type::Func(Func {
                name: tname()?,
                proto: tref(&|| "type".into(), sot)?,
                linkage,
            })
        }
        Kind::FuncProto => {
            no_name("func proto must be anonymous")?;
            let (ps, _) = <[raw::btf_param<O>]>::ref_from_prefix_with_elems(rest, vlen)
                .map_err(|_| bad(id, "vlen", "params truncated"))?;
            let mut params = Vec::with_capacity(room);
            let mut variadic = false;
            for (i, p) in ps.iter().enumerate() {
                let (n, ty) = (p.name_off.get(), p.r#type.get());
                // A last `void` parameter without a name marks a variadic function; a name
                // offset that reads as the empty string is no name either (as encoding
                // writes the marker, so that the two round-trip).
                if ty == 0
                    && i + 1 == vlen
                    && (n == 0
                        || spec
                            .name_at(id, &|| format!("param {i} name_off"), n)
                            .is_ok_and(str::is_empty))
                {
                    variadic = true;
                    break;
                }
                let item = Param {
                    name: name(&|| format!("param {i} name_off"), n)?,
                    type_id: tref(&|| format!("param {i} type"), ty)?,
                };
                if BUILD {
                    params.push(item);
                }
            }
            Type::FuncProto(FuncProto {
                ret: tref(&|| "type".into(), sot)?,
                params,
                variadic,
            })
        }
        Kind::Var => {
            let (v, _) = raw::btf_var::<O>::ref_from_prefix(rest)
                .map_err(|_| bad(id, "var", "truncated"))?;
            let linkage = match v.linkage.get() {
                0 => VarLinkage::Static,
                1 => VarLinkage::Global,
                2 => VarLinkage::Extern,
                _ => return Err(bad(id, "linkage", "invalid var linkage")),
            };
            Type::Var(Var {
                name: tname()?,
                type_id: tref(&|| "type".into(), sot)?,
                linkage,
            })
        }
        Kind::Datasec => {
            let (vs, _) = <[raw::btf_var_secinfo<O>]>::ref_from_prefix_with_elems(rest, vlen)
                .map_err(|_| bad(id, "vlen", "vars truncated"))?;
            let mut vars = Vec::with_capacity(room);
            for (i, v) in vs.iter().enumerate() {
                let item = VarSecinfo {
                    type_id: tref(&|| format!("var {i} type"), v.r#type.get())?,
                    offset: v.offset.get(),
                    size: v.size.get(),
                };
                if BUILD {
                    vars.push(item);
                }
            }
            Type::Datasec(Datasec {
                name: tname()?,
                size: sot,
                vars,
            })
        }
        Kind::Float => Type::Float(Float {
            name: tname()?,
            size: sot,
        }),
        Kind::DeclTag => {
            let (d, _) = raw::btf_decl_tag::<O>::ref_from_prefix(rest)
                .map_err(|_| bad(id, "decl_tag", "truncated"))?;
            let component_idx = d.component_idx.get();
            if component_idx < -1 {
                return Err(bad(id, "component_idx", "must be -1 or a member index"));
            }
            Type::DeclTag(DeclTag {
                value: tname()?,
                target: tref(&|| "type".into(), sot)?,
                component_idx,
                attribute: kflag,
            })
        }
        Kind::TypeTag => Type::TypeTag(TypeTag {
            value: tname()?,
            target: tref(&|| "type".into(), sot)?,
            attribute: kflag,
        }),
    })
}

/// Validates a name read from the table.
pub(crate) fn check_name(s: &str, id: TypeId, field: &dyn Fn() -> String, off: u32) -> Result<()> {
    if s.len() > MAX_NAME_LEN {
        return Err(Error::BadName {
            what: format!("type {id}: {}", field()),
            offset: off,
        });
    }
    Ok(())
}
