//! Facts read from a type's record without decoding it (no allocation): its name, a
//! function's linkage, a datasec's entries, a struct's members, the step [`Spec::sizeof`]
//! takes through it.
//! A replaced type's record is out of date, so its decoded value answers instead; so does
//! a base spec for its ids.
//!
//! A spec from [`Spec::parse`] has had every record checked, so these answers are the ones
//! decoding gives. One from [`Spec::parse_lazy`] reports a malformed record when the type
//! is first decoded: reading only its name or size does not.

use super::{POINTER_SIZE, Spec};
use crate::error::{Error, Result};
use crate::types::{FuncLinkage, Kind, Type, TypeId, VarLinkage, VarSecinfo};

/// What the size of a type is made of: the size itself, an array of another type, or the
/// size of the type it refers to (typedefs, qualifiers, tags and variables).
pub(super) enum SizeStep {
    Size(u32),
    Array { elem: TypeId, nelems: u32 },
    Target(TypeId),
}

/// The bytes of a record's header, and of a header with one 12-byte trailer (an array's).
pub(super) const HEADER: usize = 12;
const ARRAY: usize = 24;
/// The bytes of one `btf_var_secinfo` after a DATASEC's header.
pub(super) const SECINFO: usize = 12;
/// The bytes of one `btf_member` after a struct's or union's header.
const MEMBER: usize = 12;

/// The entries after a record's header that its `vlen` counts, all in the spec's data:
/// where each is, in turn.
#[derive(Debug, Clone)]
struct RawList<'s> {
    spec: &'s Spec,
    /// The next entry's offset in the data.
    off: usize,
    /// Its index in the list.
    index: usize,
    /// The entries not read yet.
    left: usize,
    /// The bytes of one entry.
    size: usize,
}

impl RawList<'_> {
    /// The offset and index of the next entry.
    fn next(&mut self) -> Option<(usize, usize)> {
        self.left = self.left.checked_sub(1)?;
        let at = (self.off, self.index);
        self.off += self.size;
        self.index += 1;
        Some(at)
    }
}

/// A list read from a record, or from a decoded type when the record cannot answer.
#[derive(Debug, Clone)]
enum Source<'s, T> {
    Raw(RawList<'s>),
    Decoded(std::slice::Iter<'s, T>),
}

impl<T> Source<'_, T> {
    fn len(&self) -> usize {
        match self {
            Source::Raw(list) => list.left,
            Source::Decoded(it) => it.len(),
        }
    }
}

/// The entries of a DATASEC, read one by one from its record ([`Spec::datasec_entries`]).
#[derive(Debug, Clone)]
pub struct DatasecEntries<'s>(Source<'s, VarSecinfo>);

impl Iterator for DatasecEntries<'_> {
    type Item = VarSecinfo;

    fn next(&mut self) -> Option<VarSecinfo> {
        match &mut self.0 {
            Source::Raw(list) => {
                let (at, _) = list.next()?;
                let spec = list.spec;
                Some(VarSecinfo {
                    type_id: TypeId(spec.u32_at(at)),
                    offset: spec.u32_at(at + 4),
                    size: spec.u32_at(at + 8),
                })
            }
            Source::Decoded(it) => it.next().cloned(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.0.len(), Some(self.0.len()))
    }
}

impl ExactSizeIterator for DatasecEntries<'_> {}

/// One member of a struct or union, as [`Spec::members`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRef<'s> {
    /// Name; empty for anonymous members.
    pub name: &'s str,
    /// Member type.
    pub type_id: TypeId,
    /// Offset from the start of the parent, in bits.
    pub bit_offset: u32,
    /// Bitfield width in bits, 0 if not a bitfield.
    pub bitfield_size: u32,
}

/// The members of a struct or union, read one by one from its record ([`Spec::members`]).
#[derive(Debug, Clone)]
pub struct Members<'s> {
    /// The struct, for errors.
    id: TypeId,
    /// Whether member offsets hold bitfield sizes too.
    kflag: bool,
    list: Source<'s, crate::types::Member>,
}

