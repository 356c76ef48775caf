//! The type graph: one [`Type`] per BTF kind, referencing each other by [`TypeId`].
//!
//! Types live in a [`Spec`](crate::Spec) (an arena); a `TypeId` is only meaningful
//! within its spec (and, for split BTF, its base).
//!
//! ```
//! use ebpf_btf::{Type, Int, IntEncoding, TypeId};
//! let t = Type::Int(Int { name: "int".into(), size: 4, encoding: IntEncoding::Signed, offset: 0, bits: 32 });
//! assert_eq!(t.name(), "int");
//! assert_eq!(t.kind().name(), "INT");
//! assert_eq!(TypeId::VOID.0, 0);
//! ```

use std::fmt;

/// A type id within a [`Spec`](crate::Spec): 0 is void, user types start at 1 (or after
/// the base for split BTF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TypeId(pub u32);

impl TypeId {
    /// The void type, id 0.
    pub const VOID: Self = Self(0);
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u32> for TypeId {
    fn from(v: u32) -> Self {
        Self(v)
    }
}

/// The kind of a type, with the kernel's numbering (`BTF_KIND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// `void`.
    Void = 0,
    /// Integer. # Minimum kernel version 4.18.
    Int = 1,
    /// Pointer. # Minimum kernel version 4.18.
    Pointer = 2,
    /// Array. # Minimum kernel version 4.18.
    Array = 3,
    /// Struct. # Minimum kernel version 4.18.
    Struct = 4,
    /// Union. # Minimum kernel version 4.18.
    Union = 5,
    /// 32-bit-or-smaller enum. # Minimum kernel version 4.18.
    Enum = 6,
    /// Forward declaration. # Minimum kernel version 4.18.
    Fwd = 7,
    /// Typedef. # Minimum kernel version 4.18.
    Typedef = 8,
    /// `volatile` qualifier. # Minimum kernel version 4.18.
    Volatile = 9,
    /// `const` qualifier. # Minimum kernel version 4.18.
    Const = 10,
    /// `restrict` qualifier. # Minimum kernel version 4.18.
    Restrict = 11,
    /// Function. # Minimum kernel version 5.0 (linkage: 5.6).
    Func = 12,
    /// Function prototype. # Minimum kernel version 5.0.
    FuncProto = 13,
    /// Variable. # Minimum kernel version 5.2.
    Var = 14,
    /// Data section. # Minimum kernel version 5.2.
    Datasec = 15,
    /// Floating point. # Minimum kernel version 5.13.
    Float = 16,
    /// Declaration tag. # Minimum kernel version 5.16.
    DeclTag = 17,
    /// Type tag. # Minimum kernel version 5.17.
    TypeTag = 18,
    /// 64-bit enum. # Minimum kernel version 6.0.
    Enum64 = 19,
}

impl Kind {
    /// Converts the raw kind number.
    #[must_use]
    pub const fn from_raw(k: u32) -> Option<Self> {
        Some(match k {
            0 => Self::Void,
            1 => Self::Int,
            2 => Self::Pointer,
            3 => Self::Array,
            4 => Self::Struct,
            5 => Self::Union,
            6 => Self::Enum,
            7 => Self::Fwd,
            8 => Self::Typedef,
            9 => Self::Volatile,
            10 => Self::Const,
            11 => Self::Restrict,
            12 => Self::Func,
            13 => Self::FuncProto,
            14 => Self::Var,
            15 => Self::Datasec,
            16 => Self::Float,
            17 => Self::DeclTag,
            18 => Self::TypeTag,
            19 => Self::Enum64,
            _ => return None,
        })
    }

    /// The name bpftool prints (`INT`, `FUNC_PROTO`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Void => "UNKNOWN",
            Self::Int => "INT",
            Self::Pointer => "PTR",
            Self::Array => "ARRAY",
            Self::Struct => "STRUCT",
            Self::Union => "UNION",
            Self::Enum => "ENUM",
            Self::Fwd => "FWD",
            Self::Typedef => "TYPEDEF",
            Self::Volatile => "VOLATILE",
            Self::Const => "CONST",
            Self::Restrict => "RESTRICT",
            Self::Func => "FUNC",
            Self::FuncProto => "FUNC_PROTO",
            Self::Var => "VAR",
            Self::Datasec => "DATASEC",
            Self::Float => "FLOAT",
            Self::DeclTag => "DECL_TAG",
            Self::TypeTag => "TYPE_TAG",
            Self::Enum64 => "ENUM64",
        }
    }
}

