//! Checking records without decoding them: what [`crate::Spec::parse`] does to every type.
//! Most records pass quick tests of their header fields and names; the others are checked
//! by the decoder itself (building nothing), which also names the field at fault.

use zerocopy::FromBytes;
use zerocopy::byteorder::ByteOrder;

use super::{Source, decode_impl};
use crate::error::Result;
use crate::raw::{self, Endian, btf_type, info_kind, info_vlen};
use crate::types::TypeId;

/// Checks the records at `offsets` (of ids `first..`) as [`super::decode`] does, without building
/// the [`Type`](crate::Type)s (no allocation: names and member lists stay empty); the first malformed
/// one is reported.
pub(crate) fn check_all<S: Source>(spec: &S, b: &[u8], offsets: &[u32], first: u32) -> Result<()> {
    let q = spec.quick_names();
    // One loop per byte order and name test, so that the test is inlined in it.
    match (spec.endian(), q.all_valid) {
        (Endian::Little, true) => {
            check_loop::<raw::LE, S, _>(spec, b, offsets, first, |o| q.starts_char(o))
        }
        (Endian::Little, false) => {
            check_loop::<raw::LE, S, _>(spec, b, offsets, first, |o| q.ascii(o))
        }
        (Endian::Big, true) => {
            check_loop::<raw::BE, S, _>(spec, b, offsets, first, |o| q.starts_char(o))
        }
        (Endian::Big, false) => {
            check_loop::<raw::BE, S, _>(spec, b, offsets, first, |o| q.ascii(o))
        }
    }
}

fn check_loop<O: ByteOrder, S: Source, F: Fn(u32) -> bool + Copy>(
    spec: &S,
    b: &[u8],
    offsets: &[u32],
    first: u32,
    pass: F,
) -> Result<()> {
    let next = spec.next_id().0;
    for (i, &off) in offsets.iter().enumerate() {
        let off = off as usize;
        if !quick_check::<O, F>(pass, next, b, off) {
            decode_impl::<O, S, false>(spec, b, TypeId(first + i as u32), off)?;
        }
    }
    Ok(())
}

/// Whether the record at `off` passes the quick tests of its fields (`pass` for names, see
/// [`QuickNames`](crate::strings::QuickNames)): then decoding would accept it. A record that
/// fails them (or of an unknown kind) is checked in full, which also names the field at fault.
fn quick_check<O: ByteOrder, F: Fn(u32) -> bool>(pass: F, next: u32, b: &[u8], off: usize) -> bool {
    let Some(Ok((t, rest))) = b.get(off..).map(btf_type::<O>::ref_from_prefix) else {
        return false;
    };
    let info = t.info.get();
    let (vlen, name_off, sot) = (info_vlen(info), t.name_off.get(), t.size_or_type.get());
    let n = vlen as usize;
    match info_kind(info) {
        raw::BTF_KIND_FUNC => vlen <= 2 && pass(name_off) && sot < next,
        raw::BTF_KIND_TYPEDEF => vlen == 0 && pass(name_off) && sot < next,
        raw::BTF_KIND_PTR => vlen == 0 && name_off == 0 && sot < next,
        raw::BTF_KIND_CONST | raw::BTF_KIND_VOLATILE | raw::BTF_KIND_RESTRICT => {
            vlen == 0 && sot < next
        }
        raw::BTF_KIND_FUNC_PROTO => {
            name_off == 0
                && sot < next
                && <[raw::btf_param<O>]>::ref_from_prefix_with_elems(rest, n).is_ok_and(
                    |(ps, _)| {
                        ps.iter()
                            .all(|p| pass(p.name_off.get()) && p.r#type.get() < next)
                    },
                )
        }
        raw::BTF_KIND_STRUCT | raw::BTF_KIND_UNION => {
            pass(name_off)
                && <[raw::btf_member<O>]>::ref_from_prefix_with_elems(rest, n).is_ok_and(
                    |(ms, _)| {
                        ms.iter()
                            .all(|m| pass(m.name_off.get()) && m.r#type.get() < next)
                    },
                )
        }
        raw::BTF_KIND_ENUM => {
            pass(name_off)
                && <[raw::btf_enum<O>]>::ref_from_prefix_with_elems(rest, n)
                    .is_ok_and(|(vs, _)| vs.iter().all(|v| pass(v.name_off.get())))
        }
        raw::BTF_KIND_ARRAY => {
            vlen == 0
                && name_off == 0
                && raw::btf_array::<O>::ref_from_prefix(rest)
                    .is_ok_and(|(a, _)| a.r#type.get() < next && a.index_type.get() < next)
        }
        raw::BTF_KIND_INT => {
            vlen == 0
                && pass(name_off)
                && zerocopy::byteorder::U32::<O>::ref_from_prefix(rest).is_ok_and(|(v, _)| {
                    let v = v.get();
                    let (offset, bits) = ((v >> 16) & 0xff, v & 0xff);
                    matches!(
                        (v >> 24) & 0xf,
                        0 | raw::BTF_INT_SIGNED | raw::BTF_INT_CHAR | raw::BTF_INT_BOOL
                    ) && bits <= 128
                        && offset + bits <= sot.saturating_mul(8)
                        && v & 0xf000_ff00 == 0
                })
        }
        raw::BTF_KIND_FWD | raw::BTF_KIND_FLOAT => vlen == 0 && pass(name_off),
        raw::BTF_KIND_TYPE_TAG => vlen == 0 && pass(name_off) && sot < next,
        raw::BTF_KIND_DECL_TAG => {
            vlen == 0
                && pass(name_off)
                && sot < next
                && raw::btf_decl_tag::<O>::ref_from_prefix(rest)
                    .is_ok_and(|(d, _)| d.component_idx.get() >= -1)
        }
        raw::BTF_KIND_VAR => {
            vlen == 0
                && pass(name_off)
                && sot < next
                && raw::btf_var::<O>::ref_from_prefix(rest).is_ok_and(|(v, _)| v.linkage.get() <= 2)
        }
        raw::BTF_KIND_DATASEC => {
            pass(name_off)
                && <[raw::btf_var_secinfo<O>]>::ref_from_prefix_with_elems(rest, n)
                    .is_ok_and(|(vs, _)| vs.iter().all(|v| v.r#type.get() < next))
        }
        raw::BTF_KIND_ENUM64 => {
            pass(name_off)
                && <[raw::btf_enum64<O>]>::ref_from_prefix_with_elems(rest, n)
                    .is_ok_and(|(vs, _)| vs.iter().all(|v| pass(v.name_off.get())))
        }
        _ => false,
    }
}
