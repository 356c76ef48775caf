//! Matching a local [`CoreSpec`] against a candidate target type (libbpf's
//! `bpf_core_spec_match` and `bpf_core_match_member`), and the field relocation values
//! (`bpf_core_calc_field_relo`).

use super::accessor::{
    Accessor, CoreSpec, MAX_ACCESSOR_LEN, is_enumval_based, is_field_based, is_flex_arr,
    is_type_based, mul_bits, skip_mods,
};
use super::compat::{essential_names_equal, fields_are_compat, types_are_compat, types_match};
use super::error::{AccessorError, CoreErrorKind};
use crate::ext_info::CoreReloKind;
use crate::raw::Endian;
use crate::spec::Spec;
use crate::types::{IntEncoding, Type, TypeId};

fn too_long(spec: &CoreSpec<'_>) -> CoreErrorKind {
    let access = spec
        .raw
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(":");
    AccessorError::TooLong {
        access,
        max: MAX_ACCESSOR_LEN,
    }
    .into()
}

/// Tries to match `local` against the candidate `targ_id` in `targ`. `Ok(None)` if the
/// candidate does not match.
pub fn spec_match<'t>(
    local: &CoreSpec<'_>,
    targ: &'t Spec,
    targ_id: TypeId,
) -> Result<Option<CoreSpec<'t>>, CoreErrorKind> {
    let mut ts = CoreSpec {
        btf: targ,
        root: targ_id,
        kind: local.kind,
        raw: Vec::new(),
        accessors: Vec::new(),
        bit_offset: 0,
    };
    if is_type_based(local.kind) {
        let ok = if local.kind == CoreReloKind::TypeMatches {
            types_match(local.btf, local.root, targ, targ_id)?
        } else {
            types_are_compat(local.btf, local.root, targ, targ_id)?
        };
        return Ok(ok.then_some(ts));
    }
    let Some(first) = local.accessors.first() else {
        return Ok(None);
    };
    if is_enumval_based(local.kind) {
        let (tid, tt) = skip_mods(targ, targ_id)?;
        let (Type::Enum(e) | Type::Enum64(e)) = tt else {
            return Ok(None);
        };
        let lname = first.name.unwrap_or("");
        for (i, v) in e.values.iter().enumerate() {
            if essential_names_equal(lname, &v.name) {
                ts.accessors.push(Accessor {
                    type_id: tid,
                    idx: i as u32,
                    name: Some(v.name.as_str()),
                });
                ts.raw.push(i as u32);
                return Ok(Some(ts));
            }
        }
        return Ok(None);
    }
    if !is_field_based(local.kind) {
        return Ok(None);
    }
    let mut tid = targ_id;
    for (i, la) in local.accessors.iter().enumerate() {
        let (cur, tt) = skip_mods(targ, tid)?;
        tid = cur;
        if la.name.is_some() {
            let mut next = tid;
            if !match_member(local.btf, la, targ, tid, &mut ts, &mut next)? {
                return Ok(None);
            }
            tid = next;
        } else {
            if i > 0 {
                let Type::Array(a) = tt else { return Ok(None) };
                let prev = ts.accessors.last().copied();
                let flex = prev.is_some_and(|p| is_flex_arr(targ, &p, a.nelems));
                if !flex && la.idx >= a.nelems {
                    return Ok(None);
                }
                tid = targ.underlying_type(a.elem)?;
            }
            if ts.raw.len() == MAX_ACCESSOR_LEN {
                return Err(too_long(&ts));
            }
            ts.accessors.push(Accessor {
                type_id: tid,
                idx: la.idx,
                name: None,
            });
            ts.raw.push(la.idx);
            let sz = u64::from(targ.sizeof(tid)?);
            ts.bit_offset += mul_bits(u64::from(la.idx), sz)?;
        }
    }
    Ok(Some(ts))
}

/// Finds the member named like `la` in the composite `targ_id`, descending into anonymous
/// members, extending `ts`. Returns whether a compatible member was found.
fn match_member<'t>(
    local: &Spec,
    la: &Accessor<'_>,
    targ: &'t Spec,
    targ_id: TypeId,
    ts: &mut CoreSpec<'t>,
    next: &mut TypeId,
) -> Result<bool, CoreErrorKind> {
    let (targ_id, tt) = skip_mods(targ, targ_id)?;
    let (Type::Struct(tsu) | Type::Union(tsu)) = tt else {
        return Ok(false);
    };
    let (Type::Struct(ls) | Type::Union(ls)) = local.type_by_id(la.type_id)? else {
        return Ok(false);
    };
    let Some(lm) = ls.members.get(la.idx as usize) else {
        return Ok(false);
    };
    for (i, m) in tsu.members.iter().enumerate() {
        if ts.raw.len() == MAX_ACCESSOR_LEN {
            return Err(too_long(ts));
        }
        ts.bit_offset += u64::from(m.bit_offset);
        ts.raw.push(i as u32);
        if m.name.is_empty() {
            if match_member(local, la, targ, m.type_id, ts, next)? {
                return Ok(true);
            }
        } else if m.name == lm.name {
            *next = m.type_id;
            if fields_are_compat(local, lm.type_id, targ, m.type_id)? {
                ts.accessors.push(Accessor {
                    type_id: targ_id,
                    idx: i as u32,
                    name: Some(m.name.as_str()),
                });
                return Ok(true);
            }
            return Ok(false);
        }
        ts.bit_offset -= u64::from(m.bit_offset);
        ts.raw.pop();
    }
    Ok(false)
}

