//! Accessor strings (`"0:1:2"`) and their resolution against a type into a [`CoreSpec`]:
//! the low-level path (one index per accessor component) and the high-level path (named
//! members and array indices only, anonymous members skipped), plus the bit offset.

use std::fmt::Write as _;

use super::error::{AccessorError, CoreErrorKind};
use crate::ext_info::CoreReloKind;
use crate::spec::Spec;
use crate::types::{Type, TypeId};

/// libbpf's `BPF_CORE_SPEC_MAX_LEN`: the longest accessor (and target path) accepted.
pub const MAX_ACCESSOR_LEN: usize = 64;

/// Parses an accessor string (`"0:1:2"`) into indices.
///
/// Accepted: one or more non-negative decimal numbers separated by single colons,
/// at most [`MAX_ACCESSOR_LEN`] of them.
///
/// ```
/// use ebpf_btf::core::{parse_accessor, AccessorError};
/// assert_eq!(parse_accessor("0:1:20").unwrap(), vec![0, 1, 20]);
/// assert_eq!(parse_accessor(""), Err(AccessorError::Empty));
/// assert!(matches!(parse_accessor("0::1"), Err(AccessorError::BadIndex { pos: 1, .. })));
/// ```
pub fn parse_accessor(access: &str) -> Result<Vec<u32>, AccessorError> {
    let mut out = Vec::with_capacity(4);
    parse_accessor_into(access, &mut out)?;
    Ok(out)
}

pub(crate) fn parse_accessor_into(access: &str, out: &mut Vec<u32>) -> Result<(), AccessorError> {
    out.clear();
    if access.is_empty() {
        return Err(AccessorError::Empty);
    }
    for (pos, part) in access.split(':').enumerate() {
        if pos == MAX_ACCESSOR_LEN {
            return Err(AccessorError::TooLong {
                access: access.into(),
                max: MAX_ACCESSOR_LEN,
            });
        }
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AccessorError::BadIndex {
                access: access.into(),
                pos,
            });
        }
        let v = part.parse::<u32>().map_err(|_| AccessorError::BadIndex {
            access: access.into(),
            pos,
        })?;
        out.push(v);
    }
    Ok(())
}

/// One high-level step of a [`CoreSpec`]: a named member (`name` set, `type_id` is the
/// struct/union, `idx` the member index) or an array element (`name` unset, `type_id` is
/// the element type, `idx` the element index). For enum-value relocations, the enumerator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accessor<'s> {
    /// The composite (named member) or element (array access) or enum type.
    pub type_id: TypeId,
    /// Member, element or enumerator index.
    pub idx: u32,
    /// Member or enumerator name; `None` for array accesses.
    pub name: Option<&'s str>,
}

/// A relocation resolved against one BTF: libbpf's `bpf_core_spec`.
#[derive(Debug, Clone)]
pub struct CoreSpec<'s> {
    /// The BTF the ids refer to.
    pub btf: &'s Spec,
    /// The root type (the relocation's type, or the candidate).
    pub root: TypeId,
    /// The relocation kind.
    pub kind: CoreReloKind,
    /// Low-level path: one index per step, anonymous members included.
    pub raw: Vec<u32>,
    /// High-level path.
    pub accessors: Vec<Accessor<'s>>,
    /// Bit offset of the accessed field from the root pointer.
    pub bit_offset: u64,
}

pub(crate) fn is_field_based(k: CoreReloKind) -> bool {
    matches!(
        k,
        CoreReloKind::FieldByteOffset
            | CoreReloKind::FieldByteSize
            | CoreReloKind::FieldExists
            | CoreReloKind::FieldSigned
            | CoreReloKind::FieldLShiftU64
            | CoreReloKind::FieldRShiftU64
    )
}

pub(crate) fn is_type_based(k: CoreReloKind) -> bool {
    matches!(
        k,
        CoreReloKind::TypeIdLocal
            | CoreReloKind::TypeIdTarget
            | CoreReloKind::TypeExists
            | CoreReloKind::TypeMatches
            | CoreReloKind::TypeSize
    )
}

pub(crate) fn is_enumval_based(k: CoreReloKind) -> bool {
    matches!(k, CoreReloKind::EnumvalExists | CoreReloKind::EnumvalValue)
}

