//! Rust types from BTF: the walk over the type graph that names each type,
//! decides its Rust representation and layout, and queues its definition
//! (written by the `emit` module).
//!
//! Representations (every one is plain data: any bit pattern is valid):
//!
//! | C | Rust |
//! |---|---|
//! | integers, `char` | `u8`..`u128`, `i8`..`i128`; `char` is `u8`, `_Bool` is `u8` |
//! | pointers, function pointers | `u64` (a BPF pointer is 64 bits; its value is an address in the kernel) |
//! | `float`, `double` | `f32`, `f64` (other sizes: bytes) |
//! | arrays | `[T; N]`; a flexible array member is `[T; 0]` |
//! | `struct` | a `#[repr(C)]` struct with explicit padding fields, `packed` when C places a member where Rust's alignment would not; bitfields become byte storage with accessor methods |
//! | `union` | a struct over storage of the union's size and alignment, with an accessor pair per member |
//! | `enum` | an open newtype over its integer with an associated constant per enumerator |
//! | anything else | a struct of bytes of the type's size, with a doc comment saying why |

use std::collections::{HashMap, HashSet};

use ebpf_btf::{Enum, IntEncoding, Member, Spec, Struct, Type, TypeId};

use crate::emit::{self, BitfieldAccessor, Field, Method, StructDef, Style};
use crate::error::{Error, Result};
use crate::ident::{Namespace, RESERVED_TYPES, camel, value_name};

/// How deep by-value nesting may go before the input is taken as hostile.
const MAX_DEPTH: usize = 128;

/// What a scalar is, for accessors (bitfields, `char` arrays).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    /// An integer of this Rust type, signed or not.
    Int { signed: bool },
    /// An enum newtype over this integer type.
    Enum { repr: &'static str },
    /// An array of `char`.
    CharArray,
    /// Anything else.
    Other,
}

/// The Rust representation of a BTF type.
#[derive(Debug, Clone)]
pub(crate) struct Ty {
    /// The Rust type (`u32`, `[u8; 16]`, `Event`).
    pub text: String,
    /// Size in bytes (equal to the BTF size).
    pub size: u32,
    /// Alignment of the Rust type.
    pub align: u32,
    /// Whether `Eq` can be derived (no floats inside).
    pub eq: bool,
    /// The C type, for doc comments (`__u32`, `struct event`).
    pub c: String,
    /// The C array dimensions (`[16]`).
    pub dims: String,
    /// What kind of scalar it is.
    pub scalar: Scalar,
    /// Whether it implements zerocopy's traits (union accessors need them).
    pub zerocopy: bool,
}

impl Ty {
    fn prim(text: &str, size: u32, c: &str, scalar: Scalar) -> Ty {
        Ty {
            text: text.to_owned(),
            size,
            align: size.clamp(1, 16),
            eq: true,
            c: c.to_owned(),
            dims: String::new(),
            scalar,
            zerocopy: true,
        }
    }

    pub(crate) fn bytes(size: u32, c: &str) -> Ty {
        Ty {
            text: format!("[u8; {size}]"),
            size,
            align: 1,
            eq: true,
            c: c.to_owned(),
            dims: String::new(),
            scalar: Scalar::Other,
            zerocopy: true,
        }
    }
}

/// The Rust integer type of `size` bytes.
pub(crate) fn int_name(size: u32, signed: bool) -> Option<&'static str> {
    Some(match (size, signed) {
        (1, false) => "u8",
        (1, true) => "i8",
        (2, false) => "u16",
        (2, true) => "i16",
        (4, false) => "u32",
        (4, true) => "i32",
        (8, false) => "u64",
        (8, true) => "i64",
        (16, false) => "u128",
        (16, true) => "i128",
        _ => return None,
    })
}

/// The types generated so far, in the order they are written.
#[derive(Debug)]
pub(crate) struct TypeGen<'a> {
    pub(crate) spec: &'a Spec,
    /// Bitfield bit numbering: the object's byte order.
    big_endian: bool,
    /// What each type gets besides its layout.
    style: Style,
    /// Type names handed out.
    pub(crate) names: Namespace,
    done: HashMap<TypeId, Ty>,
    active: HashSet<TypeId>,
    items: Vec<Option<String>>,
    /// Things the user should know (types stored as bytes).
    pub(crate) warnings: Vec<String>,
    depth: usize,
}

