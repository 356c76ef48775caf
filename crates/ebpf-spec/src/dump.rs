//! A stable, human-readable text dump of a [`CollectionSpec`], used by the golden tests and
//! handy for tools (`ebpf-tool spec dump`). The order is deterministic (by name), and
//! [`CollectionSpec::dump_layout`] leaves out raw data bytes, whose encoding depends on the
//! object's byte order.
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/nobtf-el.o"))?;
//! let text = spec.dump();
//! assert!(text.contains("map legacy_hash\n"));
//! assert!(text.contains("program legacy_xdp\n"));
//! # Ok(()) }
//! ```

use std::fmt::Write as _;

use ebpf_btf::{CoreRelo, FuncInfo, LineInfo};

use crate::collection::CollectionSpec;
use crate::kconfig::KconfigRef;
use crate::ksyms::{KfuncRef, KsymRef};
use crate::map::{MapKey, MapSpec, MapValue};
use crate::program::ProgramSpec;

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn dump_map(out: &mut String, m: &MapSpec, bytes: bool, indent: &str) {
    let _ = writeln!(out, "{indent}map {}", m.name);
    let _ = writeln!(out, "{indent}  section: {}", m.section);
    let _ = writeln!(out, "{indent}  type: {}", m.map_type);
    let _ = writeln!(
        out,
        "{indent}  key: size {} type {}",
        m.key_size,
        opt(m.key_type.map(|t| t.0))
    );
    let _ = writeln!(
        out,
        "{indent}  value: size {} type {}",
        m.value_size,
        opt(m.value_type.map(|t| t.0))
    );
    let _ = writeln!(out, "{indent}  max entries: {}", m.max_entries);
    let _ = writeln!(out, "{indent}  flags: {:#x}", m.flags);
    if m.numa_node != 0 || m.map_extra != 0 {
        let _ = writeln!(
            out,
            "{indent}  numa node: {} map extra: {:#x}",
            m.numa_node, m.map_extra
        );
    }
    let _ = writeln!(
        out,
        "{indent}  pinning: {:?} freeze: {}",
        m.pinning, m.freeze
    );
    for e in &m.contents {
        let key = match &e.key {
            MapKey::Index(i) => format!("[{i}]"),
            MapKey::Bytes(b) if bytes => format!("[{}]", hex(b)),
            MapKey::Bytes(b) => format!("[{} bytes]", b.len()),
        };
        let value = match &e.value {
            MapValue::Program(p) => format!("program {p}"),
            MapValue::Map(p) => format!("map {p}"),
            MapValue::Bytes(b) if bytes => format!("bytes {}", hex(b)),
            MapValue::Bytes(b) => format!("{} bytes", b.len()),
        };
        let _ = writeln!(out, "{indent}  {key} = {value}");
    }
    if let Some(ops) = &m.struct_ops {
        let _ = writeln!(
            out,
            "{indent}  struct_ops: {} (type {}) link: {}",
            ops.type_name, ops.type_id.0, ops.link
        );
        if bytes {
            let _ = writeln!(out, "{indent}    data: {}", hex(&ops.data));
        }
        for (off, p) in &ops.programs {
            let _ = writeln!(out, "{indent}    +{off}: {p}");
        }
    }
    if let Some(inner) = &m.inner_map {
        dump_map(out, inner, bytes, &format!("{indent}  "));
    }
}

fn dump_program(out: &mut String, p: &ProgramSpec) {
    let _ = writeln!(out, "program {}", p.name);
    let _ = writeln!(out, "  section: {}", p.section_name);
    let _ = writeln!(
        out,
        "  type: {} attach type: {}",
        p.program_type,
        opt(p.attach_type)
    );
    let _ = writeln!(out, "  attach target: {}", opt(p.attach_target.as_deref()));
    let _ = writeln!(
        out,
        "  flags: {:#x} section flags: {} autoload: {}",
        p.flags, p.section_flags, p.autoload
    );
    let _ = writeln!(
        out,
        "  license: {} kernel version: {:#x}",
        p.license, p.kernel_version
    );
    let mut slot = 0;
    for ins in p.instructions.iter() {
        if let Some(sym) = ins.symbol() {
            let _ = writeln!(out, "  {sym}:");
        }
        let mut line = format!("    {slot:4}: {ins}");
        if let Some(r) = ins.reference() {
            let _ = write!(line, " <{r}>");
        }
        let m = &ins.metadata;
        if let Some(fi) = m.get::<FuncInfo>() {
            let _ = write!(line, " ; func_info type {}", fi.type_id.0);
        }
        if let Some(li) = m.get::<LineInfo>() {
            let _ = write!(
                line,
                " ; line {}:{}:{}",
                li.file_name, li.line_num, li.column
            );
        }
        if let Some(cr) = m.get::<CoreRelo>() {
            let _ = write!(
                line,
                " ; core {} type {} access {}",
                cr.kind.name(),
                cr.type_id.0,
                cr.access
            );
        }
        if let Some(k) = m.get::<KconfigRef>() {
            let _ = write!(line, " ; kconfig {} +{} weak: {}", k.name, k.offset, k.weak);
        }
        if let Some(k) = m.get::<KsymRef>() {
            let _ = write!(
                line,
                " ; ksym {} type {} weak: {}",
                k.name,
                opt(k.type_id.map(|t| t.0)),
                k.weak
            );
        }
        if let Some(k) = m.get::<KfuncRef>() {
            let _ = write!(
                line,
                " ; kfunc {} type {} weak: {}",
                k.name, k.type_id.0, k.weak
            );
        }
        let _ = writeln!(out, "{line}");
        slot += ins.width();
    }
}

impl CollectionSpec {
    /// A stable text dump of everything in the spec, raw bytes included.
    pub fn dump(&self) -> String {
        self.dump_impl(true)
    }

    /// [`CollectionSpec::dump`] without raw data bytes (map contents, struct_ops data) and
    /// without the byte order: the same for both byte orders of one object.
    pub fn dump_layout(&self) -> String {
        self.dump_impl(false)
    }

    fn dump_impl(&self, bytes: bool) -> String {
        let mut out = String::new();
        if bytes {
            let _ = writeln!(out, "byte order: {:?}", self.byte_order);
        }
        let _ = writeln!(out, "license: {}", self.license);
        let _ = writeln!(out, "kernel version: {:#x}", self.kernel_version);
        let _ = writeln!(
            out,
            "btf: {}",
            self.btf
                .as_ref()
                .map_or_else(|| "none".to_owned(), |b| format!("{} types", b.len()))
        );
        for m in self.maps.values() {
            out.push('\n');
            dump_map(&mut out, m, bytes, "");
        }
        if !self.variables.is_empty() {
            out.push('\n');
        }
        for v in self.variables.values() {
            let _ = writeln!(
                out,
                "variable {}: {} +{} size {} type {}",
                v.name,
                v.section,
                v.offset,
                v.size,
                opt(v.type_id.map(|t| t.0))
            );
        }
        for p in self.programs.values() {
            out.push('\n');
            dump_program(&mut out, p);
        }
        out
    }
}