/// Integer encoding (`BTF_INT_ENCODING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IntEncoding {
    /// Unsigned (no bit set).
    #[default]
    Unsigned,
    /// `BTF_INT_SIGNED`.
    Signed,
    /// `BTF_INT_CHAR`.
    Char,
    /// `BTF_INT_BOOL`.
    Bool,
}

/// `BTF_KIND_INT`: an integer of `size` bytes, of which `bits` starting at `offset` are used.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Int {
    /// C name (`unsigned int`).
    pub name: String,
    /// Size in bytes (1, 2, 4, 8, 16).
    pub size: u32,
    /// Signedness/char/bool.
    pub encoding: IntEncoding,
    /// Bit offset (legacy, normally 0).
    pub offset: u8,
    /// Number of bits used.
    pub bits: u8,
}

/// `BTF_KIND_PTR`: a pointer to `target`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Pointer {
    /// Pointee.
    pub target: TypeId,
}

/// `BTF_KIND_ARRAY`: `nelems` elements of `elem`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Array {
    /// Element type.
    pub elem: TypeId,
    /// Index type (usually an int).
    pub index: TypeId,
    /// Element count.
    pub nelems: u32,
}

/// One member of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Member {
    /// Name; empty for anonymous members.
    pub name: String,
    /// Member type.
    pub type_id: TypeId,
    /// Offset from the start of the parent, in bits.
    pub bit_offset: u32,
    /// Bitfield width in bits, 0 if not a bitfield.
    pub bitfield_size: u32,
}

/// `BTF_KIND_STRUCT` / `BTF_KIND_UNION`: an aggregate of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Struct {
    /// Tag name; empty if anonymous.
    pub name: String,
    /// Size in bytes.
    pub size: u32,
    /// Members in declaration order.
    pub members: Vec<Member>,
}

/// Union has the same shape as [`Struct`].
pub type Union = Struct;

/// One enumerator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct EnumValue {
    /// Name.
    pub name: String,
    /// Value as raw 64 bits; interpret with [`Enum::signed`].
    pub value: u64,
}

/// `BTF_KIND_ENUM` / `BTF_KIND_ENUM64`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Enum {
    /// Tag name; empty if anonymous.
    pub name: String,
    /// Size in bytes.
    pub size: u32,
    /// Values are signed (kind_flag; # Minimum kernel version 6.0).
    pub signed: bool,
    /// Enumerators. For 32-bit enums the values are sign- or zero-extended.
    pub values: Vec<EnumValue>,
}

/// Which kind of aggregate a [`Fwd`] declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FwdKind {
    /// `struct foo;`
    #[default]
    Struct,
    /// `union foo;`
    Union,
}

/// `BTF_KIND_FWD`: a forward declaration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Fwd {
    /// Name.
    pub name: String,
    /// Struct or union.
    pub kind: FwdKind,
}

/// `BTF_KIND_TYPEDEF`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Typedef {
    /// Name.
    pub name: String,
    /// Aliased type.
    pub target: TypeId,
}

/// `BTF_KIND_VOLATILE`, `BTF_KIND_CONST`, `BTF_KIND_RESTRICT`: a qualifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Qualifier {
    /// Qualified type.
    pub target: TypeId,
}

/// Function linkage (`btf_func_linkage`), stored in a FUNC's vlen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FuncLinkage {
    /// `BTF_FUNC_STATIC`.
    #[default]
    Static,
    /// `BTF_FUNC_GLOBAL` (# Minimum kernel version 5.6).
    Global,
    /// `BTF_FUNC_EXTERN` (# Minimum kernel version 5.6).
    Extern,
}

/// `BTF_KIND_FUNC`: a named function with a prototype.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Func {
    /// Name.
    pub name: String,
    /// The [`FuncProto`].
    pub proto: TypeId,
    /// Linkage.
    pub linkage: FuncLinkage,
}

/// One function parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Param {
    /// Name; may be empty.
    pub name: String,
    /// Type.
    pub type_id: TypeId,
}

/// `BTF_KIND_FUNC_PROTO`: a function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FuncProto {
    /// Return type (void is 0).
    pub ret: TypeId,
    /// Parameters, without the variadic marker.
    pub params: Vec<Param>,
    /// `...`: encoded as a last parameter of type void with no name.
    pub variadic: bool,
}

/// Variable linkage (`btf_var_linkage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VarLinkage {
    /// `BTF_VAR_STATIC`.
    #[default]
    Static,
    /// `BTF_VAR_GLOBAL_ALLOCATED`.
    Global,
    /// `BTF_VAR_GLOBAL_EXTERN`.
    Extern,
}

/// `BTF_KIND_VAR`: a global or static variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Var {
    /// Name.
    pub name: String,
    /// Type.
    pub type_id: TypeId,
    /// Linkage.
    pub linkage: VarLinkage,
}

