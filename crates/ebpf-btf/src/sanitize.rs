//! Sanitising BTF for kernels that lack newer kinds, the way libbpf does before loading:
//! every unsupported type is replaced by one the kernel knows, keeping type ids stable (a
//! placeholder needed for ENUM64 is appended at the end).
//!
//! | missing feature | replacement |
//! |---|---|
//! | VAR / DATASEC (5.2) | VAR → `INT` of 1 byte (name kept); DATASEC → `STRUCT` of the same size with one member per variable (`.`/`?` in the name become `_`) |
//! | `?` in DATASEC names (5.19) | `?` → `_` |
//! | FUNC / FUNC_PROTO (5.0) | FUNC → `TYPEDEF`; FUNC_PROTO → anonymous 4-byte `ENUM` with one value per parameter |
//! | global/extern FUNC linkage (5.6) | linkage → static |
//! | FLOAT (5.13) | anonymous `STRUCT` of the same size, no members |
//! | DECL_TAG (5.16) | anonymous 1-byte `INT` |
//! | TYPE_TAG (5.17) | anonymous `CONST` of the same target |
//! | ENUM64 and signed enums (6.0) | ENUM64 → `UNION` of the same name and size whose members (one per value) have type `enum64_placeholder` (a 1-byte INT); signed ENUM → unsigned |
//!
//! ```
//! use ebpf_btf::sanitize::{sanitize, Features};
//! use ebpf_btf::{Builder, Float, Spec, Type};
//! let mut b = Builder::new();
//! b.add(Type::Float(Float { name: "double".into(), size: 8 }));
//! let spec = Spec::parse(&b.marshal(Default::default()).unwrap()).unwrap();
//! let out = sanitize(&spec, &Features { float: false, ..Features::all() }).unwrap();
//! assert!(matches!(&out.types()[0], Type::Struct(s) if s.size == 8 && s.name.is_empty()));
//! ```

use crate::error::Result;
use crate::marshal::Builder;
use crate::spec::{RawEdit, Spec};
use crate::types::*;

/// What the target kernel's BTF loader supports. Probe it (the `ebpf` crate's
/// `features::btf_sanitize_features` does, one BTF load per kind) or
/// estimate it with [`Features::for_kernel_version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools, reason = "a plain capability set")]
pub struct Features {
    /// FUNC and FUNC_PROTO. # Minimum kernel version 5.0.
    pub func: bool,
    /// Global/extern FUNC linkage. # Minimum kernel version 5.6.
    pub func_global: bool,
    /// VAR and DATASEC. # Minimum kernel version 5.2.
    pub datasec: bool,
    /// `?` in DATASEC names (`?.data` sections). # Minimum kernel version 5.19.
    pub qmark_datasec: bool,
    /// FLOAT. # Minimum kernel version 5.13.
    pub float: bool,
    /// DECL_TAG. # Minimum kernel version 5.16.
    pub decl_tag: bool,
    /// TYPE_TAG. # Minimum kernel version 5.17.
    pub type_tag: bool,
    /// ENUM64 and signed enums. # Minimum kernel version 6.0.
    pub enum64: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self::all()
    }
}

impl Features {
    /// Everything supported (no sanitisation).
    #[must_use]
    pub const fn all() -> Self {
        Self {
            func: true,
            func_global: true,
            datasec: true,
            qmark_datasec: true,
            float: true,
            decl_tag: true,
            type_tag: true,
            enum64: true,
        }
    }

    /// Only the 4.18 kinds (int, ptr, array, struct, union, enum, fwd, typedef, qualifiers).
    #[must_use]
    pub const fn none() -> Self {
        Self {
            func: false,
            func_global: false,
            datasec: false,
            qmark_datasec: false,
            float: false,
            decl_tag: false,
            type_tag: false,
            enum64: false,
        }
    }

    /// A guess from the kernel version, for when probing is impossible.
    #[must_use]
    pub const fn for_kernel_version(major: u32, minor: u32) -> Self {
        let v = major * 1000 + minor;
        Self {
            func: v >= 5000,
            func_global: v >= 5006,
            datasec: v >= 5002,
            qmark_datasec: v >= 5019,
            float: v >= 5013,
            decl_tag: v >= 5016,
            type_tag: v >= 5017,
            enum64: v >= 6000,
        }
    }
}

fn placeholder_int(name: &str) -> Type {
    Type::Int(Int {
        name: name.into(),
        size: 1,
        encoding: IntEncoding::Unsigned,
        offset: 0,
        bits: 8,
    })
}