/// An error for type `id` of `spec` that cannot be represented.
pub(crate) fn unrep(spec: &Spec, id: TypeId, reason: impl Into<String>) -> Error {
    Error::Unrepresentable {
        name: c_name(spec, id),
        id: id.0,
        reason: reason.into(),
    }
}

/// The C spelling of a type (`struct event`, `__u32`, `char *`), for messages and docs.
pub(crate) fn c_name(spec: &Spec, id: TypeId) -> String {
    c_name_depth(spec, id, 0)
}

fn c_name_depth(spec: &Spec, id: TypeId, depth: usize) -> String {
    if depth > 16 {
        return "...".into();
    }
    let Ok(t) = spec.type_by_id(id) else {
        return format!("type {id}");
    };
    let tag = |kw: &str, name: &str| {
        if name.is_empty() {
            format!("{kw} (anon)")
        } else {
            format!("{kw} {name}")
        }
    };
    match t {
        Type::Void => "void".into(),
        Type::Struct(s) => tag("struct", &s.name),
        Type::Union(s) => tag("union", &s.name),
        Type::Enum(e) | Type::Enum64(e) => tag("enum", &e.name),
        Type::Fwd(f) => tag(
            if f.kind == ebpf_btf::FwdKind::Union {
                "union"
            } else {
                "struct"
            },
            &f.name,
        ),
        Type::Pointer(p) => match spec.type_by_id(p.target) {
            Ok(Type::FuncProto(_)) => "function pointer".into(),
            _ => format!("{} *", c_name_depth(spec, p.target, depth + 1)),
        },
        Type::Const(q) => format!("const {}", c_name_depth(spec, q.target, depth + 1)),
        Type::Volatile(q) => format!("volatile {}", c_name_depth(spec, q.target, depth + 1)),
        Type::Restrict(q) => c_name_depth(spec, q.target, depth + 1),
        Type::TypeTag(q) => c_name_depth(spec, q.target, depth + 1),
        Type::Array(a) => format!("{}[{}]", c_name_depth(spec, a.elem, depth + 1), a.nelems),
        Type::FuncProto(_) => "function".into(),
        t => t.name().to_owned(),
    }
}

impl<'a> TypeGen<'a> {
    /// A generator over `spec`, whose bitfields are numbered for `big_endian`.
    pub(crate) fn new(spec: &'a Spec, big_endian: bool) -> Self {
        TypeGen {
            spec,
            big_endian,
            style: Style::Full,
            names: Namespace::with_reserved(RESERVED_TYPES),
            done: HashMap::new(),
            active: HashSet::new(),
            items: Vec::new(),
            warnings: Vec::new(),
            depth: 0,
        }
    }

