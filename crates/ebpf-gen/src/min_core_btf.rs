//! Minimal BTF for shipping (bpftool's `gen min_core_btf`): the part of a
//! kernel's BTF that the CO-RE relocations of some objects read, so that an
//! application can carry a few kilobytes per kernel instead of the whole
//! vmlinux BTF (BTFHub's use case) and load with it as the CO-RE target on
//! kernels without `/sys/kernel/btf/vmlinux`.
//!
//! # What is kept
//!
//! Every relocation is matched against every candidate of the source BTF (as
//! loading does), and for each candidate that matches, what computing the
//! relocation reads:
//!
//! - field relocations: the root type, each member along the access path
//!   (anonymous members included) with its type, array element types, and
//!   the types their sizes need (typedefs, qualifiers, arrays; not pointees);
//! - type relocations (`type exists`, `type size`, `target type id`): the
//!   type with what type compatibility compares (pointees, array elements,
//!   function prototypes), but no members;
//! - `type matches`: the type with all its members and enumerators,
//!   recursively (only the name and kind behind pointers);
//! - enum value relocations: the enum with the enumerators referenced.
//!
//! Structs and unions keep their size and the kept members their offsets; a
//! pointer to a type that is not kept points to `void`. Relocating against the
//! result gives the fixups relocating against the source gives (values,
//! sizes, poisoning, ambiguity), except for `target type id`, whose value is
//! an id of the new BTF.
//!
//! ```
//! # fn main() -> Result<(), ebpf_gen::Error> {
//! use ebpf_gen::MinCoreBtf;
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
//! let target = ebpf_spec::CollectionSpec::from_file(format!("{dir}/core_target-el.o"))?;
//! let object = ebpf_spec::CollectionSpec::from_file(format!("{dir}/core-el.o"))?;
//! let source = target.btf.as_ref().expect("core_target has BTF");
//! let mut min = MinCoreBtf::new(source)?;
//! assert!(min.add_object(&object)? > 0);
//! let small = ebpf_btf::Spec::parse(&min.marshal()?)?;
//! assert!(small.len() < source.len());
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashSet};

use ebpf_btf::core::{CoreError, CoreErrorKind, CoreSpec, find_candidates, parse_spec, spec_match};
use ebpf_btf::{Builder, CoreRelo, CoreReloKind, MarshalOptions, Spec, Type, TypeId};
use ebpf_spec::CollectionSpec;

use crate::error::{Error, Result};

/// What is kept of one type: its header, and which members (struct, union)
/// or enumerators (enum) by index, or all of them.
#[derive(Debug, Default, Clone)]
struct Keep {
    all: bool,
    members: BTreeSet<u32>,
}

/// Collects what the CO-RE relocations of some objects read of a source BTF
/// and writes it as a small BTF blob. See the [module docs](mod@crate::min_core_btf).
#[derive(Debug)]
pub struct MinCoreBtf<'a> {
    source: &'a Spec,
    keep: BTreeMap<TypeId, Keep>,
    /// `(id, follow pointers)` pairs already walked by `mark_type`.
    walked: HashSet<(TypeId, bool)>,
    /// `(id, behind a pointer)` pairs already walked by `mark_match`.
    matched: HashSet<(TypeId, bool)>,
    relocations: usize,
}

/// The minimal BTF of `source` for the CO-RE relocations of `objects`, in
/// `source`'s byte order. See [`MinCoreBtf`].
///
/// # Errors
/// A split (module) BTF as source, unreadable BTF, or a relocation whose
/// local side is malformed.
pub fn min_core_btf(source: &Spec, objects: &[&CollectionSpec]) -> Result<Vec<u8>> {
    let mut min = MinCoreBtf::new(source)?;
    for o in objects {
        min.add_object(o)?;
    }
    min.marshal()
}

impl<'a> MinCoreBtf<'a> {
    /// Starts from `source`, a complete BTF such as vmlinux.
    ///
    /// # Errors
    /// [`Error::Config`] if `source` is split BTF (module BTF on top of a base).
    pub fn new(source: &'a Spec) -> Result<Self> {
        if source.base().is_some() {
            return Err(Error::Config(
                "min-core-btf: the source must be a complete BTF (vmlinux), not split BTF".into(),
            ));
        }
        Ok(Self {
            source,
            keep: BTreeMap::new(),
            walked: HashSet::new(),
            matched: HashSet::new(),
            relocations: 0,
        })
    }