/// libbpf's lower-case kind name (`struct`, `enum64`, `func_proto`).
#[must_use]
pub fn kind_str(t: &Type) -> &'static str {
    match t {
        Type::Void => "void",
        Type::Int(_) => "int",
        Type::Pointer(_) => "ptr",
        Type::Array(_) => "array",
        Type::Struct(_) => "struct",
        Type::Union(_) => "union",
        Type::Enum(_) => "enum",
        Type::Enum64(_) => "enum64",
        Type::Fwd(_) => "fwd",
        Type::Typedef(_) => "typedef",
        Type::Volatile(_) => "volatile",
        Type::Const(_) => "const",
        Type::Restrict(_) => "restrict",
        Type::Func(_) => "func",
        Type::FuncProto(_) => "func_proto",
        Type::Var(_) => "var",
        Type::Datasec(_) => "datasec",
        Type::Float(_) => "float",
        Type::DeclTag(_) => "decl_tag",
        Type::TypeTag(_) => "type_tag",
        #[allow(unreachable_patterns, reason = "Type is non_exhaustive")]
        _ => "unknown",
    }
}

/// `[id] kind name` (`<anon>` for anonymous types).
pub(crate) fn type_desc(btf: &Spec, id: TypeId) -> String {
    match btf.type_by_id(id) {
        Ok(t) => {
            let n = t.name();
            format!(
                "[{id}] {} {}",
                kind_str(t),
                if n.is_empty() { "<anon>" } else { n }
            )
        }
        Err(_) => format!("[{id}] <invalid>"),
    }
}

/// Skips typedefs and qualifiers, returning the id and type reached.
pub(crate) fn skip_mods(btf: &Spec, id: TypeId) -> crate::Result<(TypeId, &Type)> {
    let id = btf.underlying_type(id)?;
    Ok((id, btf.type_by_id(id)?))
}

/// A 32-bit enumerator's value as libbpf reads it (`__s32`, sign-extended to 64 bits);
/// 64-bit enumerators as stored.
pub(crate) fn enum_value(t: &Type, idx: usize) -> Option<u64> {
    match t {
        Type::Enum(e) => e
            .values
            .get(idx)
            .map(|v| v.value as u32 as i32 as i64 as u64),
        Type::Enum64(e) => e.values.get(idx).map(|v| v.value),
        _ => None,
    }
}

fn resolve_size(btf: &Spec, id: TypeId) -> Result<u64, CoreErrorKind> {
    Ok(u64::from(btf.sizeof(id)?))
}

/// Resolves `access` against the local type `root` for a relocation of `kind`
/// (libbpf's `bpf_core_parse_spec`).
pub fn parse_spec<'s>(
    btf: &'s Spec,
    root: TypeId,
    access: &str,
    kind: CoreReloKind,
) -> Result<CoreSpec<'s>, CoreErrorKind> {
    let mut spec = CoreSpec {
        btf,
        root,
        kind,
        raw: Vec::new(),
        accessors: Vec::new(),
        bit_offset: 0,
    };
    if access.is_empty() {
        return Err(AccessorError::Empty.into());
    }
    if is_type_based(kind) {
        if access != "0" {
            return Err(AccessorError::NotTypeAccessor {
                access: access.into(),
            }
            .into());
        }
        return Ok(spec);
    }
    parse_accessor_into(access, &mut spec.raw)?;
    let (mut id, t) = skip_mods(btf, root)?;
    let first = spec.raw[0];
    if is_enumval_based(kind) {
        let name = match t {
            Type::Enum(e) | Type::Enum64(e) if spec.raw.len() == 1 => {
                e.values.get(first as usize).map(|v| v.name.as_str())
            }
            _ => None,
        };
        let Some(name) = name else {
            return Err(AccessorError::NotEnumAccessor {
                access: access.into(),
                type_desc: type_desc(btf, root),
            }
            .into());
        };
        spec.accessors.push(Accessor {
            type_id: id,
            idx: first,
            name: Some(name),
        });
        return Ok(spec);
    }
    spec.accessors.push(Accessor {
        type_id: id,
        idx: first,
        name: None,
    });
    let sz = resolve_size(btf, id)?;
    spec.bit_offset = mul_bits(u64::from(first), sz)?;

    for pos in 1..spec.raw.len() {
        let (cur, t) = skip_mods(btf, id)?;
        id = cur;
        let idx = spec.raw[pos];
        match t {
            Type::Struct(s) | Type::Union(s) => {
                let Some(m) = s.members.get(idx as usize) else {
                    return Err(out_of_range(btf, access, pos, idx, id));
                };
                spec.bit_offset += u64::from(m.bit_offset);
                if !m.name.is_empty() {
                    spec.accessors.push(Accessor {
                        type_id: id,
                        idx,
                        name: Some(m.name.as_str()),
                    });
                }
                id = m.type_id;
            }
            Type::Array(a) => {
                let (elem, _) = skip_mods(btf, a.elem)?;
                let prev = spec.accessors.last().copied();
                let flex = prev.is_some_and(|p| is_flex_arr(btf, &p, a.nelems));
                if !flex && idx >= a.nelems {
                    return Err(out_of_range(btf, access, pos, idx, id));
                }
                id = elem;
                spec.accessors.push(Accessor {
                    type_id: elem,
                    idx,
                    name: None,
                });
                let sz = resolve_size(btf, elem)?;
                spec.bit_offset += mul_bits(u64::from(idx), sz)?;
            }
            _ => {
                return Err(AccessorError::NotAggregate {
                    access: access.into(),
                    pos,
                    type_desc: type_desc(btf, id),
                }
                .into());
            }
        }
    }
    Ok(spec)
}

