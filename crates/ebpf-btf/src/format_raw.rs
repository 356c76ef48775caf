//! The raw dump, like `bpftool btf dump file F format raw`.
//!
//! ```
//! use ebpf_btf::{Builder, Pointer, Spec, Type, TypeId};
//! let mut b = Builder::new();
//! b.add(Type::Pointer(Pointer { target: TypeId::VOID }));
//! let spec = Spec::parse(&b.marshal(Default::default()).unwrap()).unwrap();
//! assert_eq!(spec.dump_raw().unwrap(), "[1] PTR '(anon)' type_id=0\n");
//! ```

use std::fmt::Write as _;

use crate::error::Result;
use crate::spec::Spec;
use crate::types::*;

fn n(s: &str) -> &str {
    if s.is_empty() { "(anon)" } else { s }
}

/// Appends the raw dump line(s) of one type.
pub fn write_type(spec: &Spec, out: &mut String, id: TypeId, t: &Type) -> Result<()> {
    let k = t.kind().name();
    // `write!` to a String cannot fail.
    let _ = write!(out, "[{id}] {k} '{}'", n(t.name()));
    match t {
        Type::Void => {}
        Type::Int(x) => {
            let enc = match x.encoding {
                IntEncoding::Unsigned => "(none)",
                IntEncoding::Signed => "SIGNED",
                IntEncoding::Char => "CHAR",
                IntEncoding::Bool => "BOOL",
            };
            let _ = write!(
                out,
                " size={} bits_offset={} nr_bits={} encoding={enc}",
                x.size, x.offset, x.bits
            );
        }
        Type::Pointer(x) => {
            let _ = write!(out, " type_id={}", x.target);
        }
        Type::Array(a) => {
            let _ = write!(
                out,
                " type_id={} index_type_id={} nr_elems={}",
                a.elem, a.index, a.nelems
            );
        }
        Type::Struct(s) | Type::Union(s) => {
            let _ = write!(out, " size={} vlen={}", s.size, s.members.len());
            for m in &s.members {
                let _ = write!(
                    out,
                    "\n\t'{}' type_id={} bits_offset={}",
                    n(&m.name),
                    m.type_id,
                    m.bit_offset
                );
                if m.bitfield_size != 0 {
                    let _ = write!(out, " bitfield_size={}", m.bitfield_size);
                }
            }
        }
        Type::Enum(e) | Type::Enum64(e) => {
            let enc = if e.signed { "SIGNED" } else { "UNSIGNED" };
            let _ = write!(
                out,
                " encoding={enc} size={} vlen={}",
                e.size,
                e.values.len()
            );
            let is64 = matches!(t, Type::Enum64(_));
            for v in &e.values {
                let _ = match (is64, e.signed) {
                    (false, true) => write!(out, "\n\t'{}' val={}", n(&v.name), v.value as i64),
                    (false, false) => write!(out, "\n\t'{}' val={}", n(&v.name), v.value),
                    (true, true) => write!(out, "\n\t'{}' val={}LL", n(&v.name), v.value as i64),
                    (true, false) => write!(out, "\n\t'{}' val={}ULL", n(&v.name), v.value),
                };
            }
        }
        Type::Fwd(f) => {
            let _ = write!(
                out,
                " fwd_kind={}",
                if f.kind == FwdKind::Union {
                    "union"
                } else {
                    "struct"
                }
            );
        }
        Type::Typedef(x) => {
            let _ = write!(out, " type_id={}", x.target);
        }
        Type::Volatile(x) | Type::Const(x) | Type::Restrict(x) => {
            let _ = write!(out, " type_id={}", x.target);
        }
        Type::Func(f) => {
            let l = match f.linkage {
                FuncLinkage::Static => "static",
                FuncLinkage::Global => "global",
                FuncLinkage::Extern => "extern",
            };
            let _ = write!(out, " type_id={} linkage={l}", f.proto);
        }
        Type::FuncProto(p) => {
            let _ = write!(
                out,
                " ret_type_id={} vlen={}",
                p.ret,
                p.params.len() + usize::from(p.variadic)
            );
            for q in &p.params {
                let _ = write!(out, "\n\t'{}' type_id={}", n(&q.name), q.type_id);
            }
            if p.variadic {
                out.push_str("\n\t'(anon)' type_id=0");
            }
        }
        Type::Var(v) => {
            let l = match v.linkage {
                VarLinkage::Static => "static",
                VarLinkage::Global => "global",
                VarLinkage::Extern => "extern",
            };
            let _ = write!(out, " type_id={}, linkage={l}", v.type_id);
        }
        Type::Datasec(d) => {
            let _ = write!(out, " size={} vlen={}", d.size, d.vars.len());
            for v in &d.vars {
                let vt = spec.type_by_id(v.type_id)?;
                let _ = write!(
                    out,
                    "\n\ttype_id={} offset={} size={} ({} '{}')",
                    v.type_id,
                    v.offset,
                    v.size,
                    vt.kind().name(),
                    n(vt.name())
                );
            }
        }
        Type::Float(f) => {
            let _ = write!(out, " size={}", f.size);
        }
        Type::DeclTag(d) => {
            let _ = write!(
                out,
                " type_id={} component_idx={}",
                d.target, d.component_idx
            );
        }
        Type::TypeTag(x) => {
            let _ = write!(out, " type_id={}", x.target);
        }
    }
    out.push('\n');
    Ok(())
}

impl Spec {
    /// The whole spec (own types only, for split BTF) in bpftool's raw format.
    pub fn dump_raw(&self) -> Result<String> {
        let mut out = String::new();
        for (id, t) in self.types() {
            write_type(self, &mut out, id, t?)?;
        }
        Ok(out)
    }
}

/// `Display` adapter for [`Spec::dump_raw`]: `println!("{}", RawDump(&spec))`.
/// A type that fails to decode ends the output with a `<error: ...>` line.
#[derive(Debug, Clone, Copy)]
pub struct RawDump<'a>(pub &'a Spec);

impl std::fmt::Display for RawDump<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut line = String::new();
        for (id, t) in self.0.types() {
            line.clear();
            match t.and_then(|t| write_type(self.0, &mut line, id, t)) {
                Ok(()) => f.write_str(&line)?,
                Err(e) => return writeln!(f, "<error: {e}>"),
            }
        }
        Ok(())
    }
}