    /// Adds the CO-RE relocations of every program of `object` and returns
    /// their number (0 for an object without BTF).
    ///
    /// # Errors
    /// [`Error::Core`] naming the program and relocation that cannot be
    /// resolved (a malformed accessor, unreadable BTF).
    pub fn add_object(&mut self, object: &CollectionSpec) -> Result<usize> {
        let Some(local) = &object.btf else {
            return Ok(0);
        };
        let mut count = 0;
        for p in object.programs.values() {
            let relos: Vec<CoreRelo> = p
                .instructions
                .iter()
                .filter_map(|ins| ins.metadata.get::<CoreRelo>().cloned())
                .collect();
            self.add_relocations(local, &relos)
                .map_err(|source| Error::Core {
                    program: p.name.to_string(),
                    source: Box::new(source),
                })?;
            count += relos.len();
        }
        Ok(count)
    }

    /// Adds relocations whose local types are in `local` (numbered from 0
    /// in errors).
    ///
    /// # Errors
    /// The first relocation whose local side is malformed or whose matching
    /// reads BTF that cannot be decoded.
    pub fn add_relocations(
        &mut self,
        local: &Spec,
        relos: &[CoreRelo],
    ) -> std::result::Result<(), CoreError> {
        for (i, relo) in relos.iter().enumerate() {
            self.add_relocation(local, relo)
                .map_err(|source| CoreError {
                    relocation: i,
                    kind: relo.kind,
                    local: format!("type {} + {}", relo.type_id, relo.access),
                    insn: relo.insn_off as usize / 8,
                    source,
                })?;
            self.relocations += 1;
        }
        Ok(())
    }

    /// The number of relocations added.
    #[must_use]
    pub fn relocations(&self) -> usize {
        self.relocations
    }

    /// The number of types kept so far.
    #[must_use]
    pub fn types(&self) -> usize {
        self.keep.len()
    }

    fn add_relocation(
        &mut self,
        local: &Spec,
        relo: &CoreRelo,
    ) -> std::result::Result<(), CoreErrorKind> {
        if relo.kind == CoreReloKind::TypeIdLocal {
            return Ok(());
        }
        let local_spec = parse_spec(local, relo.type_id, &relo.access, relo.kind)?;
        let source = self.source;
        let candidates = match find_candidates(local, relo.type_id, &[source]) {
            Ok(c) => c,
            // Reported the same way whatever the target: nothing to keep.
            Err(CoreErrorKind::AnonymousType) => return Ok(()),
            Err(e) => return Err(e),
        };
        for cand in candidates {
            let Some(target) = spec_match(&local_spec, source, cand.id)? else {
                continue;
            };
            match relo.kind {
                CoreReloKind::FieldByteOffset
                | CoreReloKind::FieldByteSize
                | CoreReloKind::FieldExists
                | CoreReloKind::FieldSigned
                | CoreReloKind::FieldLShiftU64
                | CoreReloKind::FieldRShiftU64 => self.mark_field(&target)?,
                CoreReloKind::EnumvalExists | CoreReloKind::EnumvalValue => {
                    self.mark_type(target.root, false)?;
                    if let Some(a) = target.accessors.first() {
                        self.keep
                            .entry(a.type_id)
                            .or_default()
                            .members
                            .insert(a.idx);
                    }
                }
                CoreReloKind::TypeMatches => self.mark_match(target.root, false)?,
                _ => self.mark_type(target.root, true)?,
            }
        }
        Ok(())
    }

    /// Keeps the root, every member along the target's low-level access path
    /// and the types their sizes need.
    fn mark_field(&mut self, target: &CoreSpec<'_>) -> ebpf_btf::Result<()> {
        let src = self.source;
        let mut id = target.root;
        self.mark_type(id, false)?;
        for &idx in target.raw.iter().skip(1) {
            id = src.underlying_type(id)?;
            match src.type_by_id(id)? {
                Type::Struct(s) | Type::Union(s) => {
                    let Some(m) = s.members.get(idx as usize) else {
                        break;
                    };
                    self.keep_member(id, idx);
                    // Whether a zero-length array is flexible depends on it being
                    // the last member: keep the last member too.
                    let last = s.members.len() - 1;
                    if idx as usize != last && self.is_empty_array(m.type_id)? {
                        self.keep_member(id, last as u32);
                        self.mark_type(s.members[last].type_id, false)?;
                    }
                    id = m.type_id;
                    self.mark_type(id, false)?;
                }
                Type::Array(a) => id = a.elem,
                _ => break,
            }
        }
        Ok(())
    }

