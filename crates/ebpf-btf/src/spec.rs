//! [`Spec`]: a parsed BTF blob, the arena that owns the type graph.
//!
//! Parsing makes one pass over the type headers, validating them and recording where
//! each record starts. The first few lookups by exact name scan (a substring search of
//! the string table, then one compare per type); when lookups keep coming, one pass over
//! the types' names indexes them. Records are decoded into [`Type`]s on first use and
//! cached (all thread-safe), so a `Spec` is cheap to build even for the kernel's vmlinux,
//! and users who look up a name or two, or only follow ids, never pay for the index.
//!
//! ```
//! use ebpf_btf::{Builder, Int, IntEncoding, Spec, Struct, Member, Type, TypeId};
//! let mut b = Builder::new();
//! let int = b.add(Type::Int(Int { name: "int".into(), size: 4, encoding: IntEncoding::Signed, offset: 0, bits: 32 }));
//! b.add(Type::Struct(Struct { name: "pair".into(), size: 8, members: vec![
//!     Member { name: "a".into(), type_id: int, bit_offset: 0, bitfield_size: 0 },
//!     Member { name: "b".into(), type_id: int, bit_offset: 32, bitfield_size: 0 },
//! ]}));
//! let spec = Spec::parse(&b.marshal(Default::default()).unwrap()).unwrap();
//! let (id, pair) = spec.type_by_name::<Struct>("pair").unwrap();
//! assert_eq!(pair.members.len(), 2);
//! assert_eq!(spec.sizeof(id).unwrap(), 8);
//! ```

use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};
use crate::names::{FlavouredIndex, NameIndex, essential_len};
use crate::raw::Endian;
use crate::strings::StringTable;
use crate::types::{Kind, Type, TypeId, TypeVariant};
use crate::unmarshal;

mod edit;
mod raw_edit;
mod records;
mod scan;

use records::SizeStep;

pub use raw_edit::RawEdit;
pub use records::{DatasecEntries, MemberRef, Members};

/// How deep typedef/qualifier/array chains are followed before giving up (libbpf uses 32).
pub const MAX_RESOLVE_DEPTH: usize = 32;

/// One chunk of the decoded-type cache.
type CacheChunk = Box<[OnceLock<Type>]>;

/// Decoded-type cache chunk size (types are cached in chunks allocated on first use).
const CHUNK: usize = 256;

/// From this many types on, [`Spec::validate`] checks the string table in one pass.
const NAMES_PASS_MIN_TYPES: usize = 1024;

/// Pointer size assumed for BPF targets.
pub const POINTER_SIZE: u32 = 8;

/// The bytes a spec was parsed from.
pub(crate) enum Data {
    /// Copied or read into memory.
    Owned(Box<[u8]>),
    /// A read-only file mapping.
    Mapped(crate::mmap::Mmap),
}

impl Data {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Owned(b) => b,
            Self::Mapped(m) => m.as_slice(),
        }
    }
}

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Owned(b) => write!(f, "Owned({} bytes)", b.len()),
            Self::Mapped(m) => write!(f, "Mapped({} bytes)", m.as_slice().len()),
        }
    }
}

/// A parsed BTF blob (`.BTF` section, kernel vmlinux or a module's split BTF).
///
/// Type ids run from [`Spec::first_id`] to [`Spec::next_id`] (exclusive); for split
/// BTF lower ids resolve in the [`Spec::base`]. `Spec` is `Send + Sync`.
pub struct Spec {
    data: Data,
    layout: unmarshal::Layout,
    base: Option<Arc<Spec>>,
    first_id: u32,
    str_base: u32,
    offsets: Vec<u32>,
    /// Each own type's `BTF_KIND_*`, by index (so that finding the types of a kind reads
    /// one byte per type).
    kinds: Vec<u8>,
    /// Decoded types in chunks of [`CHUNK`], each chunk allocated on first use.
    cache: Box<[OnceLock<CacheChunk>]>,
    /// Types with an indexed name (sizes the index).
    named: usize,
    /// The name indexes, built by one pass over the names when lookups by name keep
    /// coming (the first few scan: see [`scan`]).
    names: OnceLock<Names>,
    /// Lookups by name that asked to scan (see [`Spec::should_scan`]).
    scans: AtomicU32,
    /// Whether every string of the own table is a valid name (one pass, by
    /// [`Spec::validate`]; unset, names are checked one by one).
    names_valid: OnceLock<bool>,
    /// Own type indexes replaced by [`Spec::replace_type`], sorted: their records in
    /// `data` are stale (see [`RawEdit`]).
    replaced: Vec<u32>,
}

