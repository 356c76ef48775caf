//! [`RawEdit`]: a spec written out again from the records it was parsed from, as
//! libbpf loads an object's `.BTF`: only the types replaced in the spec
//! ([`Spec::replace_type`]) or changed here are encoded anew, so every type id and
//! every offset into the spec's string table stays what it was (`.BTF.ext` func
//! info, line info and CO-RE records keep pointing at the right things).
//!
//! ```
//! use ebpf_btf::{Builder, Int, IntEncoding, RawEdit, Spec, Type};
//! let mut b = Builder::new();
//! b.add(Type::Int(Int { name: "int".into(), size: 4, encoding: IntEncoding::Signed, offset: 0, bits: 32 }));
//! let line = b.add_string("int x = 1;");
//! let spec = Spec::parse(&b.marshal(Default::default()).unwrap()).unwrap();
//! let mut edit = RawEdit::new(&spec);
//! if let Some(Type::Int(i)) = edit.get_mut(spec.first_id()) {
//!     i.encoding = IntEncoding::Unsigned;
//! }
//! let out = Spec::parse(&edit.marshal().unwrap()).unwrap();
//! assert!(matches!(out.type_by_id(spec.first_id()).unwrap(), Type::Int(i) if i.encoding == IntEncoding::Unsigned));
//! assert_eq!(out.string_at(line).unwrap(), "int x = 1;");
//! ```

use std::collections::{BTreeMap, HashMap};

use zerocopy::byteorder::ByteOrder;

use super::Spec;
use crate::encode::{AddString, blob, encode};
use crate::error::{Error, Result};
use crate::raw::{self, Endian};
use crate::strings::StringTable;
use crate::types::{Kind, Type, TypeId};

/// Changes to a [`Spec`] written out over its raw records: see the module docs.
#[derive(Debug)]
pub struct RawEdit<'a> {
    spec: &'a Spec,
    /// Own types changed here, by id.
    changed: BTreeMap<u32, Type>,
    /// Types added after the spec's.
    added: Vec<Type>,
    /// Strings added after the spec's table.
    strings: Added,
}

/// Strings appended to the spec's table.
#[derive(Debug, Default)]
struct Added {
    /// Offset of the first added string.
    base: u32,
    bytes: Vec<u8>,
    offsets: HashMap<String, u32>,
}

impl Added {
    fn add(&mut self, s: &str) -> u32 {
        if let Some(&off) = self.offsets.get(s) {
            return off;
        }
        let off = self.base + self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        self.offsets.insert(s.to_owned(), off);
        off
    }
}

/// The names of a re-encoded record: the offsets its raw record had when they
/// still hold the same strings (tried in order, as [`encode`] adds names in record
/// order), otherwise added strings.
struct RecordNames<'e> {
    table: &'e [u8],
    str_base: u32,
    hints: Vec<u32>,
    next: usize,
    added: &'e mut Added,
}

impl RecordNames<'_> {
    fn holds(&self, off: u32, s: &str) -> bool {
        off.checked_sub(self.str_base)
            .is_some_and(|rel| StringTable::new(self.table).holds(rel, s))
    }
}

impl AddString for RecordNames<'_> {
    fn add_str(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            // An anonymous name keeps its place in the order too.
            if self.hints.get(self.next) == Some(&0) {
                self.next += 1;
            }
            return 0;
        }
        if let Some(&off) = self.hints.get(self.next) {
            if self.holds(off, s) {
                self.next += 1;
                return off;
            }
        }
        if let Some(&off) = self.hints.iter().find(|&&off| self.holds(off, s)) {
            return off;
        }
        self.added.add(s)
    }
}

impl<'a> RawEdit<'a> {
    /// Nothing changed yet: [`RawEdit::marshal`] gives the spec's own records (the
    /// replaced ones encoded anew) and its string table.
    #[must_use]
    pub fn new(spec: &'a Spec) -> Self {
        Self {
            spec,
            changed: BTreeMap::new(),
            added: Vec::new(),
            strings: Added {
                base: spec.str_base + spec.layout.strs.len() as u32,
                ..Added::default()
            },
        }
    }