/// One variable placed in a [`Datasec`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct VarSecinfo {
    /// The VAR (or FUNC).
    pub type_id: TypeId,
    /// Offset in the section.
    pub offset: u32,
    /// Size.
    pub size: u32,
}

/// `BTF_KIND_DATASEC`: an ELF data section (`.data`, `.bss`, `.kconfig`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Datasec {
    /// Section name.
    pub name: String,
    /// Section size (0 in object files until fixed up).
    pub size: u32,
    /// Variables, normally sorted by offset.
    pub vars: Vec<VarSecinfo>,
}

/// `BTF_KIND_FLOAT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Float {
    /// Name (`double`).
    pub name: String,
    /// Size in bytes.
    pub size: u32,
}

/// `BTF_KIND_DECL_TAG`: `__attribute__((btf_decl_tag("value")))` on a declaration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DeclTag {
    /// The tag value.
    pub value: String,
    /// The tagged type.
    pub target: TypeId,
    /// Member/parameter index, or -1 for the type itself.
    pub component_idx: i32,
    /// kind_flag: the tag is a plain attribute (# Minimum kernel version 6.13).
    pub attribute: bool,
}

/// `BTF_KIND_TYPE_TAG`: `__attribute__((btf_type_tag("value")))`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TypeTag {
    /// The tag value.
    pub value: String,
    /// The tagged type.
    pub target: TypeId,
    /// kind_flag: the tag is a plain attribute (# Minimum kernel version 6.13).
    pub attribute: bool,
}

/// A decoded BTF type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Type {
    /// `void` (id 0 only).
    #[default]
    Void,
    /// See [`Int`].
    Int(Int),
    /// See [`Pointer`].
    Pointer(Pointer),
    /// See [`Array`].
    Array(Array),
    /// See [`Struct`].
    Struct(Struct),
    /// See [`Union`].
    Union(Union),
    /// See [`Enum`] (`BTF_KIND_ENUM`).
    Enum(Enum),
    /// See [`Enum`] (`BTF_KIND_ENUM64`).
    Enum64(Enum),
    /// See [`Fwd`].
    Fwd(Fwd),
    /// See [`Typedef`].
    Typedef(Typedef),
    /// `volatile`.
    Volatile(Qualifier),
    /// `const`.
    Const(Qualifier),
    /// `restrict`.
    Restrict(Qualifier),
    /// See [`Func`].
    Func(Func),
    /// See [`FuncProto`].
    FuncProto(FuncProto),
    /// See [`Var`].
    Var(Var),
    /// See [`Datasec`].
    Datasec(Datasec),
    /// See [`Float`].
    Float(Float),
    /// See [`DeclTag`].
    DeclTag(DeclTag),
    /// See [`TypeTag`].
    TypeTag(TypeTag),
}