    /// Generates plain types (`Clone`, `Copy` and a size assertion) instead
    /// of full ones: see [`Style`].
    pub(crate) fn with_style(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    /// The definitions, in order, each ending in a newline, separated by blank lines.
    pub(crate) fn finish(self) -> String {
        let items: Vec<String> = self.items.into_iter().flatten().collect();
        items.join("\n")
    }

    /// Adds a hand-made item (a type alias, a datasec struct).
    pub(crate) fn push_item(&mut self, text: String) {
        self.items.push(Some(text));
    }

    /// The Rust type for `id`; `hint` names it if it is an anonymous aggregate.
    pub(crate) fn ty(&mut self, id: TypeId, hint: &dyn Fn() -> String) -> Result<Ty> {
        if self.depth > MAX_DEPTH {
            return Err(unrep(self.spec, id, "nested too deeply"));
        }
        self.depth += 1;
        let r = self.ty_inner(id, hint);
        self.depth -= 1;
        r
    }

    fn ty_inner(&mut self, id: TypeId, hint: &dyn Fn() -> String) -> Result<Ty> {
        let spec = self.spec;
        match spec.type_by_id(id)? {
            Type::Typedef(t) => {
                let name = t.name.clone();
                let mut ty = self.ty(t.target, &|| camel(&name))?;
                ty.c = name;
                Ok(ty)
            }
            Type::Const(q) | Type::Volatile(q) | Type::Restrict(q) => self.ty(q.target, hint),
            Type::TypeTag(t) => self.ty(t.target, hint),
            Type::Int(i) => {
                let (signed, scalar) = match i.encoding {
                    IntEncoding::Signed if i.name != "char" => (true, Scalar::Int { signed: true }),
                    _ => (false, Scalar::Int { signed: false }),
                };
                match int_name(i.size, signed) {
                    Some(n) => Ok(Ty::prim(n, i.size, &i.name, scalar)),
                    None => Ok(Ty::bytes(i.size, &i.name)),
                }
            }
            Type::Pointer(_) => Ok(Ty::prim("u64", 8, &c_name(spec, id), Scalar::Other)),
            Type::Float(f) => {
                let mut t = match f.size {
                    4 => Ty::prim("f32", 4, &f.name, Scalar::Other),
                    8 => Ty::prim("f64", 8, &f.name, Scalar::Other),
                    n => return Ok(Ty::bytes(n, &f.name)),
                };
                t.eq = false;
                Ok(t)
            }
            Type::Array(a) => {
                let (elem_id, n) = (a.elem, a.nelems);
                let elem = self.ty(elem_id, hint)?;
                let size = elem
                    .size
                    .checked_mul(n)
                    .ok_or_else(|| unrep(spec, id, "array size overflows"))?;
                let is_char = matches!(spec.type_by_id(spec.underlying_type(elem_id)?)?,
                    Type::Int(i) if i.size == 1 && (i.encoding == IntEncoding::Char || i.name == "char"));
                Ok(Ty {
                    text: format!("[{}; {n}]", elem.text),
                    size,
                    align: elem.align,
                    eq: elem.eq,
                    dims: format!("[{n}]{}", elem.dims),
                    c: elem.c,
                    zerocopy: elem.zerocopy,
                    scalar: if is_char && elem.dims.is_empty() {
                        Scalar::CharArray
                    } else {
                        Scalar::Other
                    },
                })
            }
            Type::Struct(_) | Type::Union(_) | Type::Enum(_) | Type::Enum64(_) => {
                self.named(id, hint)
            }
            Type::Fwd(_) => Err(unrep(
                spec,
                id,
                "only declared (no definition in the BTF), so its size is unknown",
            )),
            t => Err(unrep(
                spec,
                id,
                format!("a {} cannot be a value", t.kind().name()),
            )),
        }
    }

    /// The Rust type of struct, union or enum `id`, generated on first use.
    pub(crate) fn named(&mut self, id: TypeId, hint: &dyn Fn() -> String) -> Result<Ty> {
        if let Some(t) = self.done.get(&id) {
            return Ok(t.clone());
        }
        let spec = self.spec;
        if self.active.contains(&id) {
            return Err(unrep(spec, id, "contains itself by value"));
        }
        let t = spec.type_by_id(id)?.clone();
        let c = c_name(spec, id);
        let base = if t.name().is_empty() {
            hint()
        } else {
            camel(t.name())
        };
        let name = self.names.claim(&base);
        self.active.insert(id);
        let slot = self.items.len();
        self.items.push(None);
        let res = match &t {
            Type::Struct(s) => self.gen_struct(id, &name, &c, s),
            Type::Union(u) => self.gen_union(id, &name, &c, u),
            Type::Enum(e) | Type::Enum64(e) => Ok(self.gen_enum(&name, &c, e)),
            _ => Err(unrep(spec, id, "not an aggregate")),
        };
        self.active.remove(&id);
        let (text, ty) = match res {
            Ok(x) => x,
            Err(Error::Unrepresentable { reason, .. }) => {
                let size = spec
                    .sizeof(id)
                    .map_err(|_| unrep(spec, id, reason.clone()))?;
                self.warnings
                    .push(format!("{c}: stored as {size} bytes: {reason}"));
                let text = emit::opaque(&name, &c, size, &reason, self.style);
                (text, Ty::bytes(size, &c))
            }
            Err(e) => return Err(e),
        };
        let ty = Ty {
            text: name,
            c,
            zerocopy: self.style == Style::Full,
            ..ty
        };
        self.items[slot] = Some(text);
        self.done.insert(id, ty.clone());
        Ok(ty)
    }

    /// The type of a member, or bytes of its size (with a warning) if it has none.
    fn member_ty(&mut self, owner: &str, m: &Member, hint: &dyn Fn() -> String) -> Result<Ty> {
        match self.ty(m.type_id, hint) {
            Ok(t) => Ok(t),
            Err(Error::Unrepresentable { reason, .. }) => {
                let size = self
                    .spec
                    .sizeof(m.type_id)
                    .map_err(|_| unrep(self.spec, m.type_id, reason.clone()))?;
                let c = c_name(self.spec, m.type_id);
                self.warnings.push(format!(
                    "{owner}: member '{}' ({c}): stored as {size} bytes: {reason}",
                    m.name
                ));
                Ok(Ty::bytes(size, &c))
            }
            Err(e) => Err(e),
        }
    }

    /// A struct (or a datasec, given as a struct whose members are its variables).
    pub(crate) fn gen_struct(
        &mut self,
        id: TypeId,
        name: &str,
        c: &str,
        s: &Struct,
    ) -> Result<(String, Ty)> {
        let spec = self.spec;
        let mut def = StructDef::new(name, c, s.size);
        let mut fields = Namespace::default();
        let mut methods = Namespace::with_reserved(&["default"]);
        let (mut cursor, mut anon, mut pads, mut bits) = (0u32, 0u32, 0u32, 0u32);
        let mut eq = true;
        let mut i = 0;
        while i < s.members.len() {
            let m = &s.members[i];
            if m.bitfield_size == 0 {
                if m.bit_offset % 8 != 0 {
                    return Err(unrep(
                        spec,
                        id,
                        format!(
                            "member '{}' at bit {} is not byte-aligned",
                            m.name, m.bit_offset
                        ),
                    ));
                }
                let off = m.bit_offset / 8;
                if off < cursor {
                    return Err(unrep(
                        spec,
                        id,
                        format!("member '{}' at byte {off} overlaps the one before", m.name),
                    ));
                }
                let (fname, hint) = if m.name.is_empty() {
                    anon += 1;
                    (
                        fields.claim(&format!("anon_{anon}")),
                        format!("{name}Anon{anon}"),
                    )
                } else {
                    (
                        fields.claim(&value_name(&m.name)),
                        format!("{name}{}", camel(&m.name)),
                    )
                };
                let ty = self.member_ty(c, m, &|| hint.clone())?;
                if off > cursor {
                    pads += 1;
                    def.fields.push(Field::padding(
                        fields.claim(&format!("_pad{pads}")),
                        cursor,
                        off - cursor,
                    ));
                }
                eq &= ty.eq;
                let flexible = ty.size == 0 && i + 1 == s.members.len();
                if ty.scalar == Scalar::CharArray {
                    def.methods.push(Method::CharArray {
                        field: fname.clone(),
                        bytes: methods.claim(&format!("{}_bytes", fname.trim_end_matches('_'))),
                        string: methods.claim(&format!("{}_str", fname.trim_end_matches('_'))),
                    });
                }
                let decl = if m.name.is_empty() {
                    format!("`{}` (anonymous member)", ty.c)
                } else {
                    format!("`{} {}{}`", ty.c, m.name, ty.dims)
                };
                let doc = if flexible {
                    format!("{decl}: a flexible array member, its elements follow the struct")
                } else {
                    decl
                };
                cursor = off + ty.size;
                def.fields.push(Field {
                    name: fname,
                    ty: ty.text,
                    doc,
                    offset: off,
                    align: ty.align,
                });
                i += 1;
                continue;
            }
            let start = i;
            while i < s.members.len() && s.members[i].bitfield_size != 0 {
                i += 1;
            }
            let run = &s.members[start..i];
            let lo = run.iter().map(|m| m.bit_offset).min().unwrap_or(0) / 8;
            let hi = run
                .iter()
                .map(|m| u64::from(m.bit_offset) + u64::from(m.bitfield_size))
                .max()
                .unwrap_or(0)
                .div_ceil(8);
            let hi = u32::try_from(hi).map_err(|_| unrep(spec, id, "bitfield past 4 GiB"))?;
            if lo < cursor {
                return Err(unrep(
                    spec,
                    id,
                    format!("bitfield '{}' overlaps the member before", run[0].name),
                ));
            }
            if lo > cursor {
                pads += 1;
                def.fields.push(Field::padding(
                    fields.claim(&format!("_pad{pads}")),
                    cursor,
                    lo - cursor,
                ));
            }
            bits += 1;
            let storage = fields.claim(&format!("_bitfield{bits}"));
            for m in run {
                let acc = self.bitfield(id, c, m, u64::from(lo) * 8, &mut methods)?;
                def.methods.push(Method::Bitfield(BitfieldAccessor {
                    storage: storage.clone(),
                    ..acc
                }));
            }
            def.fields.push(Field {
                name: storage,
                ty: format!("[u8; {}]", hi - lo),
                doc: format!(
                    "Storage of the bitfields {}.",
                    run.iter()
                        .map(|m| format!(
                            "`{}`",
                            if m.name.is_empty() { "(anon)" } else { &m.name }
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                offset: lo,
                align: 1,
            });
            cursor = hi;
        }
        if cursor > s.size {
            return Err(unrep(
                spec,
                id,
                format!("members end at byte {cursor}, past its size {}", s.size),
            ));
        }
        if cursor < s.size {
            pads += 1;
            def.fields.push(Field::padding(
                fields.claim(&format!("_pad{pads}")),
                cursor,
                s.size - cursor,
            ));
        }
        let align = def.fields.iter().map(|f| f.align).max().unwrap_or(1);
        def.packed = def.fields.iter().any(|f| f.offset % f.align != 0) || s.size % align != 0;
        def.eq = eq;
        def.style = self.style;
        let align = if def.packed { 1 } else { align };
        let text = emit::structure(&def);
        let mut ty = Ty::bytes(s.size, c);
        ty.align = align;
        ty.eq = eq;
        Ok((text, ty))
    }

    /// The accessor pair of bitfield `m`, whose storage starts at bit `base`.
    fn bitfield(
        &mut self,
        id: TypeId,
        owner: &str,
        m: &Member,
        base: u64,
        methods: &mut Namespace,
    ) -> Result<BitfieldAccessor> {
        let spec = self.spec;
        if m.bitfield_size > 64 {
            return Err(unrep(
                spec,
                id,
                format!(
                    "bitfield '{}' of {} bits is wider than 64",
                    m.name, m.bitfield_size
                ),
            ));
        }
        let ty = self.member_ty(owner, m, &|| "Anon".into())?;
        let (ret, signed, wrap) = match &ty.scalar {
            Scalar::Int { signed } => (ty.text.clone(), *signed, None),
            Scalar::Enum { repr } => (ty.text.clone(), repr.starts_with('i'), Some(*repr)),
            _ => {
                return Err(unrep(
                    spec,
                    id,
                    format!("bitfield '{}' is not an integer or enum", m.name),
                ));
            }
        };
        let getter = if m.name.is_empty() {
            methods.claim("anon_bits")
        } else {
            methods.claim(&value_name(&m.name))
        };
        let setter = methods.claim(&format!("set_{}", getter.trim_end_matches('_')));
        Ok(BitfieldAccessor {
            getter,
            setter,
            storage: String::new(),
            bit: u64::from(m.bit_offset) - base,
            width: m.bitfield_size,
            ret,
            signed,
            enum_repr: wrap,
            big_endian: self.big_endian,
            doc: format!("`{} {}:{}`", ty.c, m.name, m.bitfield_size),
            in_union: false,
        })
    }

    fn gen_union(&mut self, id: TypeId, name: &str, c: &str, u: &Struct) -> Result<(String, Ty)> {
        let spec = self.spec;
        let align = spec.alignof(id).unwrap_or(1);
        let (storage, align) = match (align, u.size % align.max(1)) {
            (2 | 4 | 8, 0) => (format!("[u{}; {}]", align * 8, u.size / align), align),
            _ => (format!("[u8; {}]", u.size), 1),
        };
        let mut methods = Namespace::with_reserved(&["default", "raw"]);
        let mut out = Vec::new();
        let (mut anon, mut without_accessor) = (0, 0);
        for m in &u.members {
            if m.bitfield_size != 0 {
                let mut acc = self.bitfield(id, c, m, 0, &mut methods)?;
                acc.storage = "raw".into();
                acc.in_union = true;
                out.push(Method::Bitfield(acc));
                continue;
            }
            if m.bit_offset % 8 != 0 {
                return Err(unrep(
                    spec,
                    id,
                    format!("member '{}' is not byte-aligned", m.name),
                ));
            }
            let hint = if m.name.is_empty() {
                anon += 1;
                format!("{name}Anon{anon}")
            } else {
                format!("{name}{}", camel(&m.name))
            };
            let ty = self.member_ty(c, m, &|| hint.clone())?;
            let off = m.bit_offset / 8;
            if u64::from(off) + u64::from(ty.size) > u64::from(u.size) {
                return Err(unrep(
                    spec,
                    id,
                    format!("member '{}' is larger than the union", m.name),
                ));
            }
            if !ty.zerocopy {
                // Plain style: an aggregate has no zerocopy traits to read it by.
                without_accessor += 1;
                continue;
            }
            let getter = if m.name.is_empty() {
                methods.claim(&format!("anon_{anon}"))
            } else {
                methods.claim(&value_name(&m.name))
            };
            let setter = methods.claim(&format!("set_{}", getter.trim_end_matches('_')));
            let doc = if m.name.is_empty() {
                format!("`{}` (anonymous member)", ty.c)
            } else {
                format!("`{} {}{}`", ty.c, m.name, ty.dims)
            };
            out.push(Method::UnionMember {
                getter,
                setter,
                ty: ty.text,
                offset: off,
                doc,
            });
        }
        let text = emit::union(
            name,
            c,
            u.size,
            &storage,
            &out,
            self.style,
            without_accessor,
        );
        let mut ty = Ty::bytes(u.size, c);
        ty.align = align;
        Ok((text, ty))
    }

    fn gen_enum(&mut self, name: &str, c: &str, e: &Enum) -> (String, Ty) {
        let size = e.size;
        let negative = e.values.iter().any(|v| match size {
            1..=4 => v.value > u64::from(u32::MAX),
            _ => false,
        });
        let signed = e.signed || negative;
        let Some(repr) = int_name(size, signed) else {
            let t = Ty::bytes(size, c);
            return (
                emit::opaque(
                    name,
                    c,
                    size,
                    "an enum of this size has no Rust integer",
                    self.style,
                ),
                t,
            );
        };
        let mut consts = Namespace::with_reserved(&["name"]);
        let values: Vec<(String, String, String)> = e
            .values
            .iter()
            .map(|v| {
                (
                    consts.claim(&value_name(&v.name)),
                    v.name.clone(),
                    literal(v.value, size, signed),
                )
            })
            .collect();
        let text = emit::enumeration(name, c, repr, &values, self.style);
        let mut ty = Ty::prim(repr, size, c, Scalar::Enum { repr });
        ty.align = size;
        (text, ty)
    }
}

/// The literal of an enumerator value (raw 64 bits, sign- or zero-extended) as
/// an integer of `size` bytes.
fn literal(value: u64, size: u32, signed: bool) -> String {
    let bits = size * 8;
    if signed {
        let v = value as i64;
        let v = if bits < 64 {
            (v << (64 - bits)) >> (64 - bits)
        } else {
            v
        };
        v.to_string()
    } else if bits < 64 {
        (value & ((1u64 << bits) - 1)).to_string()
    } else {
        value.to_string()
    }
}
