//! libbpf's three compatibility relations between a local and a target type:
//! [`fields_are_compat`] (field relocations), [`types_are_compat`] (type-based
//! relocations) and [`types_match`] (`type_matches`, stricter).

use super::accessor::skip_mods;
use crate::error::{Error, Result};
use crate::names::essential_len;
use crate::spec::Spec;
use crate::types::{FwdKind, IntEncoding, Kind, Type, TypeId};

/// libbpf's recursion limit for the compatibility checks.
const MAX_LEVEL: i32 = 32;

fn is_any_enum(k: Kind) -> bool {
    matches!(k, Kind::Enum | Kind::Enum64)
}

/// Same kind, or both enums (`enum` and `enum64` are interchangeable).
pub(crate) fn kind_core_compat(a: Kind, b: Kind) -> bool {
    a == b || (is_any_enum(a) && is_any_enum(b))
}

fn is_composite(t: &Type) -> bool {
    matches!(t, Type::Struct(_) | Type::Union(_))
}

fn essential(name: &str) -> &str {
    &name[..essential_len(name.as_bytes())]
}

/// Names equal up to the flavour suffix (`___x`).
pub(crate) fn essential_names_equal(a: &str, b: &str) -> bool {
    essential(a) == essential(b)
}

fn int_offset(t: &Type) -> u8 {
    match t {
        Type::Int(i) => i.offset,
        _ => 0,
    }
}

fn vlen(t: &Type) -> usize {
    match t {
        Type::FuncProto(p) => p.params.len() + usize::from(p.variadic),
        _ => 0,
    }
}

fn param_type(t: &Type, i: usize) -> TypeId {
    match t {
        Type::FuncProto(p) => p.params.get(i).map_or(TypeId::VOID, |p| p.type_id),
        _ => TypeId::VOID,
    }
}

/// Field compatibility (libbpf's `bpf_core_fields_are_compat`), after skipping typedefs and
/// qualifiers: any two structs/unions; pointers; floats; enums/fwds with equal essential
/// names or one anonymous; ints of any size and sign (but not legacy bit-offset ints);
/// arrays with compatible element types (any length).
pub fn fields_are_compat(
    local: &Spec,
    local_id: TypeId,
    targ: &Spec,
    targ_id: TypeId,
) -> Result<bool> {
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..=crate::MAX_RESOLVE_DEPTH {
        let (_, lt) = skip_mods(local, lid)?;
        let (_, tt) = skip_mods(targ, tid)?;
        if is_composite(lt) && is_composite(tt) {
            return Ok(true);
        }
        if !kind_core_compat(lt.kind(), tt.kind()) {
            return Ok(false);
        }
        match lt {
            Type::Pointer(_) | Type::Float(_) => return Ok(true),
            Type::Fwd(_) | Type::Enum(_) | Type::Enum64(_) => {
                let (ln, tn) = (essential(lt.name()), essential(tt.name()));
                return Ok(ln.is_empty() || tn.is_empty() || ln == tn);
            }
            Type::Int(_) => return Ok(int_offset(lt) == 0 && int_offset(tt) == 0),
            Type::Array(la) => {
                let Type::Array(ta) = tt else {
                    return Ok(false);
                };
                lid = la.elem;
                tid = ta.elem;
            }
            _ => return Ok(false),
        }
    }
    Err(Error::TooDeep { id: local_id })
}

/// Type compatibility for type-based relocations (libbpf's `bpf_core_types_are_compat`):
/// the root kinds must agree (enum and enum64 do), then after skipping typedefs and
/// qualifiers: structs, unions, enums, fwds and void are compatible with the same kind;
/// ints unless legacy bit-offset ints; pointers and arrays recursively; function
/// prototypes if argument counts agree and all arguments and the return type are.
pub fn types_are_compat(
    local: &Spec,
    local_id: TypeId,
    targ: &Spec,
    targ_id: TypeId,
) -> Result<bool> {
    types_are_compat_level(local, local_id, targ, targ_id, MAX_LEVEL)
}

fn types_are_compat_level(
    local: &Spec,
    local_id: TypeId,
    targ: &Spec,
    targ_id: TypeId,
    level: i32,
) -> Result<bool> {
    if !kind_core_compat(local.kind_of(local_id)?, targ.kind_of(targ_id)?) {
        return Ok(false);
    }
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..MAX_LEVEL {
        let (_, lt) = skip_mods(local, lid)?;
        let (_, tt) = skip_mods(targ, tid)?;
        if !kind_core_compat(lt.kind(), tt.kind()) {
            return Ok(false);
        }
        match (lt, tt) {
            (
                Type::Void
                | Type::Struct(_)
                | Type::Union(_)
                | Type::Enum(_)
                | Type::Enum64(_)
                | Type::Fwd(_),
                _,
            ) => {
                return Ok(true);
            }
            (Type::Int(_), _) => return Ok(int_offset(lt) == 0 && int_offset(tt) == 0),
            (Type::Pointer(lp), Type::Pointer(tp)) => {
                lid = lp.target;
                tid = tp.target;
            }
            (Type::Array(la), Type::Array(ta)) => {
                lid = la.elem;
                tid = ta.elem;
            }
            (Type::FuncProto(lp), Type::FuncProto(tp)) => {
                let n = vlen(lt);
                if n != vlen(tt) {
                    return Ok(false);
                }
                for i in 0..n {
                    if level <= 0 {
                        return Err(Error::TooDeep { id: local_id });
                    }
                    let a = local.underlying_type(param_type(lt, i))?;
                    let b = targ.underlying_type(param_type(tt, i))?;
                    if !types_are_compat_level(local, a, targ, b, level - 1)? {
                        return Ok(false);
                    }
                }
                lid = local.underlying_type(lp.ret)?;
                tid = targ.underlying_type(tp.ret)?;
            }
            _ => return Ok(false),
        }
    }
    Err(Error::TooDeep { id: local_id })
}