/// A field relocation's value on one side (local or target).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FieldVal {
    pub val: u64,
    /// Memory size of a byte-offset relocation for non-bitfields (0 otherwise).
    pub field_sz: u32,
    /// The field's type (skipped), for the memory size rules.
    pub type_id: TypeId,
    /// Whether the instruction's current value must equal the local value.
    pub validate: bool,
}

/// libbpf's `bpf_core_calc_field_relo`. `None` asks for poisoning (no target field).
pub(crate) fn calc_field(
    spec: Option<&CoreSpec<'_>>,
    kind: CoreReloKind,
    endian: Endian,
) -> Result<Option<FieldVal>, CoreErrorKind> {
    let mut out = FieldVal {
        validate: true,
        ..FieldVal::default()
    };
    if kind == CoreReloKind::FieldExists {
        out.val = u64::from(spec.is_some());
        return Ok(Some(out));
    }
    let Some(spec) = spec else { return Ok(None) };
    let btf = spec.btf;
    let Some(acc) = spec.accessors.last() else {
        return Err(CoreErrorKind::Size("empty field spec".into()));
    };
    if acc.name.is_none() {
        let sz = btf.sizeof(acc.type_id)?;
        match kind {
            CoreReloKind::FieldByteOffset => {
                out.val = spec.bit_offset / 8;
                out.field_sz = sz;
                out.type_id = acc.type_id;
            }
            CoreReloKind::FieldByteSize => out.val = u64::from(sz),
            _ => return Err(CoreErrorKind::ArrayAccess { kind: kind.name() }),
        }
        return Ok(Some(out));
    }
    let (Type::Struct(s) | Type::Union(s)) = btf.type_by_id(acc.type_id)? else {
        return Err(CoreErrorKind::Size(format!(
            "type {} is not a struct or union",
            acc.type_id
        )));
    };
    let Some(m) = s.members.get(acc.idx as usize) else {
        return Err(CoreErrorKind::Size(format!(
            "member {} out of range",
            acc.idx
        )));
    };
    let (field_type_id, mt) = skip_mods(btf, m.type_id)?;
    let bit_off = spec.bit_offset;
    let mut bit_sz = u64::from(m.bitfield_size);
    let bitfield = bit_sz > 0;
    let (byte_off, byte_sz) = if bitfield {
        let mut byte_sz = match mt {
            Type::Int(i) => u64::from(i.size),
            Type::Enum(e) | Type::Enum64(e) => u64::from(e.size),
            _ => u64::from(btf.sizeof(field_type_id)?),
        };
        if byte_sz == 0 {
            return Err(CoreErrorKind::Size(format!(
                "bitfield type {field_type_id} has size 0"
            )));
        }
        let mut byte_off = bit_off / 8 / byte_sz * byte_sz;
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8 {
            if byte_sz >= 8 {
                return Err(CoreErrorKind::BitfieldTooWide);
            }
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
        (byte_off, byte_sz)
    } else {
        let sz = u64::from(btf.sizeof(field_type_id)?);
        bit_sz = sz * 8;
        (bit_off / 8, sz)
    };
    // Bitfield values are ambiguous between compilers: only signedness and the right
    // shift are validated.
    out.validate = !bitfield;
    match kind {
        CoreReloKind::FieldByteOffset => {
            out.val = byte_off;
            if !bitfield {
                out.field_sz = byte_sz as u32;
                out.type_id = field_type_id;
            }
        }
        CoreReloKind::FieldByteSize => out.val = byte_sz,
        CoreReloKind::FieldSigned => {
            out.val = u64::from(match mt {
                Type::Enum(e) | Type::Enum64(e) => e.signed,
                Type::Int(i) => i.encoding == IntEncoding::Signed,
                _ => false,
            });
            out.validate = true;
        }
        // libbpf computes the shifts in 32-bit unsigned arithmetic; so do we (it only
        // matters for nonsensical shifts of fields wider than 64 bits).
        CoreReloKind::FieldLShiftU64 => {
            let (bo, bs, byo, bysz) = (
                bit_off as u32,
                bit_sz as u32,
                byte_off as u32,
                byte_sz as u32,
            );
            out.val = u64::from(match endian {
                Endian::Little => {
                    64u32.wrapping_sub(bo.wrapping_add(bs).wrapping_sub(byo.wrapping_mul(8)))
                }
                Endian::Big => 8u32
                    .wrapping_sub(bysz)
                    .wrapping_mul(8)
                    .wrapping_add(bo.wrapping_sub(byo.wrapping_mul(8))),
            });
        }
        CoreReloKind::FieldRShiftU64 => {
            out.val = u64::from(64u32.wrapping_sub(bit_sz as u32));
            out.validate = true;
        }
        _ => {
            return Err(CoreErrorKind::Size(format!(
                "{} is not a field relocation",
                kind.name()
            )));
        }
    }
    Ok(Some(out))
}
