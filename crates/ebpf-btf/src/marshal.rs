//! Writing BTF: a [`Builder`] that assigns stable ids, deduplicates strings (and optionally
//! identical types as they are added, or the whole graph with [`Builder::dedup`]) and
//! encodes the wire format in either byte order.
//!
//! ```
//! use ebpf_btf::{Builder, MarshalOptions, Pointer, Spec, Type};
//! let mut b = Builder::with_dedup();
//! let p1 = b.add(Type::Pointer(Pointer { target: ebpf_btf::TypeId::VOID }));
//! let p2 = b.add(Type::Pointer(Pointer { target: ebpf_btf::TypeId::VOID }));
//! assert_eq!(p1, p2);
//! let bytes = b.marshal(MarshalOptions::default()).unwrap();
//! assert_eq!(Spec::parse(&bytes).unwrap().len(), 1);
//! ```

use std::collections::HashMap;

use zerocopy::byteorder::ByteOrder;

use crate::encode::{blob, encode};
use crate::error::{Error, Result};
use crate::raw::{self, Endian};
use crate::spec::Spec;
use crate::strings::StringTableBuilder;
use crate::types::*;

/// How to encode.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarshalOptions {
    /// Byte order of the output; `None` means the host's.
    pub endian: Option<Endian>,
}

/// Accumulates types and encodes them. Ids are assigned in insertion order starting at 1
/// (or after the base for split BTF) and never change.
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) types: Vec<Type>,
    pub(crate) first_id: u32,
    pub(crate) dedup: Option<HashMap<Type, TypeId>>,
    strings: StringTableBuilder,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// An empty builder; the first type added gets id 1.
    #[must_use]
    pub fn new() -> Self {
        Self {
            types: Vec::new(),
            first_id: 1,
            dedup: None,
            strings: StringTableBuilder::new(),
        }
    }

    /// Like [`Builder::new`], but [`Builder::add`] returns the id of an identical type
    /// (same kind, names, fields and referenced ids) instead of adding a duplicate.
    #[must_use]
    pub fn with_dedup() -> Self {
        Self {
            dedup: Some(HashMap::new()),
            ..Self::new()
        }
    }

    /// A builder for split BTF on top of `base`: ids start at `base.next_id()`.
    #[must_use]
    pub fn new_split(base: &Spec) -> Self {
        let str_base = base.string_base() + base.strings().len() as u32;
        Self {
            first_id: base.next_id().0,
            strings: StringTableBuilder::new_split(str_base),
            ..Self::new()
        }
    }

    /// Adds a string that no type names (file names, source lines, accessor strings for
    /// `.BTF.ext`) and returns its offset, which stays valid in the marshalled blob.
    pub fn add_string(&mut self, s: &str) -> u32 {
        self.strings.add(s)
    }

    /// Adds a type and returns its id.
    pub fn add(&mut self, t: Type) -> TypeId {
        if let Some(d) = &mut self.dedup {
            if let Some(&id) = d.get(&t) {
                return id;
            }
            let id = TypeId(self.first_id + self.types.len() as u32);
            d.insert(t.clone(), id);
            self.types.push(t);
            return id;
        }
        self.types.push(t);
        TypeId(self.first_id + self.types.len() as u32 - 1)
    }

    /// Copies every type of `spec` (ids are preserved when the builder is empty and not split).
    pub fn add_spec(&mut self, spec: &Spec) -> Result<()> {
        for (_, t) in spec.types() {
            let t = t?.clone();
            self.types.push(t);
        }
        Ok(())
    }

    /// The type with id `id`, if added here.
    #[must_use]
    pub fn get(&self, id: TypeId) -> Option<&Type> {
        self.types.get(id.0.checked_sub(self.first_id)? as usize)
    }

    /// Mutable access to an added type.
    pub fn get_mut(&mut self, id: TypeId) -> Option<&mut Type> {
        self.types
            .get_mut(id.0.checked_sub(self.first_id)? as usize)
    }

    /// Number of types added.
    #[must_use]
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// True if no type was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The types, in id order.
    #[must_use]
    pub fn types(&self) -> &[Type] {
        &self.types
    }

    /// Encodes the types (host byte order) and parses them back into a [`Spec`]
    /// (split builders need the same base).
    pub fn to_spec(&self, base: Option<std::sync::Arc<Spec>>) -> Result<Spec> {
        let bytes = self.marshal(MarshalOptions::default())?;
        let spec = match base {
            Some(b) => {
                let spec = Spec::parse_split(&bytes, b)?;
                spec.validate()?;
                spec
            }
            // Checks every type.
            None => Spec::parse(&bytes)?,
        };
        Ok(spec)
    }

    /// Encodes header, types and strings.
    pub fn marshal(&self, opts: MarshalOptions) -> Result<Vec<u8>> {
        self.marshal_with(opts, self.strings.clone())
    }

    /// [`Builder::marshal`] of a builder that is not needed afterwards (its
    /// string table is extended in place rather than copied first).
    pub fn into_marshalled(self, opts: MarshalOptions) -> Result<Vec<u8>> {
        let mut b = self;
        let strings = std::mem::take(&mut b.strings);
        b.marshal_with(opts, strings)
    }

    /// Makes room for `types` more types whose names and strings take about
    /// `string_bytes` bytes (a [`Spec`]'s own string table length for its types).
    pub fn reserve(&mut self, types: usize, string_bytes: usize) {
        self.types.reserve(types);
        self.strings.reserve(types, string_bytes);
    }

    fn marshal_with(&self, opts: MarshalOptions, strs: StringTableBuilder) -> Result<Vec<u8>> {
        match opts.endian.unwrap_or(Endian::native()) {
            Endian::Little => self.marshal_impl::<raw::LE>(strs),
            Endian::Big => self.marshal_impl::<raw::BE>(strs),
        }
    }

    fn marshal_impl<O: ByteOrder>(&self, mut strs: StringTableBuilder) -> Result<Vec<u8>> {
        let mut out: Vec<u8> = Vec::with_capacity(self.types.len() * 16);
        let next = self.first_id as u64 + self.types.len() as u64;
        if next > u64::from(raw::BTF_MAX_TYPE) + 1 {
            return Err(Error::Marshal(format!(
                "too many types ({})",
                self.types.len()
            )));
        }
        for (i, t) in self.types.iter().enumerate() {
            let id = self.first_id + i as u32;
            encode::<O>(&mut out, &mut strs, id, t, next)?;
        }
        blob::<O>(&out, &[&strs.into_bytes()])
    }
}

impl Spec {
    /// Encodes this spec's own types (split specs produce split BTF on the same base).
    pub fn marshal(&self, opts: MarshalOptions) -> Result<Vec<u8>> {
        let mut b = match self.base() {
            Some(base) => Builder::new_split(base),
            None => Builder::new(),
        };
        b.add_spec(self)?;
        b.marshal(opts)
    }
}