    fn is_empty_array(&self, id: TypeId) -> ebpf_btf::Result<bool> {
        let id = self.source.underlying_type(id)?;
        Ok(matches!(self.source.type_by_id(id)?, Type::Array(a) if a.nelems == 0))
    }

    fn keep_member(&mut self, id: TypeId, idx: u32) {
        self.keep.entry(id).or_default().members.insert(idx);
    }

    /// Keeps `id` and what its size and compatibility need: typedef and
    /// qualifier targets, array elements, prototypes; pointees only if
    /// `follow_pointers`. Members are not kept.
    fn mark_type(&mut self, id: TypeId, follow_pointers: bool) -> ebpf_btf::Result<()> {
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            if id == TypeId::VOID || !self.walked.insert((id, follow_pointers)) {
                continue;
            }
            let t = self.source.type_by_id(id)?;
            if matches!(t, Type::DeclTag(_)) {
                continue;
            }
            self.keep.entry(id).or_default();
            match t {
                Type::Pointer(p) => {
                    if follow_pointers {
                        stack.push(p.target);
                    }
                }
                Type::Struct(_) | Type::Union(_) | Type::Enum(_) | Type::Enum64(_) => {}
                other => other.for_each_ref(|r| stack.push(r)),
            }
        }
        Ok(())
    }

    /// Keeps what `type matches` compares: all members and enumerators,
    /// recursively; behind a pointer only the name and kind of aggregates.
    fn mark_match(&mut self, id: TypeId, behind_ptr: bool) -> ebpf_btf::Result<()> {
        let mut stack = vec![(id, behind_ptr)];
        while let Some((id, behind)) = stack.pop() {
            if id == TypeId::VOID || !self.matched.insert((id, behind)) {
                continue;
            }
            let t = self.source.type_by_id(id)?;
            if matches!(t, Type::DeclTag(_)) {
                continue;
            }
            let keep = self.keep.entry(id).or_default();
            match t {
                Type::Struct(s) | Type::Union(s) => {
                    if !behind {
                        keep.all = true;
                        stack.extend(s.members.iter().map(|m| (m.type_id, false)));
                    }
                }
                Type::Enum(_) | Type::Enum64(_) => keep.all = true,
                Type::Pointer(p) => stack.push((p.target, true)),
                other => other.for_each_ref(|r| stack.push((r, behind))),
            }
        }
        Ok(())
    }

    /// The kept types as a [`Builder`]: ids renumbered in source order,
    /// unkept members and enumerators dropped, pointers to unkept types
    /// pointing to `void`.
    ///
    /// # Errors
    /// Source BTF that cannot be decoded.
    pub fn builder(&self) -> Result<Builder> {
        let ids: BTreeMap<TypeId, TypeId> = self
            .keep
            .keys()
            .enumerate()
            .map(|(i, &id)| (id, TypeId(i as u32 + 1)))
            .collect();
        let mut b = Builder::new();
        for (&id, keep) in &self.keep {
            let mut t = self.source.type_by_id(id)?.clone();
            match &mut t {
                Type::Struct(s) | Type::Union(s) if !keep.all => {
                    s.members = s
                        .members
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| keep.members.contains(&(*i as u32)))
                        .map(|(_, m)| m.clone())
                        .collect();
                }
                Type::Enum(e) | Type::Enum64(e) if !keep.all => {
                    e.values = e
                        .values
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| keep.members.contains(&(*i as u32)))
                        .map(|(_, v)| v.clone())
                        .collect();
                }
                _ => {}
            }
            t.map_refs(|r| ids.get(&r).copied().unwrap_or(TypeId::VOID));
            b.add(t);
        }
        Ok(b)
    }

    /// The kept types as a BTF blob in the source's byte order.
    ///
    /// # Errors
    /// Source BTF that cannot be decoded.
    pub fn marshal(&self) -> Result<Vec<u8>> {
        Ok(self.builder()?.marshal(MarshalOptions {
            endian: Some(self.source.endian()),
        })?)
    }
}
