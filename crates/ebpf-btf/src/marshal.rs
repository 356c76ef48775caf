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

use zerocopy::IntoBytes;
use zerocopy::byteorder::{ByteOrder, I32, U16, U32};

use crate::error::{Error, Result};
use crate::raw::{self, Endian, info_enc};
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
        let type_len = out.len() as u32;
        let str_bytes = strs.into_bytes();
        if str_bytes.len() as u64 > u64::from(raw::BTF_MAX_NAME_OFFSET) {
            return Err(Error::Marshal("string table too large".into()));
        }
        let hdr = raw::btf_header::<O> {
            magic: U16::new(raw::BTF_MAGIC),
            version: raw::BTF_VERSION,
            flags: 0,
            hdr_len: U32::new(24),
            type_off: U32::new(0),
            type_len: U32::new(type_len),
            str_off: U32::new(type_len),
            str_len: U32::new(str_bytes.len() as u32),
        };
        let mut blob = Vec::with_capacity(24 + out.len() + str_bytes.len());
        blob.extend_from_slice(hdr.as_bytes());
        blob.extend_from_slice(&out);
        blob.extend_from_slice(&str_bytes);
        Ok(blob)
    }
}

/// Where [`encode`] puts the names of a type: returns each one's string offset.
pub(crate) trait AddString {
    fn add_str(&mut self, s: &str) -> u32;
}

impl AddString for StringTableBuilder {
    fn add_str(&mut self, s: &str) -> u32 {
        self.add(s)
    }
}

fn u32v<O: ByteOrder>(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(U32::<O>::new(v).as_bytes());
}