impl<'s> Iterator for Members<'s> {
    /// A member, or the error reading its name gives (from a spec that was not checked).
    type Item = Result<MemberRef<'s>>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.list {
            Source::Raw(list) => {
                let (at, i) = list.next()?;
                let spec = list.spec;
                let o = spec.u32_at(at + 8);
                let (bit_offset, bitfield_size) = if self.kflag {
                    (o & 0x00ff_ffff, o >> 24)
                } else {
                    (o, 0)
                };
                let name =
                    spec.name_at(self.id, &|| format!("member {i} name_off"), spec.u32_at(at));
                Some(name.map(|name| MemberRef {
                    name,
                    type_id: TypeId(spec.u32_at(at + 4)),
                    bit_offset,
                    bitfield_size,
                }))
            }
            Source::Decoded(it) => it.next().map(|m| {
                Ok(MemberRef {
                    name: &m.name,
                    type_id: m.type_id,
                    bit_offset: m.bit_offset,
                    bitfield_size: m.bitfield_size,
                })
            }),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.list.len(), Some(self.list.len()))
    }
}

impl ExactSizeIterator for Members<'_> {}

impl Spec {
    /// The offset and kind of the record of own type `id`, if it is not replaced and has
    /// `len` bytes in the data (a spec from `parse_lazy` may end early: decoding reports it).
    fn own_record(&self, id: TypeId, len: usize) -> Option<(usize, Kind)> {
        let idx = id.0.checked_sub(self.first_id)? as usize;
        let kind = Kind::from_raw(u32::from(*self.kinds.get(idx)?))?;
        if self.replaced.binary_search(&(idx as u32)).is_ok() {
            return None;
        }
        let off = *self.offsets.get(idx)? as usize;
        (self.data.bytes().len() >= off + len).then_some((off, kind))
    }

    /// The base spec, when `id` is one of its types.
    fn base_of(&self, id: TypeId) -> Option<&Spec> {
        self.base.as_deref().filter(|_| id.0 < self.first_id)
    }

    /// The linkage of the FUNC `id`, read from its header without decoding it.
    pub fn func_linkage(&self, id: TypeId) -> Result<FuncLinkage> {
        if let Some(base) = self.base_of(id) {
            return base.func_linkage(id);
        }
        if let Some((off, Kind::Func)) = self.own_record(id, HEADER) {
            return match crate::raw::info_vlen(self.u32_at(off + 4)) {
                0 => Ok(FuncLinkage::Static),
                1 => Ok(FuncLinkage::Global),
                2 => Ok(FuncLinkage::Extern),
                _ => Err(Error::BadType {
                    id,
                    field: "linkage".into(),
                    reason: "invalid func linkage",
                }),
            };
        }
        match self.type_by_id(id)? {
            Type::Func(f) => Ok(f.linkage),
            _ => Err(Error::BadType {
                id,
                field: "kind".into(),
                reason: "not a func",
            }),
        }
    }

    /// The linkage of the VAR `id`, read from its record without decoding it; `None` when
    /// `id` is not a VAR.
    pub fn var_linkage(&self, id: TypeId) -> Result<Option<VarLinkage>> {
        if let Some(base) = self.base_of(id) {
            return base.var_linkage(id);
        }
        match self.own_record(id, HEADER + 4) {
            Some((off, Kind::Var)) => match self.u32_at(off + HEADER) {
                0 => Ok(Some(VarLinkage::Static)),
                1 => Ok(Some(VarLinkage::Global)),
                2 => Ok(Some(VarLinkage::Extern)),
                _ => Err(Error::BadType {
                    id,
                    field: "linkage".into(),
                    reason: "invalid var linkage",
                }),
            },
            Some(_) => Ok(None),
            None => match self.type_by_id(id)? {
                Type::Var(v) => Ok(Some(v.linkage)),
                _ => Ok(None),
            },
        }
    }

    /// The record of own type `id` and the list its `vlen` counts, entries of `size` bytes,
    /// if `id` is not replaced and all of it is in the data: the record's offset, kind and
    /// `info`, and the list.
    fn own_list(&self, id: TypeId, size: usize) -> Option<(usize, Kind, u32, RawList<'_>)> {
        let (off, kind) = self.own_record(id, HEADER)?;
        let info = self.u32_at(off + 4);
        let n = crate::raw::info_vlen(info) as usize;
        (self.data.bytes().len() >= off + HEADER + n * size).then_some((
            off,
            kind,
            info,
            RawList {
                spec: self,
                off: off + HEADER,
                index: 0,
                left: n,
                size,
            },
        ))
    }