/// A spec's name indexes.
#[derive(Debug)]
struct Names {
    index: NameIndex,
    /// Flavoured names (`foo___v2`) by essential name.
    flavoured: FlavouredIndex,
}

static VOID: Type = Type::Void;

/// Empty slots for the chunk holding own type index `idx` of `len` types: [`CHUNK`] slots,
/// fewer for the last chunk (a small object's BTF fits in one short chunk).
fn new_chunk(len: usize, idx: usize) -> CacheChunk {
    let start = idx - idx % CHUNK;
    let n = len.saturating_sub(start).min(CHUNK);
    std::iter::repeat_with(OnceLock::new).take(n).collect()
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("data", &self.data)
            .field("endian", &self.layout.endian)
            .field("first_id", &self.first_id)
            .field("types", &self.offsets.len())
            .field("strings", &self.layout.strs.len())
            .field("split", &self.base.is_some())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// Parses a raw `.BTF` blob (either byte order), validating every type; types are
    /// decoded on first use.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let spec = Self::from_data(Data::Owned(bytes.into()), None)?;
        spec.validate()?;
        Ok(spec)
    }

    /// Like [`Spec::parse`] but without checking every type up front: a malformed type is
    /// reported when it is first used.
    pub fn parse_lazy(bytes: Vec<u8>) -> Result<Self> {
        Self::from_data(Data::Owned(bytes.into_boxed_slice()), None)
    }

    /// Parses split BTF (a kernel module's) on top of `base`: ids continue after the
    /// base's last id and string offsets after the base's string table.
    pub fn parse_split(bytes: &[u8], base: Arc<Spec>) -> Result<Self> {
        Self::from_data(Data::Owned(bytes.into()), Some(base))
    }

    pub(crate) fn from_data(data: Data, base: Option<Arc<Spec>>) -> Result<Self> {
        let b = data.bytes();
        let layout = unmarshal::parse_header(b, base.is_some())?;
        if let Some(base) = &base {
            if base.endian() != layout.endian {
                return Err(Error::BadHeader {
                    what: "header",
                    field: "magic (byte order differs from base)",
                    value: 0,
                });
            }
        }
        let first_id = base.as_ref().map_or(1, |b| b.next_id().0);
        let str_base = base
            .as_ref()
            .map_or(0, |b| b.str_base + b.layout.strs.len() as u32);
        let unmarshal::Scan {
            offsets,
            kinds,
            named,
        } = unmarshal::scan(
            b,
            &layout,
            first_id,
            base.as_deref()
                .map(|b| (b as &dyn unmarshal::Source, str_base)),
        )?;
        let cache = std::iter::repeat_with(OnceLock::new)
            .take(offsets.len().div_ceil(CHUNK))
            .collect();
        Ok(Self {
            data,
            layout,
            base,
            first_id,
            str_base,
            offsets,
            kinds,
            cache,
            named,
            names: OnceLock::new(),
            scans: AtomicU32::new(0),
            names_valid: OnceLock::new(),
            replaced: Vec::new(),
        })
    }

    /// The name indexes, built on first use.
    fn names(&self) -> &Names {
        self.names.get_or_init(|| {
            let (index, flavoured) = unmarshal::index_names(
                self.data.bytes(),
                &self.layout,
                &self.offsets,
                self.named,
                self.base
                    .as_deref()
                    .map(|b| (b as &dyn unmarshal::Source, self.str_base)),
            );
            Names { index, flavoured }
        })
    }

    /// Builds the name index now. Otherwise the first few lookups by exact name scan the
    /// spec and the index is built when lookups keep coming (lookups by essential name
    /// build it at once): call this before looking many names up.
    pub fn index_names(&self) {
        self.names();
    }

    /// Checks every type as decoding would (reporting the first malformed one), without
    /// decoding it: types are still decoded on first use, and nothing is allocated here.
    /// A big spec is checked in two halves on two threads when the machine has two CPUs.
    pub fn validate(&self) -> Result<()> {
        let n = self.offsets.len();
        let parallel = n >= crate::threads::PARALLEL_MIN_TYPES && crate::threads::have_second_cpu();
        // One pass over a big table is cheaper than a UTF-8 check per name; a small spec's
        // table is mostly other strings (an object's source lines), so its names are
        // checked one by one.
        if n >= NAMES_PASS_MIN_TYPES {
            let table = &self.data.bytes()[self.layout.strs.clone()];
            self.names_valid.get_or_init(|| {
                if parallel {
                    crate::strings::all_names_valid_in_halves(table)
                } else {
                    crate::strings::all_names_valid(table)
                }
            });
        }
        if !parallel {
            return self.check_types(0..n);
        }
        let (lo, hi) =
            crate::threads::join(|| self.check_types(0..n / 2), || self.check_types(n / 2..n));
        // The lower half's error first: the first malformed type is the one reported.
        lo.and(hi)
    }

    /// Checks the own types with indexes in `range`.
    fn check_types(&self, range: std::ops::Range<usize>) -> Result<()> {
        let first = self.first_id + range.start as u32;
        unmarshal::check_all(self, self.data.bytes(), &self.offsets[range], first)
    }

    /// Whether every record's header is as this crate's encoder writes it: no reserved
    /// `info` bits, a kind flag only on the kinds that use one, no name on a qualifier.
    /// Decoding ignores such bits; the kernel refuses them, so a spec without this
    /// property must be encoded anew (not loaded from its raw records).
    #[must_use]
    pub fn has_canonical_headers(&self) -> bool {
        // One pass over the headers, when asked (an object's BTF, before it is loaded):
        // the header pass over a kernel's BTF does not pay for it.
        self.offsets.iter().all(|&off| {
            let (name_off, info) = (self.u32_at(off as usize), self.u32_at(off as usize + 4));
            unmarshal::canonical_header(info, crate::raw::info_kind(info), name_off)
        })
    }

    /// The byte order of the blob.
    #[must_use]
    pub fn endian(&self) -> Endian {
        self.layout.endian
    }

    /// The base spec, for split BTF.
    #[must_use]
    pub fn base(&self) -> Option<&Arc<Spec>> {
        self.base.as_ref()
    }

    /// The first id defined by this spec (1, or the base's [`Spec::next_id`]).
    #[must_use]
    pub fn first_id(&self) -> TypeId {
        TypeId(self.first_id)
    }

    /// One past the last id defined by this spec.
    #[must_use]
    pub fn next_id(&self) -> TypeId {
        TypeId(self.first_id + self.offsets.len() as u32)
    }

    /// Number of types defined by this spec itself (without void and the base).
    #[must_use]
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// True if the spec defines no type.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The ids defined by this spec (not its base).
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = TypeId> + ExactSizeIterator + use<> {
        (self.first_id..self.first_id + self.offsets.len() as u32).map(TypeId)
    }

    /// The types defined by this spec, decoding each on demand.
    pub fn types(&self) -> impl Iterator<Item = (TypeId, Result<&Type>)> + '_ {
        self.ids().map(move |id| (id, self.type_by_id(id)))
    }

    /// The ids of the types of kind `kind` defined by this spec (not its base), read from
    /// a table of kinds without decoding anything.
    pub fn ids_of_kind(&self, kind: Kind) -> impl Iterator<Item = TypeId> + '_ {
        // A byte search: a spec of thousands of types has a few of most kinds.
        let first = self.first_id;
        memchr::memchr_iter(kind as u8, &self.kinds).map(move |i| TypeId(first + i as u32))
    }

    /// The types of kind `kind` defined by this spec, decoding only those.
    pub fn types_of_kind(&self, kind: Kind) -> impl Iterator<Item = (TypeId, Result<&Type>)> + '_ {
        self.ids_of_kind(kind)
            .map(move |id| (id, self.type_by_id(id)))
    }

    /// The type with id `id` (0 is [`Type::Void`]); decoded on first use.
    pub fn type_by_id(&self, id: TypeId) -> Result<&Type> {
        if id.0 == 0 {
            return Ok(&VOID);
        }
        if id.0 < self.first_id {
            return match &self.base {
                Some(b) => b.type_by_id(id),
                None => Err(self.out_of_range(id)),
            };
        }
        let idx = (id.0 - self.first_id) as usize;
        let chunk = self
            .cache
            .get(idx / CHUNK)
            .ok_or_else(|| self.out_of_range(id))?;
        let chunk = chunk.get_or_init(|| self.new_chunk(idx));
        let slot = chunk
            .get(idx % CHUNK)
            .ok_or_else(|| self.out_of_range(id))?;
        if let Some(t) = slot.get() {
            return Ok(t);
        }
        let off = *self.offsets.get(idx).ok_or_else(|| self.out_of_range(id))? as usize;
        let t = unmarshal::decode(self, self.data.bytes(), id, off)?;
        Ok(slot.get_or_init(|| t))
    }

    /// Empty slots for the chunk holding own type index `idx`.
    fn new_chunk(&self, idx: usize) -> CacheChunk {
        new_chunk(self.offsets.len(), idx)
    }

    fn out_of_range(&self, id: TypeId) -> Error {
        Error::TypeIdOutOfRange {
            id,
            count: self.next_id().0,
        }
    }

    /// The kind of `id` without decoding the whole record.
    #[inline]
    pub fn kind_of(&self, id: TypeId) -> Result<Kind> {
        if id.0 == 0 {
            return Ok(Kind::Void);
        }
        if id.0 < self.first_id {
            return self
                .base
                .as_ref()
                .ok_or_else(|| self.out_of_range(id))?
                .kind_of(id);
        }
        let kind = *self
            .kinds
            .get((id.0 - self.first_id) as usize)
            .ok_or_else(|| self.out_of_range(id))?;
        Kind::from_raw(u32::from(kind)).ok_or_else(|| Error::BadType {
            id,
            field: "kind".into(),
            reason: "unknown kind",
        })
    }

    #[inline]
    fn u32_at(&self, off: usize) -> u32 {
        let b = self.data.bytes();
        let w = [b[off], b[off + 1], b[off + 2], b[off + 3]];
        match self.endian() {
            Endian::Little => u32::from_le_bytes(w),
            Endian::Big => u32::from_be_bytes(w),
        }
    }

    /// Raw name bytes of own type index `idx` (for index verification).
    fn raw_name_of(&self, idx: u32) -> Option<&[u8]> {
        let off = *self.offsets.get(idx as usize)? as usize;
        self.string_bytes(self.u32_at(off))
    }

    /// Ids of every type named exactly `name` (this spec first, then its base).
    #[must_use]
    pub fn types_by_name(&self, name: &str) -> Vec<TypeId> {
        let mut out = Vec::new();
        self.collect_by_name(name.as_bytes(), &mut out);
        out
    }

    fn collect_by_name(&self, name: &[u8], out: &mut Vec<TypeId>) {
        if !name.is_empty() && self.should_scan() {
            self.scan_by_name(name, out);
        } else if !name.is_empty() {
            for idx in self.names().index.candidates(name) {
                if self.raw_name_of(idx) == Some(name) {
                    out.push(TypeId(self.first_id + idx));
                }
            }
        }
        if let Some(b) = &self.base {
            b.collect_by_name(name, out);
        }
    }

    /// Ids of every type whose [essential name](crate::essential_name) is `name`
    /// (so `foo` finds `foo`, `foo___v1`, `foo___v2`), this spec first, then its base.
    #[must_use]
    pub fn types_by_essential_name(&self, name: &str) -> Vec<TypeId> {
        let ess = &name.as_bytes()[..essential_len(name.as_bytes())];
        let mut out = Vec::new();
        self.collect_by_essential(ess, &mut out);
        out
    }

    fn collect_by_essential(&self, ess: &[u8], out: &mut Vec<TypeId>) {
        if !ess.is_empty() {
            let names = self.names();
            for idx in names.index.candidates(ess) {
                if self.raw_name_of(idx) == Some(ess) {
                    out.push(TypeId(self.first_id + idx));
                }
            }
            for idx in names.flavoured.candidates(ess) {
                if let Some(n) = self.raw_name_of(idx) {
                    if &n[..essential_len(n)] == ess {
                        out.push(TypeId(self.first_id + idx));
                    }
                }
            }
        }
        if let Some(b) = &self.base {
            b.collect_by_essential(ess, out);
        }
    }

    /// The single type named `name` of variant `T` (for example `type_by_name::<Struct>("task_struct")`;
    /// `Struct` also matches unions, `Enum` also enum64, `Qualifier` any qualifier).
    pub fn type_by_name<T: TypeVariant>(&self, name: &str) -> Result<(TypeId, &T)> {
        let mut found = None;
        let mut count = 0;
        for id in self.types_by_name(name) {
            if let Some(t) = T::from_type(self.type_by_id(id)?) {
                count += 1;
                if found.is_none() {
                    found = Some((id, t));
                }
            }
        }
        match found {
            Some(f) if count == 1 => Ok(f),
            Some(_) => Err(Error::Ambiguous {
                name: name.into(),
                count,
            }),
            None => Err(Error::NotFound { name: name.into() }),
        }
    }

    /// The raw bytes of the string at `off` (split-aware).
    pub(crate) fn string_bytes(&self, off: u32) -> Option<&[u8]> {
        if off < self.str_base {
            return self.base.as_ref()?.string_bytes(off);
        }
        let t = StringTable::new(&self.data.bytes()[self.layout.strs.clone()]);
        if off == 0 && t.is_empty() {
            return Some(&[]);
        }
        t.get_bytes(off - self.str_base).ok()
    }

    /// The string at offset `off` (split-aware: low offsets resolve in the base).
    pub fn string_at(&self, off: u32) -> Result<&str> {
        let b = self.string_bytes(off).ok_or_else(|| Error::BadString {
            what: "string table".into(),
            offset: off,
            len: self.str_base + self.layout.strs.len() as u32,
        })?;
        std::str::from_utf8(b).map_err(|_| Error::BadName {
            what: "string table".into(),
            offset: off,
        })
    }

    pub(crate) fn name_at(&self, id: TypeId, field: &dyn Fn() -> String, off: u32) -> Result<&str> {
        let s = self.string_at(off).map_err(|e| match e {
            Error::BadString { offset, len, .. } => Error::BadString {
                what: format!("type {id}: {}", field()),
                offset,
                len,
            },
            _ => Error::BadName {
                what: format!("type {id}: {}", field()),
                offset: off,
            },
        })?;
        unmarshal::check_name(s, id, field, off)?;
        Ok(s)
    }

    /// Checks the name at `off` as [`Spec::name_at`] does, in a few instructions when the
    /// own string table holds only valid names.
    fn check_name_at(&self, id: TypeId, field: &dyn Fn() -> String, off: u32) -> Result<()> {
        if self.quick_names().pass(off) {
            return Ok(());
        }
        self.name_at(id, field, off).map(drop)
    }

    /// The quick test of names in the own string table.
    fn quick_names(&self) -> crate::strings::QuickNames<'_> {
        crate::strings::QuickNames {
            table: &self.data.bytes()[self.layout.strs.clone()],
            base: self.str_base,
            all_valid: self.names_valid.get() == Some(&true),
        }
    }

    /// This spec's own string table (offsets relative to [`Spec::string_base`]).
    #[must_use]
    pub fn strings(&self) -> StringTable<'_> {
        StringTable::new(&self.data.bytes()[self.layout.strs.clone()])
    }

    /// Offset of this spec's first string (0, or the base's table length for split BTF).
    #[must_use]
    pub fn string_base(&self) -> u32 {
        self.str_base
    }

    /// Skips const/volatile/restrict and type tags.
    pub fn skip_qualifiers(&self, id: TypeId) -> Result<TypeId> {
        let mut cur = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            // The kind alone says where to stop, without decoding the type.
            if !matches!(
                self.kind_of(cur)?,
                Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
            ) {
                return Ok(cur);
            }
            cur = self.target_of(cur)?.unwrap_or_default();
        }
        Err(Error::TooDeep { id })
    }

    /// Skips typedefs, qualifiers and type tags.
    pub fn underlying_type(&self, id: TypeId) -> Result<TypeId> {
        let mut cur = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            // The kind alone says where to stop, without decoding the type.
            if !matches!(
                self.kind_of(cur)?,
                Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
            ) {
                return Ok(cur);
            }
            cur = self.target_of(cur)?.unwrap_or_default();
        }
        Err(Error::TooDeep { id })
    }

    /// Size in bytes of a value of type `id`.
    pub fn sizeof(&self, id: TypeId) -> Result<u32> {
        let mut cur = id;
        let mut mult: u32 = 1;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let size = match self.size_step(cur)? {
                SizeStep::Size(size) => size,
                SizeStep::Array { elem, nelems } => {
                    mult = mult.checked_mul(nelems).ok_or_else(|| Error::BadType {
                        id: cur,
                        field: "nelems".into(),
                        reason: "array size overflows",
                    })?;
                    cur = elem;
                    continue;
                }
                SizeStep::Target(target) => {
                    cur = target;
                    continue;
                }
            };
            return size.checked_mul(mult).ok_or_else(|| Error::BadType {
                id,
                field: "size".into(),
                reason: "array size overflows",
            });
        }
        Err(Error::TooDeep { id })
    }

    /// Alignment in bytes of type `id` (libbpf's rules: scalars align to their size up to
    /// 8, aggregates to their most aligned member, packed aggregates to 1).
    pub fn alignof(&self, id: TypeId) -> Result<u32> {
        self.alignof_memo(id, &mut HashMap::new())
    }

    /// [`Spec::alignof`] with a caller-held memo (linear time over a whole graph).
    pub(crate) fn alignof_memo(
        &self,
        id: TypeId,
        memo: &mut HashMap<TypeId, Option<u32>>,
    ) -> Result<u32> {
        self.alignof_depth(id, 0, memo)
    }

    fn alignof_depth(
        &self,
        id: TypeId,
        depth: usize,
        memo: &mut HashMap<TypeId, Option<u32>>,
    ) -> Result<u32> {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(Error::TooDeep { id });
        }
        match memo.get(&id) {
            Some(Some(a)) => return Ok(*a),
            // In progress: an aggregate containing itself by value.
            Some(None) => return Err(Error::TooDeep { id }),
            None => {}
        }
        let t = self.type_by_id(id)?;
        memo.insert(id, None);
        let a = match t {
            Type::Int(x) => x.size.clamp(1, POINTER_SIZE),
            Type::Enum(x) | Type::Enum64(x) => x.size.clamp(1, POINTER_SIZE),
            Type::Float(x) => x.size.clamp(1, POINTER_SIZE),
            Type::Pointer(_) => POINTER_SIZE,
            Type::Array(a) => self.alignof_depth(a.elem, depth + 1, memo)?,
            Type::Typedef(_)
            | Type::Const(_)
            | Type::Volatile(_)
            | Type::Restrict(_)
            | Type::TypeTag(_)
            | Type::Var(_) => {
                self.alignof_depth(t.target().unwrap_or_default(), depth + 1, memo)?
            }
            Type::Struct(s) | Type::Union(s) => {
                let mut max = 1;
                let mut packed = false;
                for m in &s.members {
                    let a = self.alignof_depth(m.type_id, depth + 1, memo)?;
                    if m.bitfield_size == 0 && m.bit_offset % (8 * a) != 0 {
                        packed = true;
                        break;
                    }
                    max = max.max(a);
                }
                if packed || s.size % max != 0 { 1 } else { max }
            }
            _ => {
                return Err(Error::NoSize {
                    id,
                    kind: t.kind().name(),
                });
            }
        };
        memo.insert(id, Some(a));
        Ok(a)
    }
}

impl unmarshal::Source for Spec {
    fn endian(&self) -> Endian {
        Spec::endian(self)
    }

    fn next_id(&self) -> TypeId {
        Spec::next_id(self)
    }

    fn name_at(&self, id: TypeId, field: &dyn Fn() -> String, off: u32) -> Result<&str> {
        Spec::name_at(self, id, field, off)
    }

    fn check_name_at(&self, id: TypeId, field: &dyn Fn() -> String, off: u32) -> Result<()> {
        Spec::check_name_at(self, id, field, off)
    }

    fn quick_names(&self) -> crate::strings::QuickNames<'_> {
        Spec::quick_names(self)
    }

    fn string_bytes(&self, off: u32) -> Option<&[u8]> {
        Spec::string_bytes(self, off)
    }
}