/// Appends the record of type `id` to `out`; ids at or past `next` are refused.
pub(crate) fn encode<O: ByteOrder>(
    out: &mut Vec<u8>,
    strs: &mut impl AddString,
    id: u32,
    t: &Type,
    next: u64,
) -> Result<()> {
    let err = |what: &str| Error::Marshal(format!("type {id}: {what}"));
    let r = |tid: TypeId| -> Result<u32> {
        if u64::from(tid.0) >= next {
            Err(err(&format!("reference to type {tid} out of range")))
        } else {
            Ok(tid.0)
        }
    };
    let vl = |n: usize| -> Result<u32> {
        if n > raw::BTF_MAX_VLEN as usize {
            Err(err("too many members"))
        } else {
            Ok(n as u32)
        }
    };
    let mut head = |out: &mut Vec<u8>, name: &str, kind: u32, kflag: bool, vlen: u32, sot: u32| {
        let h = raw::btf_type::<O> {
            name_off: U32::new(strs.add_str(name)),
            info: U32::new(info_enc(kind, kflag, vlen)),
            size_or_type: U32::new(sot),
        };
        out.extend_from_slice(h.as_bytes());
    };
    match t {
        Type::Void => return Err(err("void cannot be encoded")),
        Type::Int(x) => {
            head(out, &x.name, raw::BTF_KIND_INT, false, 0, x.size);
            let enc = match x.encoding {
                IntEncoding::Unsigned => 0,
                IntEncoding::Signed => raw::BTF_INT_SIGNED,
                IntEncoding::Char => raw::BTF_INT_CHAR,
                IntEncoding::Bool => raw::BTF_INT_BOOL,
            };
            u32v::<O>(
                out,
                enc << 24 | u32::from(x.offset) << 16 | u32::from(x.bits),
            );
        }
        Type::Pointer(x) => head(out, "", raw::BTF_KIND_PTR, false, 0, r(x.target)?),
        Type::Array(a) => {
            let (e, i) = (r(a.elem)?, r(a.index)?);
            head(out, "", raw::BTF_KIND_ARRAY, false, 0, 0);
            out.extend_from_slice(
                raw::btf_array::<O> {
                    r#type: U32::new(e),
                    index_type: U32::new(i),
                    nelems: U32::new(a.nelems),
                }
                .as_bytes(),
            );
        }
        Type::Struct(s) | Type::Union(s) => {
            let kind = if matches!(t, Type::Struct(_)) {
                raw::BTF_KIND_STRUCT
            } else {
                raw::BTF_KIND_UNION
            };
            let kflag = s.members.iter().any(|m| m.bitfield_size != 0);
            head(out, &s.name, kind, kflag, vl(s.members.len())?, s.size);
            for m in &s.members {
                let off = if kflag {
                    if m.bit_offset > 0x00ff_ffff || m.bitfield_size > 0xff {
                        return Err(err("bitfield offset/size too large"));
                    }
                    m.bitfield_size << 24 | m.bit_offset
                } else {
                    m.bit_offset
                };
                let m = raw::btf_member::<O> {
                    name_off: U32::new(strs.add_str(&m.name)),
                    r#type: U32::new(r(m.type_id)?),
                    offset: U32::new(off),
                };
                out.extend_from_slice(m.as_bytes());
            }
        }
        Type::Enum(e) => {
            head(
                out,
                &e.name,
                raw::BTF_KIND_ENUM,
                e.signed,
                vl(e.values.len())?,
                e.size,
            );
            for v in &e.values {
                let v = raw::btf_enum::<O> {
                    name_off: U32::new(strs.add_str(&v.name)),
                    val: I32::new(v.value as u32 as i32),
                };
                out.extend_from_slice(v.as_bytes());
            }
        }
        Type::Enum64(e) => {
            head(
                out,
                &e.name,
                raw::BTF_KIND_ENUM64,
                e.signed,
                vl(e.values.len())?,
                e.size,
            );
            for v in &e.values {
                let v = raw::btf_enum64::<O> {
                    name_off: U32::new(strs.add_str(&v.name)),
                    val_lo32: U32::new(v.value as u32),
                    val_hi32: U32::new((v.value >> 32) as u32),
                };
                out.extend_from_slice(v.as_bytes());
            }
        }
        Type::Fwd(f) => head(
            out,
            &f.name,
            raw::BTF_KIND_FWD,
            f.kind == FwdKind::Union,
            0,
            0,
        ),
        Type::Typedef(x) => head(out, &x.name, raw::BTF_KIND_TYPEDEF, false, 0, r(x.target)?),
        Type::Volatile(x) => head(out, "", raw::BTF_KIND_VOLATILE, false, 0, r(x.target)?),
        Type::Const(x) => head(out, "", raw::BTF_KIND_CONST, false, 0, r(x.target)?),
        Type::Restrict(x) => head(out, "", raw::BTF_KIND_RESTRICT, false, 0, r(x.target)?),
        Type::Func(f) => {
            let l = match f.linkage {
                FuncLinkage::Static => 0,
                FuncLinkage::Global => 1,
                FuncLinkage::Extern => 2,
            };
            head(out, &f.name, raw::BTF_KIND_FUNC, false, l, r(f.proto)?);
        }
        Type::FuncProto(p) => {
            let n = p.params.len() + usize::from(p.variadic);
            head(out, "", raw::BTF_KIND_FUNC_PROTO, false, vl(n)?, r(p.ret)?);
            for q in &p.params {
                let q = raw::btf_param::<O> {
                    name_off: U32::new(strs.add_str(&q.name)),
                    r#type: U32::new(r(q.type_id)?),
                };
                out.extend_from_slice(q.as_bytes());
            }
            if p.variadic {
                out.extend_from_slice(
                    raw::btf_param::<O> {
                        name_off: U32::new(0),
                        r#type: U32::new(0),
                    }
                    .as_bytes(),
                );
            }
        }
        Type::Var(v) => {
            head(out, &v.name, raw::BTF_KIND_VAR, false, 0, r(v.type_id)?);
            let l = match v.linkage {
                VarLinkage::Static => 0,
                VarLinkage::Global => 1,
                VarLinkage::Extern => 2,
            };
            u32v::<O>(out, l);
        }
        Type::Datasec(d) => {
            head(
                out,
                &d.name,
                raw::BTF_KIND_DATASEC,
                false,
                vl(d.vars.len())?,
                d.size,
            );
            for v in &d.vars {
                let v = raw::btf_var_secinfo::<O> {
                    r#type: U32::new(r(v.type_id)?),
                    offset: U32::new(v.offset),
                    size: U32::new(v.size),
                };
                out.extend_from_slice(v.as_bytes());
            }
        }
        Type::Float(f) => head(out, &f.name, raw::BTF_KIND_FLOAT, false, 0, f.size),
        Type::DeclTag(d) => {
            head(
                out,
                &d.value,
                raw::BTF_KIND_DECL_TAG,
                d.attribute,
                0,
                r(d.target)?,
            );
            out.extend_from_slice(
                raw::btf_decl_tag::<O> {
                    component_idx: I32::new(d.component_idx),
                }
                .as_bytes(),
            );
        }
        Type::TypeTag(x) => head(
            out,
            &x.value,
            raw::BTF_KIND_TYPE_TAG,
            x.attribute,
            0,
            r(x.target)?,
        ),
    }
    Ok(())
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