/// Returns a builder holding `spec`'s types with everything `features` lacks replaced;
/// ids of existing types are unchanged. Marshal the result to load it.
pub fn sanitize(spec: &Spec, features: &Features) -> Result<Builder> {
    let mut out = if let Some(base) = spec.base() {
        Builder::new_split(base)
    } else {
        Builder::new()
    };
    out.reserve(spec.len(), spec.strings().len());
    let mut placeholder: Option<TypeId> = None;
    let mut deferred: Vec<(TypeId, Enum)> = Vec::new();
    for (id, t) in spec.types() {
        let t = t?;
        let new = match t {
            Type::Var(v) if !features.datasec => placeholder_int(&v.name),
            Type::Datasec(d) if !features.datasec => {
                let mut members = Vec::with_capacity(d.vars.len());
                for v in &d.vars {
                    members.push(Member {
                        name: spec.type_name(v.type_id)?.to_owned(),
                        type_id: v.type_id,
                        bit_offset: v.offset.saturating_mul(8),
                        bitfield_size: 0,
                    });
                }
                Type::Struct(Struct {
                    name: d.name.replace(['.', '?'], "_"),
                    size: d.size,
                    members,
                })
            }
            Type::Datasec(d) if !features.qmark_datasec && d.name.contains('?') => {
                Type::Datasec(Datasec {
                    name: d.name.replace('?', "_"),
                    ..d.clone()
                })
            }
            Type::FuncProto(p) if !features.func => Type::Enum(Enum {
                name: String::new(),
                size: 4,
                signed: false,
                values: p
                    .params
                    .iter()
                    .map(|q| EnumValue {
                        name: q.name.clone(),
                        value: u64::from(q.type_id.0),
                    })
                    .collect(),
            }),
            Type::Func(f) if !features.func => Type::Typedef(Typedef {
                name: f.name.clone(),
                target: f.proto,
            }),
            Type::Func(f) if !features.func_global && f.linkage != FuncLinkage::Static => {
                Type::Func(Func {
                    linkage: FuncLinkage::Static,
                    ..f.clone()
                })
            }
            Type::Float(f) if !features.float => Type::Struct(Struct {
                name: String::new(),
                size: f.size,
                members: vec![],
            }),
            Type::DeclTag(_) if !features.decl_tag => placeholder_int(""),
            Type::TypeTag(tt) if !features.type_tag => Type::Const(Qualifier { target: tt.target }),
            Type::Enum(e) if !features.enum64 && e.signed => Type::Enum(Enum {
                signed: false,
                ..e.clone()
            }),
            Type::Enum64(e) if !features.enum64 => {
                deferred.push((id, e.clone()));
                Type::Union(Struct {
                    name: e.name.clone(),
                    size: e.size,
                    members: vec![],
                })
            }
            other => other.clone(),
        };
        out.add(new);
    }
    for (id, e) in deferred {
        let ph = *placeholder.get_or_insert_with(|| out.add(placeholder_int("enum64_placeholder")));
        if let Some(Type::Union(u)) = out.get_mut(id) {
            u.members = e
                .values
                .iter()
                .map(|v| Member {
                    name: v.name.clone(),
                    type_id: ph,
                    bit_offset: 0,
                    bitfield_size: 0,
                })
                .collect();
        }
    }
    Ok(out)
}