pub(crate) fn mul_bits(idx: u64, size: u64) -> Result<u64, CoreErrorKind> {
    idx.checked_mul(size)
        .and_then(|v| v.checked_mul(8))
        .ok_or_else(|| {
            CoreErrorKind::Size(format!("offset of element {idx} of size {size} overflows"))
        })
}

fn out_of_range(btf: &Spec, access: &str, pos: usize, index: u32, id: TypeId) -> CoreErrorKind {
    AccessorError::OutOfRange {
        access: access.into(),
        pos,
        index,
        type_desc: type_desc(btf, id),
    }
    .into()
}

/// libbpf's `is_flex_arr`: an array of zero elements that is the last member of the
/// struct named by the previous (named) accessor.
pub(crate) fn is_flex_arr(btf: &Spec, prev: &Accessor<'_>, nelems: u32) -> bool {
    if prev.name.is_none() || nelems > 0 {
        return false;
    }
    match btf.type_by_id(prev.type_id) {
        Ok(Type::Struct(s) | Type::Union(s)) => prev.idx as usize + 1 == s.members.len(),
        _ => false,
    }
}

impl CoreSpec<'_> {
    /// The C-like path libbpf prints: `struct core_s.arr[3]`, `enum e::NAME`, `struct s`.
    #[must_use]
    pub fn path(&self) -> String {
        let mut s = String::new();
        let t = self.btf.type_by_id(self.root).ok();
        let name = t.map_or("", Type::name);
        let _ = write!(
            s,
            "{} {}",
            t.map_or("unknown", kind_str),
            if name.is_empty() { "<anon>" } else { name }
        );
        if is_enumval_based(self.kind) {
            if let Some(a) = self.accessors.first() {
                let _ = write!(s, "::{}", a.name.unwrap_or(""));
            }
        } else if is_field_based(self.kind) {
            self.write_fields(&mut s);
        }
        s
    }

    fn write_fields(&self, s: &mut String) {
        for (i, a) in self.accessors.iter().enumerate() {
            match a.name {
                Some(n) => {
                    let _ = write!(s, ".{n}");
                }
                None if i > 0 || a.idx > 0 => {
                    let _ = write!(s, "[{}]", a.idx);
                }
                None => {}
            }
        }
    }

    /// libbpf's `bpf_core_format_spec` without the kind prefix:
    /// `[5] struct core_s.arr[3] (0:5:3 @ offset 32)`, `[35] enum core_enum::E_ONE = 1`.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut s = type_desc(self.btf, self.root);
        if is_enumval_based(self.kind) {
            let Ok((_, t)) = skip_mods(self.btf, self.root) else {
                return s;
            };
            let Some(a) = self.accessors.first() else {
                return s;
            };
            let idx = a.idx as usize;
            let (name, text) = match t {
                Type::Enum(e) => {
                    let v = e.values.get(idx);
                    let raw = v.map_or(0, |v| v.value as u32);
                    (
                        v.map_or("", |v| v.name.as_str()),
                        if e.signed {
                            (raw as i32).to_string()
                        } else {
                            raw.to_string()
                        },
                    )
                }
                Type::Enum64(e) => {
                    let v = e.values.get(idx);
                    let raw = v.map_or(0, |v| v.value);
                    (
                        v.map_or("", |v| v.name.as_str()),
                        if e.signed {
                            (raw as i64).to_string()
                        } else {
                            raw.to_string()
                        },
                    )
                }
                _ => ("", String::new()),
            };
            let _ = write!(s, "::{name} = {text}");
        } else if is_field_based(self.kind) {
            self.write_fields(&mut s);
            s.push_str(" (");
            for (i, r) in self.raw.iter().enumerate() {
                if i > 0 {
                    s.push(':');
                }
                let _ = write!(s, "{r}");
            }
            if self.bit_offset % 8 != 0 {
                let _ = write!(
                    s,
                    " @ offset {}.{})",
                    self.bit_offset / 8,
                    self.bit_offset % 8
                );
            } else {
                let _ = write!(s, " @ offset {})", self.bit_offset / 8);
            }
        }
        s
    }
}
