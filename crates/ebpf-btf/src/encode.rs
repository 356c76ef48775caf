//! Writing one type's record in the wire format: shared by [`crate::Builder`], which
//! encodes every type, and [`crate::RawEdit`], which encodes only the edited ones.

use zerocopy::IntoBytes;
use zerocopy::byteorder::{ByteOrder, I32, U16, U32};

use crate::error::{Error, Result};
use crate::raw::{self, info_enc};
use crate::strings::StringTableBuilder;
use crate::types::*;

/// A whole blob: the header, the type section `types`, then the string table made of the
/// `strings` parts in order.
pub(crate) fn blob<O: ByteOrder>(types: &[u8], strings: &[&[u8]]) -> Result<Vec<u8>> {
    let str_len: usize = strings.iter().map(|s| s.len()).sum();
    if str_len as u64 > u64::from(raw::BTF_MAX_NAME_OFFSET) {
        return Err(Error::Marshal("string table too large".into()));
    }
    let type_len =
        u32::try_from(types.len()).map_err(|_| Error::Marshal("type section too large".into()))?;
    let hdr = raw::btf_header::<O> {
        magic: U16::new(raw::BTF_MAGIC),
        version: raw::BTF_VERSION,
        flags: 0,
        hdr_len: U32::new(24),
        type_off: U32::new(0),
        type_len: U32::new(type_len),
        str_off: U32::new(type_len),
        str_len: U32::new(str_len as u32),
    };
    let mut blob = Vec::with_capacity(24 + types.len() + str_len);
    blob.extend_from_slice(hdr.as_bytes());
    blob.extend_from_slice(types);
    for s in strings {
        blob.extend_from_slice(s);
    }
    Ok(blob)
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