    /// The offset of the record of own DATASEC `id`, if it is not replaced and all of it
    /// is in the data.
    pub(super) fn own_datasec(&self, id: TypeId) -> Option<usize> {
        match self.own_list(id, SECINFO)? {
            (off, Kind::Datasec, ..) => Some(off),
            _ => None,
        }
    }

    /// The entries (variables and functions) of the DATASEC `id`, as
    /// [`Datasec::vars`](crate::Datasec::vars) holds them, read from its record without
    /// decoding it: finding a section's variables allocates nothing.
    pub fn datasec_entries(&self, id: TypeId) -> Result<DatasecEntries<'_>> {
        if let Some(base) = self.base_of(id) {
            return base.datasec_entries(id);
        }
        if let Some((_, Kind::Datasec, _, list)) = self.own_list(id, SECINFO) {
            return Ok(DatasecEntries(Source::Raw(list)));
        }
        match self.type_by_id(id)? {
            Type::Datasec(ds) => Ok(DatasecEntries(Source::Decoded(ds.vars.iter()))),
            _ => Err(Error::BadType {
                id,
                field: "kind".into(),
                reason: "not a datasec",
            }),
        }
    }

    /// The members of the struct or union `id`, as
    /// [`Struct::members`](crate::Struct::members) holds them, read from its record without
    /// decoding it: reading a map definition allocates nothing per member. An error when
    /// `id` is neither.
    pub fn members(&self, id: TypeId) -> Result<Members<'_>> {
        if let Some(base) = self.base_of(id) {
            return base.members(id);
        }
        if let Some((_, Kind::Struct | Kind::Union, info, list)) = self.own_list(id, MEMBER) {
            return Ok(Members {
                id,
                kflag: crate::raw::info_kind_flag(info),
                list: Source::Raw(list),
            });
        }
        match self.type_by_id(id)? {
            Type::Struct(s) | Type::Union(s) => Ok(Members {
                id,
                kflag: false,
                list: Source::Decoded(s.members.iter()),
            }),
            _ => Err(Error::BadType {
                id,
                field: "kind".into(),
                reason: "not a struct or union",
            }),
        }
    }

    /// The type `id` refers to, as [`Type::target`] answers it, read from its record
    /// without decoding it.
    pub fn target_of(&self, id: TypeId) -> Result<Option<TypeId>> {
        if let Some(base) = self.base_of(id) {
            return base.target_of(id);
        }
        match self.own_record(id, HEADER) {
            Some((
                off,
                Kind::Pointer
                | Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Func
                | Kind::FuncProto
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag,
            )) => Ok(Some(TypeId(self.u32_at(off + 8)))),
            Some((off, Kind::Array)) if self.own_record(id, ARRAY).is_some() => {
                Ok(Some(TypeId(self.u32_at(off + HEADER))))
            }
            Some((_, Kind::Array)) | None => Ok(self.type_by_id(id)?.target()),
            Some(_) => Ok(None),
        }
    }

    /// The number of elements of the ARRAY `id`, read from its record without decoding
    /// it; `None` when `id` is not an array.
    pub fn array_len(&self, id: TypeId) -> Result<Option<u32>> {
        if self.kind_of(id)? != Kind::Array {
            return Ok(None);
        }
        match self.size_step(id)? {
            SizeStep::Array { nelems, .. } => Ok(Some(nelems)),
            _ => Ok(None),
        }
    }

    /// The name of `id` (empty if anonymous; a tag's value), read from its record without
    /// decoding the rest of it.
    pub fn type_name(&self, id: TypeId) -> Result<&str> {
        if let Some(base) = self.base_of(id) {
            return base.type_name(id);
        }
        match self.own_name_off(id) {
            Some(name_off) => self.name_at(id, &|| "name_off".into(), name_off),
            None => Ok(self.type_by_id(id)?.name()),
        }
    }

    /// The `name_off` of own type `id`'s record, if it is not replaced and its kind reads
    /// its name from there (the others' names are empty, or come from their decoded value).
    fn own_name_off(&self, id: TypeId) -> Option<u32> {
        match self.own_record(id, HEADER)? {
            (
                _,
                Kind::Void
                | Kind::Pointer
                | Kind::Array
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::FuncProto,
            ) => None,
            (off, _) => Some(self.u32_at(off)),
        }
    }

    /// Whether the name of `id` is `name`, compared with the bytes of its record's name:
    /// nothing is decoded, and a name is not checked (a valid `name` is what it is compared
    /// with). Finding one section's datasec among a few compares bytes only.
    #[must_use]
    pub fn name_is(&self, id: TypeId, name: &str) -> bool {
        match self.own_name_off(id).map(|off| self.string_bytes(off)) {
            Some(Some(bytes)) => bytes == name.as_bytes(),
            // A base type, an unnamed kind, a name not in the table: as decoded.
            _ => self.type_name(id).is_ok_and(|n| n == name),
        }
    }

    /// Whether the name of `id` starts with `prefix`, compared in place like
    /// [`Spec::name_is`]: no scan for the name's end, and the name is not checked (a name
    /// that is not UTF-8 may start with `prefix` here and fail to decode). Filtering the
    /// many decl tags of an object by the prefix of their value reads a few bytes of each.
    /// A prefix with a NUL starts no name.
    #[must_use]
    pub fn name_starts_with(&self, id: TypeId, prefix: &str) -> bool {
        if prefix.as_bytes().contains(&0) {
            return false;
        }
        let own = |off: u32| {
            let rel = off.checked_sub(self.string_base())?;
            self.strings().starts_with(rel, prefix)
        };
        match self.own_name_off(id).and_then(own) {
            Some(starts) => starts,
            // A base type, an unnamed kind, a name not in the table: as decoded.
            None => self.type_name(id).is_ok_and(|n| n.starts_with(prefix)),
        }
    }

    /// The step [`Spec::sizeof`] takes through `id`.
    pub(super) fn size_step(&self, id: TypeId) -> Result<SizeStep> {
        if let Some(base) = self.base_of(id) {
            return base.size_step(id);
        }
        if let Some(step) = self.raw_size_step(id) {
            return Ok(step);
        }
        let t = self.type_by_id(id)?;
        Ok(match t {
            Type::Int(x) => SizeStep::Size(x.size),
            Type::Enum(x) | Type::Enum64(x) => SizeStep::Size(x.size),
            Type::Struct(x) | Type::Union(x) => SizeStep::Size(x.size),
            Type::Float(x) => SizeStep::Size(x.size),
            Type::Datasec(x) => SizeStep::Size(x.size),
            Type::Pointer(_) => SizeStep::Size(POINTER_SIZE),
            Type::Array(a) => SizeStep::Array {
                elem: a.elem,
                nelems: a.nelems,
            },
            Type::Typedef(_)
            | Type::Const(_)
            | Type::Volatile(_)
            | Type::Restrict(_)
            | Type::TypeTag(_)
            | Type::Var(_) => SizeStep::Target(t.target().unwrap_or_default()),
            _ => {
                return Err(Error::NoSize {
                    id,
                    kind: t.kind().name(),
                });
            }
        })
    }

    /// [`Spec::size_step`] from the record of own type `id`, if it is not replaced.
    fn raw_size_step(&self, id: TypeId) -> Option<SizeStep> {
        let (off, kind) = self.own_record(id, HEADER)?;
        let sot = self.u32_at(off + 8);
        Some(match kind {
            Kind::Int
            | Kind::Enum
            | Kind::Enum64
            | Kind::Struct
            | Kind::Union
            | Kind::Float
            | Kind::Datasec => SizeStep::Size(sot),
            Kind::Pointer => SizeStep::Size(POINTER_SIZE),
            Kind::Array if self.data.bytes().len() >= off + ARRAY => SizeStep::Array {
                elem: TypeId(self.u32_at(off + HEADER)),
                nelems: self.u32_at(off + HEADER + 8),
            },
            Kind::Typedef
            | Kind::Const
            | Kind::Volatile
            | Kind::Restrict
            | Kind::TypeTag
            | Kind::Var => SizeStep::Target(TypeId(sot)),
            _ => return None,
        })
    }
}