impl Type {
    /// The kind.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self {
            Self::Void => Kind::Void,
            Self::Int(_) => Kind::Int,
            Self::Pointer(_) => Kind::Pointer,
            Self::Array(_) => Kind::Array,
            Self::Struct(_) => Kind::Struct,
            Self::Union(_) => Kind::Union,
            Self::Enum(_) => Kind::Enum,
            Self::Enum64(_) => Kind::Enum64,
            Self::Fwd(_) => Kind::Fwd,
            Self::Typedef(_) => Kind::Typedef,
            Self::Volatile(_) => Kind::Volatile,
            Self::Const(_) => Kind::Const,
            Self::Restrict(_) => Kind::Restrict,
            Self::Func(_) => Kind::Func,
            Self::FuncProto(_) => Kind::FuncProto,
            Self::Var(_) => Kind::Var,
            Self::Datasec(_) => Kind::Datasec,
            Self::Float(_) => Kind::Float,
            Self::DeclTag(_) => Kind::DeclTag,
            Self::TypeTag(_) => Kind::TypeTag,
        }
    }

    /// The name (tag value for tags); empty for anonymous or nameless kinds.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Int(t) => &t.name,
            Self::Struct(t) | Self::Union(t) => &t.name,
            Self::Enum(t) | Self::Enum64(t) => &t.name,
            Self::Fwd(t) => &t.name,
            Self::Typedef(t) => &t.name,
            Self::Func(t) => &t.name,
            Self::Var(t) => &t.name,
            Self::Datasec(t) => &t.name,
            Self::Float(t) => &t.name,
            Self::DeclTag(t) => &t.value,
            Self::TypeTag(t) => &t.value,
            Self::Void
            | Self::Pointer(_)
            | Self::Array(_)
            | Self::Volatile(_)
            | Self::Const(_)
            | Self::Restrict(_)
            | Self::FuncProto(_) => "",
        }
    }

    /// The single type this one refers to (pointee, alias, qualified, element, var type, tag
    /// target, func proto, return type), if its kind has one.
    #[must_use]
    pub fn target(&self) -> Option<TypeId> {
        match self {
            Self::Pointer(t) => Some(t.target),
            Self::Array(t) => Some(t.elem),
            Self::Typedef(t) => Some(t.target),
            Self::Volatile(t) | Self::Const(t) | Self::Restrict(t) => Some(t.target),
            Self::Func(t) => Some(t.proto),
            Self::FuncProto(t) => Some(t.ret),
            Self::Var(t) => Some(t.type_id),
            Self::DeclTag(t) => Some(t.target),
            Self::TypeTag(t) => Some(t.target),
            _ => None,
        }
    }

    /// Calls `f` with every type id this type refers to, in wire order.
    pub fn for_each_ref(&self, mut f: impl FnMut(TypeId)) {
        match self {
            Self::Array(a) => {
                f(a.elem);
                f(a.index);
            }
            Self::Struct(s) | Self::Union(s) => s.members.iter().for_each(|m| f(m.type_id)),
            Self::FuncProto(p) => {
                f(p.ret);
                p.params.iter().for_each(|p| f(p.type_id));
            }
            Self::Datasec(d) => d.vars.iter().for_each(|v| f(v.type_id)),
            other => {
                if let Some(t) = other.target() {
                    f(t);
                }
            }
        }
    }

    /// Like [`Type::for_each_ref`] but lets `f` rewrite each id (used when re-numbering).
    pub fn map_refs(&mut self, mut f: impl FnMut(TypeId) -> TypeId) {
        match self {
            Self::Pointer(t) => t.target = f(t.target),
            Self::Array(a) => {
                a.elem = f(a.elem);
                a.index = f(a.index);
            }
            Self::Struct(s) | Self::Union(s) => {
                s.members.iter_mut().for_each(|m| m.type_id = f(m.type_id));
            }
            Self::Typedef(t) => t.target = f(t.target),
            Self::Volatile(t) | Self::Const(t) | Self::Restrict(t) => t.target = f(t.target),
            Self::Func(t) => t.proto = f(t.proto),
            Self::FuncProto(p) => {
                p.ret = f(p.ret);
                p.params.iter_mut().for_each(|p| p.type_id = f(p.type_id));
            }
            Self::Var(t) => t.type_id = f(t.type_id),
            Self::Datasec(d) => d.vars.iter_mut().for_each(|v| v.type_id = f(v.type_id)),
            Self::DeclTag(t) => t.target = f(t.target),
            Self::TypeTag(t) => t.target = f(t.target),
            Self::Void
            | Self::Int(_)
            | Self::Enum(_)
            | Self::Enum64(_)
            | Self::Fwd(_)
            | Self::Float(_) => {}
        }
    }

    /// True for const/volatile/restrict and type tags.
    #[must_use]
    pub fn is_qualifier(&self) -> bool {
        matches!(
            self,
            Self::Volatile(_) | Self::Const(_) | Self::Restrict(_) | Self::TypeTag(_)
        )
    }
}

/// Typed access to a [`Type`] variant, for [`Spec::type_by_name`](crate::Spec::type_by_name).
pub trait TypeVariant: Sized {
    /// Borrows the variant out of `t` if it has this kind.
    fn from_type(t: &Type) -> Option<&Self>;
}

macro_rules! variant {
    ($ty:ty, $($v:ident),+) => {
        impl TypeVariant for $ty {
            fn from_type(t: &Type) -> Option<&Self> {
                match t {
                    $(Type::$v(x) => Some(x),)+
                    _ => None,
                }
            }
        }
    };
}
variant!(Int, Int);
variant!(Pointer, Pointer);
variant!(Array, Array);
variant!(Struct, Struct, Union);
variant!(Enum, Enum, Enum64);
variant!(Fwd, Fwd);
variant!(Typedef, Typedef);
variant!(Qualifier, Volatile, Const, Restrict);
variant!(Func, Func);
variant!(FuncProto, FuncProto);
variant!(Var, Var);
variant!(Datasec, Datasec);
variant!(Float, Float);
variant!(DeclTag, DeclTag);
variant!(TypeTag, TypeTag);

/// A 32-bit signed int named `name`: the type unit tests build most.
#[cfg(test)]
pub(crate) fn test_int(name: impl Into<String>) -> Type {
    Type::Int(Int {
        name: name.into(),
        size: 4,
        encoding: IntEncoding::Signed,
        offset: 0,
        bits: 32,
    })
}