/// libbpf's `bpf_core_names_match`: an anonymous target only matches an anonymous local;
/// otherwise essential names must be equal.
fn names_match(local: &str, targ: &str) -> bool {
    if targ.is_empty() {
        return local.is_empty();
    }
    essential_names_equal(local, targ)
}

/// The `type_matches` relation (libbpf's `bpf_core_types_match`), stricter than
/// [`types_are_compat`]: after skipping typedefs and qualifiers names must match
/// (essential names; anonymous only with anonymous); ints need equal size and signedness;
/// enums (or enum64) equal size and every local enumerator name present in the target;
/// structs/unions every local member present by name with a matching type (only
/// kind and name behind pointers, where a fwd of the right flavour also matches); arrays
/// equal length; function prototypes equal arity and matching types.
pub fn types_match(local: &Spec, local_id: TypeId, targ: &Spec, targ_id: TypeId) -> Result<bool> {
    types_match_level(local, local_id, targ, targ_id, false, MAX_LEVEL)
}

fn types_match_level(
    local: &Spec,
    local_id: TypeId,
    targ: &Spec,
    targ_id: TypeId,
    mut behind_ptr: bool,
    level: i32,
) -> Result<bool> {
    if level <= 0 {
        return Err(Error::TooDeep { id: local_id });
    }
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..MAX_LEVEL {
        let (_, lt) = skip_mods(local, lid)?;
        let (_, tt) = skip_mods(targ, tid)?;
        if !names_match(lt.name(), tt.name()) {
            return Ok(false);
        }
        let (lk, tk) = (lt.kind(), tt.kind());
        match lt {
            Type::Void => return Ok(lk == tk),
            Type::Fwd(lf) => {
                let local_union = lf.kind == FwdKind::Union;
                return Ok(match tt {
                    Type::Fwd(tf) => local_union == (tf.kind == FwdKind::Union),
                    Type::Struct(_) if behind_ptr => !local_union,
                    Type::Union(_) if behind_ptr => local_union,
                    _ => false,
                });
            }
            Type::Enum(le) | Type::Enum64(le) => {
                let (Type::Enum(te) | Type::Enum64(te)) = tt else {
                    return Ok(false);
                };
                if le.size != te.size || le.values.len() > te.values.len() {
                    return Ok(false);
                }
                return Ok(le
                    .values
                    .iter()
                    .all(|lv| te.values.iter().any(|tv| names_match(&lv.name, &tv.name))));
            }
            Type::Struct(ls) | Type::Union(ls) => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    let Type::Fwd(tf) = tt else { return Ok(false) };
                    return Ok((lk == Kind::Union) == (tf.kind == FwdKind::Union));
                }
                if lk != tk {
                    return Ok(false);
                }
                let (Type::Struct(ts) | Type::Union(ts)) = tt else {
                    return Ok(false);
                };
                if ls.members.len() > ts.members.len() {
                    return Ok(false);
                }
                for lm in &ls.members {
                    let mut matched = false;
                    for tm in &ts.members {
                        if !names_match(&lm.name, &tm.name) {
                            continue;
                        }
                        if types_match_level(
                            local,
                            lm.type_id,
                            targ,
                            tm.type_id,
                            behind_ptr,
                            level - 1,
                        )? {
                            matched = true;
                            break;
                        }
                    }
                    if !matched {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            Type::Int(li) => {
                let Type::Int(ti) = tt else { return Ok(false) };
                return Ok(li.size == ti.size
                    && (li.encoding == IntEncoding::Signed)
                        == (ti.encoding == IntEncoding::Signed));
            }
            Type::Pointer(lp) => {
                let Type::Pointer(tp) = tt else {
                    return Ok(false);
                };
                behind_ptr = true;
                lid = lp.target;
                tid = tp.target;
            }
            Type::Array(la) => {
                let Type::Array(ta) = tt else {
                    return Ok(false);
                };
                if la.nelems != ta.nelems {
                    return Ok(false);
                }
                lid = la.elem;
                tid = ta.elem;
            }
            Type::FuncProto(lp) => {
                let Type::FuncProto(tp) = tt else {
                    return Ok(false);
                };
                let n = vlen(lt);
                if n != vlen(tt) {
                    return Ok(false);
                }
                for i in 0..n {
                    if !types_match_level(
                        local,
                        param_type(lt, i),
                        targ,
                        param_type(tt, i),
                        behind_ptr,
                        level - 1,
                    )? {
                        return Ok(false);
                    }
                }
                lid = lp.ret;
                tid = tp.ret;
            }
            _ => return Ok(false),
        }
    }
    Err(Error::TooDeep { id: local_id })
}