    /// The spec edited.
    #[must_use]
    pub fn spec(&self) -> &'a Spec {
        self.spec
    }

    /// Number of types: the spec's own and those added.
    #[must_use]
    pub fn len(&self) -> usize {
        self.spec.len() + self.added.len()
    }

    /// True if there are no types.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn added_index(&self, id: TypeId) -> Option<usize> {
        id.0.checked_sub(self.spec.next_id().0).map(|i| i as usize)
    }

    /// The type `id` as changed here, or the spec's (decoded on first use).
    #[must_use]
    pub fn get(&self, id: TypeId) -> Option<&Type> {
        if let Some(i) = self.added_index(id) {
            return self.added.get(i);
        }
        if id.0 < self.spec.first_id {
            return None;
        }
        match self.changed.get(&id.0) {
            Some(t) => Some(t),
            None => self.spec.type_by_id(id).ok(),
        }
    }

    /// The kind of `id`, read without decoding the spec's types.
    #[must_use]
    pub fn kind(&self, id: TypeId) -> Option<Kind> {
        if self.added_index(id).is_some() || self.changed.contains_key(&id.0) {
            return self.get(id).map(Type::kind);
        }
        if id.0 < self.spec.first_id {
            return None;
        }
        self.spec.kind_of(id).ok()
    }

    /// Mutable access to type `id` (a copy of the spec's, encoded anew).
    pub fn get_mut(&mut self, id: TypeId) -> Option<&mut Type> {
        if let Some(i) = self.added_index(id) {
            return self.added.get_mut(i);
        }
        if id.0 < self.spec.first_id {
            return None;
        }
        if !self.changed.contains_key(&id.0) {
            let t = self.spec.type_by_id(id).ok()?.clone();
            self.changed.insert(id.0, t);
        }
        self.changed.get_mut(&id.0)
    }

    /// Adds a type after the spec's and returns its id.
    pub fn add(&mut self, t: Type) -> TypeId {
        self.added.push(t);
        TypeId(self.spec.next_id().0 + self.added.len() as u32 - 1)
    }

    /// Adds a string after the spec's table (once) and returns its offset.
    pub fn add_string(&mut self, s: &str) -> u32 {
        self.strings.add(s)
    }

    /// Encodes header, types and strings in the spec's byte order: the raw records
    /// of the types neither replaced in the spec nor changed here, then the spec's
    /// string table and the strings added.
    pub fn marshal(mut self) -> Result<Vec<u8>> {
        match self.spec.endian() {
            Endian::Little => self.marshal_impl::<raw::LE>(),
            Endian::Big => self.marshal_impl::<raw::BE>(),
        }
    }

    fn marshal_impl<O: ByteOrder>(&mut self) -> Result<Vec<u8>> {
        let spec = self.spec;
        let data = spec.data.bytes();
        let types = spec.layout.types.clone();
        let table = &data[spec.layout.strs.clone()];
        let next = u64::from(spec.next_id().0) + self.added.len() as u64;
        if next > u64::from(raw::BTF_MAX_TYPE) + 1 {
            return Err(Error::Marshal(format!("too many types ({})", self.len())));
        }
        let mut encoded: Vec<u32> = spec.replaced.clone();
        encoded.extend(self.changed.keys().map(|id| id - spec.first_id));
        encoded.sort_unstable();
        encoded.dedup();
        let mut out = Vec::with_capacity(types.len() + 64 * (encoded.len() + self.added.len()));
        let mut copied = types.start;
        for idx in encoded {
            let i = idx as usize;
            let start = spec.offsets[i] as usize;
            let end = spec.offsets.get(i + 1).map_or(types.end, |&o| o as usize);
            out.extend_from_slice(&data[copied..start]);
            copied = end;
            let id = TypeId(spec.first_id + idx);
            let t = match self.changed.get(&id.0) {
                Some(t) => t,
                None => spec.type_by_id(id)?,
            };
            let mut names = RecordNames {
                table,
                str_base: spec.str_base,
                hints: spec.record_names(start),
                next: 0,
                added: &mut self.strings,
            };
            encode::<O>(&mut out, &mut names, id.0, t, next)?;
        }
        out.extend_from_slice(&data[copied..types.end]);
        for (i, t) in self.added.iter().enumerate() {
            let id = spec.next_id().0 + i as u32;
            let mut names = RecordNames {
                table,
                str_base: spec.str_base,
                hints: Vec::new(),
                next: 0,
                added: &mut self.strings,
            };
            encode::<O>(&mut out, &mut names, id, t, next)?;
        }
        blob::<O>(&out, &[table, &self.strings.bytes])
    }
}

impl Spec {
    /// The name offsets of the raw record at `off`, in record order: the type's,
    /// then its members', values' or parameters'.
    fn record_names(&self, off: usize) -> Vec<u32> {
        let info = self.u32_at(off + 4);
        let stride = match raw::info_kind(info) {
            raw::BTF_KIND_STRUCT | raw::BTF_KIND_UNION | raw::BTF_KIND_ENUM64 => 12,
            raw::BTF_KIND_ENUM | raw::BTF_KIND_FUNC_PROTO => 8,
            _ => 0,
        };
        let vlen = if stride == 0 {
            0
        } else {
            raw::info_vlen(info) as usize
        };
        let mut names = Vec::with_capacity(1 + vlen);
        names.push(self.u32_at(off));
        // The record was checked when the spec was parsed: its entries are there.
        names.extend((0..vlen).map(|i| self.u32_at(off + 12 + i * stride)));
        names
    }
}