/// Whether [`sanitize`] would change any of `spec`'s types for a kernel with
/// `features` (decoding only the types of kinds the kernel may lack), or `spec` has
/// headers the kernel refuses ([`Spec::has_canonical_headers`]). When neither, the spec
/// can be loaded as read ([`RawEdit`]).
pub fn needs_sanitizing(spec: &Spec, features: &Features) -> Result<bool> {
    if !spec.has_canonical_headers() {
        // Encoding anew writes clean headers.
        return Ok(true);
    }
    if *features == Features::all() {
        return Ok(false);
    }
    let f = features;
    for id in spec.ids() {
        let maybe = match spec.kind_of(id)? {
            Kind::Var => !f.datasec,
            Kind::Datasec => !f.datasec || !f.qmark_datasec,
            Kind::Func => !f.func || !f.func_global,
            Kind::FuncProto => !f.func,
            Kind::Float => !f.float,
            Kind::DeclTag => !f.decl_tag,
            Kind::TypeTag => !f.type_tag,
            Kind::Enum | Kind::Enum64 => !f.enum64,
            _ => false,
        };
        if maybe && needs_replacing(spec.type_by_id(id)?, f) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether [`sanitize`] replaces `t` (the conditions of its match, in the same order).
fn needs_replacing(t: &Type, f: &Features) -> bool {
    match t {
        Type::Var(_) => !f.datasec,
        Type::Datasec(d) => !f.datasec || (!f.qmark_datasec && d.name.contains('?')),
        Type::FuncProto(_) => !f.func,
        Type::Func(x) => !f.func || (!f.func_global && x.linkage != FuncLinkage::Static),
        Type::Float(_) => !f.float,
        Type::DeclTag(_) => !f.decl_tag,
        Type::TypeTag(_) => !f.type_tag,
        Type::Enum(e) => !f.enum64 && e.signed,
        Type::Enum64(_) => !f.enum64,
        _ => false,
    }
}

/// Types [`externs_to_globals`] rewrites: a [`Builder`]'s, or a spec's through a
/// [`RawEdit`]. Own ids run from [`EditTypes::first_type_id`] (after a split spec's base).
pub trait EditTypes {
    /// The first own type id (1, or the base's next id for split BTF).
    fn first_type_id(&self) -> TypeId;
    /// Number of own types.
    fn type_count(&self) -> usize;
    /// The kind of `id` (cheaper than [`EditTypes::get_type`] for a spec).
    fn type_kind(&self, id: TypeId) -> Option<Kind>;
    /// The type `id`.
    fn get_type(&self, id: TypeId) -> Option<&Type>;
    /// Mutable access to the type `id`.
    fn get_type_mut(&mut self, id: TypeId) -> Option<&mut Type>;
    /// Adds a type and returns its id.
    fn add_type(&mut self, t: Type) -> TypeId;
}

impl EditTypes for Builder {
    fn first_type_id(&self) -> TypeId {
        TypeId(self.first_id)
    }
    fn type_count(&self) -> usize {
        self.len()
    }
    fn type_kind(&self, id: TypeId) -> Option<Kind> {
        self.get(id).map(Type::kind)
    }
    fn get_type(&self, id: TypeId) -> Option<&Type> {
        self.get(id)
    }
    fn get_type_mut(&mut self, id: TypeId) -> Option<&mut Type> {
        self.get_mut(id)
    }
    fn add_type(&mut self, t: Type) -> TypeId {
        self.add(t)
    }
}

impl EditTypes for RawEdit<'_> {
    fn first_type_id(&self) -> TypeId {
        self.spec().first_id()
    }
    fn type_count(&self) -> usize {
        self.len()
    }
    fn type_kind(&self, id: TypeId) -> Option<Kind> {
        self.kind(id)
    }
    fn get_type(&self, id: TypeId) -> Option<&Type> {
        self.get(id)
    }
    fn get_type_mut(&mut self, id: TypeId) -> Option<&mut Type> {
        self.get_mut(id)
    }
    fn add_type(&mut self, t: Type) -> TypeId {
        self.add(t)
    }
}

/// Rewrites what the kernel refuses in an object's extern declarations, as
/// libbpf does before loading: extern VARs become global (`.kconfig` values
/// are allocated globals), and the entries of the `ksyms_section` DATASEC
/// become 4-byte dummy `int` variables, kfunc FUNCs among them global
/// functions whose parameters all have names. Type ids stay as they are (an
/// `int` and one dummy VAR may be appended).
pub fn externs_to_globals(b: &mut impl EditTypes, ksyms_section: &str) {
    let first = b.type_count();
    let first_id = b.first_type_id().0;
    let mut int_id: Option<TypeId> = None;
    let mut ksyms: Option<TypeId> = None;
    for i in 0..first {
        let id = TypeId(first_id.saturating_add(u32::try_from(i).unwrap_or(u32::MAX)));
        // Only variables, datasecs and ints are read (a spec's are decoded), and
        // only the extern variables changed.
        match b.type_kind(id) {
            Some(Kind::Var) => {
                if matches!(b.get_type(id), Some(Type::Var(v)) if v.linkage == VarLinkage::Extern) {
                    if let Some(Type::Var(v)) = b.get_type_mut(id) {
                        v.linkage = VarLinkage::Global;
                    }
                }
            }
            Some(Kind::Datasec) => {
                if matches!(b.get_type(id), Some(Type::Datasec(d)) if d.name == ksyms_section) {
                    ksyms = Some(id);
                }
            }
            Some(Kind::Int) if int_id.is_none() => {
                if matches!(b.get_type(id), Some(Type::Int(n)) if n.name == "int" && n.size == 4) {
                    int_id = Some(id);
                }
            }
            _ => {}
        }
    }
    let Some(ksyms) = ksyms else { return };
    let int_id = int_id.unwrap_or_else(|| {
        b.add_type(Type::Int(Int {
            name: "int".into(),
            size: 4,
            encoding: IntEncoding::Signed,
            offset: 0,
            bits: 32,
        }))
    });
    let dummy = b.add_type(Type::Var(Var {
        name: "dummy_ksym".into(),
        type_id: int_id,
        linkage: VarLinkage::Global,
    }));
    let vars: Vec<TypeId> = match b.get_type(ksyms) {
        Some(Type::Datasec(d)) => d.vars.iter().map(|v| v.type_id).collect(),
        _ => return,
    };
    let mut new_ids = Vec::with_capacity(vars.len());
    for id in vars {
        match b.get_type_mut(id) {
            Some(Type::Var(v)) => {
                v.type_id = int_id;
                v.linkage = VarLinkage::Global;
                new_ids.push(id);
            }
            Some(Type::Func(f)) => {
                // A kfunc: the kernel takes only static and global functions,
                // whose parameters have names.
                f.linkage = FuncLinkage::Global;
                let proto = f.proto;
                if let Some(Type::FuncProto(p)) = b.get_type_mut(proto) {
                    let unnamed = p.params.iter_mut().filter(|p| p.name.is_empty());
                    unnamed.for_each(|p| "dummy_ksym".clone_into(&mut p.name));
                }
                new_ids.push(dummy);
            }
            _ => new_ids.push(dummy),
        }
    }
    if let Some(Type::Datasec(d)) = b.get_type_mut(ksyms) {
        let mut off = 0;
        for (v, id) in d.vars.iter_mut().zip(new_ids) {
            v.type_id = id;
            v.offset = off;
            v.size = 4;
            off += 4;
        }
        d.size = off;
    }
}
