//! The skeleton of an object: the embedded object, a `NameSkel` to edit its
//! global variables (typed) before loading, and a loaded `Name` with one field
//! per program and per map (typed views), typed data sections and
//! `attach_all()`.

use ebpf_btf::{Datasec, Member, Spec, Struct, Type, TypeId, VarLinkage};
use ebpf_spec::{CollectionSpec, MapSpec, MapType};

use crate::error::{Error, Result};
use crate::fmt::{doc, ind};
use crate::ident::{Namespace, camel, snake};
use crate::types::TypeGen;
use crate::{Embed, SkeletonOptions};

/// A data section map with a typed value.
struct Section {
    /// The map (section) name: `.rodata`.
    map: String,
    /// The Rust type of its value.
    ty: String,
    /// The accessor: `rodata`.
    accessor: String,
}

/// One map field of the loaded skeleton.
struct MapField {
    field: String,
    map: String,
    /// The field's type; `None`: an untyped `ebpf::Map`.
    view: Option<String>,
    doc: String,
    struct_ops: bool,
}

fn is_data_section(m: &MapSpec) -> bool {
    let stem = |s: &str| m.name == s || m.name.starts_with(&format!("{s}."));
    m.data().is_some() && (stem(".data") || stem(".rodata") || stem(".bss"))
}

/// The Rust type of a map's key or value: its BTF type, else bytes of its size.
fn slot(tg: Option<&mut TypeGen<'_>>, id: Option<TypeId>, size: u32, hint: &str) -> Result<String> {
    match (tg, id) {
        (Some(g), Some(id)) => Ok(g.ty(id, &|| hint.to_owned())?.text),
        _ => Ok(format!("[u8; {size}]")),
    }
}

/// The typed view of `m` (`::ebpf::maps::HashMap<u32, u64>`), or `None`.
fn view(mut tg: Option<&mut TypeGen<'_>>, m: &MapSpec) -> Result<Option<String>> {
    let base = camel(&m.name);
    let key = |g: Option<&mut TypeGen<'_>>| slot(g, m.key_type, m.key_size, &format!("{base}Key"));
    let t = m.map_type;
    let kv = |name: &str, k: String, v: String| Some(format!("::ebpf::maps::{name}<{k}, {v}>"));
    Ok(
        if t == MapType::HASH
            || t == MapType::LRU_HASH
            || t == MapType::PERCPU_HASH
            || t == MapType::LRU_PERCPU_HASH
            || t == MapType::LPM_TRIE
        {
            let k = key(tg.as_deref_mut())?;
            let v = slot(tg, m.value_type, m.value_size, &format!("{base}Value"))?;
            let name = match t {
                MapType::HASH => "HashMap",
                MapType::LRU_HASH => "LruHashMap",
                MapType::PERCPU_HASH => "PerCpuHashMap",
                MapType::LRU_PERCPU_HASH => "LruPerCpuHashMap",
                _ => "LpmTrie",
            };
            kv(name, k, v)
        } else if t == MapType::ARRAY
            || t == MapType::PERCPU_ARRAY
            || t == MapType::QUEUE
            || t == MapType::STACK
            || t == MapType::BLOOM_FILTER
        {
            let v = slot(tg, m.value_type, m.value_size, &format!("{base}Value"))?;
            let name = match t {
                MapType::ARRAY => "Array",
                MapType::PERCPU_ARRAY => "PerCpuArray",
                MapType::QUEUE => "Queue",
                MapType::STACK => "Stack",
                _ => "BloomFilter",
            };
            Some(format!("::ebpf::maps::{name}<{v}>"))
        } else if t == MapType::RINGBUF {
            match (tg, m.value_type) {
                (Some(g), Some(id)) => {
                    let v = g.ty(id, &|| format!("{base}Record"))?.text;
                    Some(format!("::ebpf::ringbuf::RingBuf<{v}>"))
                }
                _ => None,
            }
        } else if t == MapType::HASH_OF_MAPS || t == MapType::SOCKHASH {
            let k = key(tg)?;
            let name = if t == MapType::SOCKHASH {
                "SockHash"
            } else {
                "HashOfMaps"
            };
            Some(format!("::ebpf::maps::{name}<{k}>"))
        } else {
            let name = match t {
                MapType::PROG_ARRAY => "ProgramArray",
                MapType::ARRAY_OF_MAPS => "ArrayOfMaps",
                MapType::SOCKMAP => "SockMap",
                MapType::DEVMAP => "DevMap",
                MapType::CPUMAP => "CpuMap",
                MapType::XSKMAP => "XskMap",
                MapType::STACK_TRACE => "StackTrace",
                _ => return Ok(None),
            };
            Some(format!("::ebpf::maps::{name}"))
        },
    )
}

/// The datasec of data section `name` as a struct of its non-static variables.
fn datasec_struct(btf: &Spec, ds: &Datasec) -> Result<Struct> {
    let mut members = Vec::new();
    for v in &ds.vars {
        let Type::Var(var) = btf.type_by_id(v.type_id)? else {
            continue;
        };
        if var.linkage == VarLinkage::Static {
            continue;
        }
        members.push(Member {
            name: var.name.clone(),
            type_id: var.type_id,
            bit_offset: v.offset * 8,
            bitfield_size: 0,
        });
    }
    members.sort_by_key(|m| m.bit_offset);
    Ok(Struct {
        name: ds.name.clone(),
        size: ds.size,
        members,
    })
}

/// Generates the skeleton; returns (items, warnings).
pub(crate) fn generate(
    spec: &CollectionSpec,
    options: &SkeletonOptions,
) -> Result<(String, Vec<String>)> {
    let obj = camel(&options.name);
    let mut warnings = Vec::new();
    let btf = spec.btf.as_deref();
    let mut tg = btf.map(|b| TypeGen::new(b, b.endian() == ebpf_btf::Endian::Big));
    let names = [
        format!("{obj}Skel"),
        obj.clone(),
        format!("{obj}Progs"),
        format!("{obj}Maps"),
        format!("{obj}Links"),
    ];
    if let Some(g) = tg.as_mut() {
        g.names.reserve("OBJECT");
        for n in &names {
            g.names.reserve(n);
        }
    } else {
        warnings.push(format!(
            "object '{}' has no BTF: its maps are untyped (`ebpf::Map`) and its global variables are not typed",
            options.name
        ));
    }

    // Data sections first: their types read best at the top.
    let mut sections = Vec::new();
    let mut accessors = Namespace::with_reserved(&[
        "spec",
        "collection",
        "progs",
        "maps",
        "load",
        "load_with",
        "open",
        "from_spec",
        "attach_all",
    ]);
    if let (Some(g), Some(btf)) = (tg.as_mut(), btf) {
        for m in spec.maps.values().filter(|m| is_data_section(m)) {
            let Some(Type::Datasec(ds)) = m.value_type.map(|id| btf.type_by_id(id)).transpose()?
            else {
                continue;
            };
            let s = datasec_struct(btf, ds)?;
            let ty = g.names.claim(&camel(&m.name));
            let c = format!("section {}", m.name);
            let (text, _) = g
                .gen_struct(m.value_type.unwrap_or_default(), &ty, &c, &s)
                .or_else(|e| match e {
                    Error::Unrepresentable { reason, .. } => {
                        warnings.push(format!("{c}: stored as bytes: {reason}"));
                        Ok((
                            crate::emit::opaque(
                                &ty,
                                &c,
                                ds.size,
                                &reason,
                                crate::emit::Style::Full,
                            ),
                            crate::types::Ty::bytes(ds.size, &c),
                        ))
                    }
                    e => Err(e),
                })?;
            g.push_item(text);
            sections.push(Section {
                map: m.name.clone(),
                ty,
                accessor: accessors.claim(&snake(&m.name)),
            });
        }
    }

    let mut map_fields = Vec::new();
    let mut fields = Namespace::default();
    for m in spec.maps.values() {
        if is_data_section(m) || m.name == ebpf_spec::KCONFIG_SECTION || m.name.starts_with('.') {
            continue;
        }
        let struct_ops = m.struct_ops.is_some();
        let v = if struct_ops {
            Some("::ebpf::StructOpsMap".to_owned())
        } else {
            view(tg.as_mut(), m)?
        };
        let doc = match &v {
            _ if struct_ops => format!(
                "`{}`: a struct_ops map, created but not registered (`ebpf_link::struct_ops::attach`).",
                m.name
            ),
            Some(_) => format!("`{}`: {} map.", m.name, m.map_type),
            None => format!("`{}`: {} map (untyped).", m.name, m.map_type),
        };
        map_fields.push(MapField {
            field: fields.claim(&snake(&m.name)),
            map: m.name.clone(),
            view: v,
            doc,
            struct_ops,
        });
    }
    for t in &options.types {
        let (Some(g), Some(btf)) = (tg.as_mut(), btf) else {
            return Err(Error::NoSuchType(t.clone()));
        };
        crate::request(g, btf, t)?;
    }

    let mut prog_fields = Namespace::default();
    let progs: Vec<(String, String, String)> = spec
        .programs
        .values()
        .map(|p| {
            (
                prog_fields.claim(&snake(&p.name)),
                p.name.to_string(),
                p.section_name.to_string(),
            )
        })
        .collect();

    let mut out = String::new();
    embed(&mut out, &options.embed, &options.name);
    out.push('\n');
    if let Some(g) = tg {
        warnings.extend(g.warnings.iter().cloned());
        let types = g.finish();
        if !types.is_empty() {
            out.push_str(&types);
            out.push('\n');
        }
    }
    let sk = Names {
        obj,
        name: options.name.clone(),
    };
    open_struct(&mut out, &sk, &sections);
    out.push('\n');
    loaded_struct(&mut out, &sk, &sections, &progs, &map_fields);
    Ok((out, warnings))
}

struct Names {
    obj: String,
    name: String,
}

fn embed(out: &mut String, e: &Embed, name: &str) {
    let i = ind(1);
    let one = |out: &mut String, cfg: Option<&str>, arg: String| {
        doc(out, 1, &format!("The object file `{name}`, embedded."));
        if let Some(cfg) = cfg {
            out.push_str(&format!("{i}#[cfg(target_endian = \"{cfg}\")]\n"));
        }
        let line = format!("{i}pub const OBJECT: &[u8] = include_bytes!({arg});");
        if line.len() <= crate::fmt::MAX_WIDTH {
            out.push_str(&line);
            out.push('\n');
        } else {
            out.push_str(&format!(
                "{i}pub const OBJECT: &[u8] =\n{}include_bytes!({arg});\n",
                ind(2)
            ));
        }
    };
    let out_dir = |f: &str| format!("concat!(env!(\"OUT_DIR\"), \"/{f}\")");
    match e {
        Embed::File(p) => one(out, None, format!("{p:?}")),
        Embed::OutDir(f) => one(out, None, out_dir(f)),
        Embed::OutDirBoth { little, big } => {
            one(out, Some("little"), out_dir(little));
            one(out, Some("big"), out_dir(big));
        }
    }
}

fn open_struct(out: &mut String, n: &Names, sections: &[Section]) {
    let (i, i1, i2, i3) = (ind(1), ind(2), ind(3), ind(4));
    let skel = format!("{}Skel", n.obj);
    doc(
        out,
        1,
        &format!(
            "The object `{}`, opened but not loaded: edit its spec and the initial\nvalues of its global variables, then [`{skel}::load`].",
            n.name
        ),
    );
    out.push_str(&format!("{i}#[derive(Debug)]\n{i}pub struct {skel} {{\n"));
    doc(
        out,
        2,
        "The object's programs, maps and variables, editable before loading.",
    );
    out.push_str(&format!("{i1}pub spec: ::ebpf::CollectionSpec,\n"));
    for s in sections {
        out.push_str(&format!("{i1}{}: {},\n", s.accessor, s.ty));
    }
    out.push_str(&format!("{i}}}\n\n{i}impl {skel} {{\n"));
    doc(out, 2, "Opens the embedded object.");
    out.push_str(&format!("{i1}pub fn open() -> ::ebpf::Result<Self> {{\n"));
    out.push_str(&format!(
        "{i2}Self::from_spec(::ebpf::CollectionSpec::from_elf(OBJECT)?)\n{i1}}}\n\n"
    ));
    doc(
        out,
        2,
        "Opens `spec`, read from this object (or one with the same variables).",
    );
    out.push_str(&format!(
        "{i1}pub fn from_spec(spec: ::ebpf::CollectionSpec) -> ::ebpf::Result<Self> {{\n"
    ));
    if sections.is_empty() {
        out.push_str(&format!("{i2}Ok(Self {{ spec }})\n{i1}}}\n"));
    } else {
        out.push_str(&format!("{i2}Ok(Self {{\n"));
        for s in sections {
            out.push_str(&format!(
                "{i3}{}: ::ebpf::codegen::section_value(&spec, \"{}\")?,\n",
                s.accessor, s.map
            ));
        }
        out.push_str(&format!("{i3}spec,\n{i2}}})\n{i1}}}\n"));
    }
    for s in sections {
        let what = if s.map.starts_with(".rodata") {
            "the constants the verifier sees (`volatile const`)"
        } else {
            "the initial values"
        };
        out.push('\n');
        doc(out, 2, &format!("`{}`: {what}.", s.map));
        out.push_str(&format!(
            "{i1}pub fn {}(&self) -> &{} {{\n{i2}&self.{}\n{i1}}}\n\n",
            s.accessor, s.ty, s.accessor
        ));
        doc(
            out,
            2,
            &format!("`{}`, to set {what} before loading.", s.map),
        );
        let sig = format!(
            "{i1}pub fn {}_mut(&mut self) -> &mut {} {{",
            s.accessor, s.ty
        );
        out.push_str(&sig);
        out.push_str(&format!("\n{i2}&mut self.{}\n{i1}}}\n", s.accessor));
    }
    out.push('\n');
    doc(out, 2, "Loads the object (with default options).");
    out.push_str(&format!(
        "{i1}pub fn load(self) -> ::ebpf::Result<{}> {{\n",
        n.obj
    ));
    out.push_str(&format!(
        "{i2}self.load_with(::ebpf::CollectionOptions::default())\n{i1}}}\n\n"
    ));
    doc(out, 2, "Loads the object with `options`.");
    let mut_self = if sections.is_empty() {
        "self"
    } else {
        "mut self"
    };
    let sig = format!(
        "{i1}pub fn load_with({mut_self}, options: ::ebpf::CollectionOptions) -> ::ebpf::Result<{}> {{",
        n.obj
    );
    if sig.len() <= crate::fmt::MAX_WIDTH {
        out.push_str(&sig);
        out.push('\n');
    } else {
        out.push_str(&format!(
            "{i1}pub fn load_with(\n{i2}{mut_self},\n{i2}options: ::ebpf::CollectionOptions,\n{i1}) -> ::ebpf::Result<{}> {{\n",
            n.obj
        ));
    }
    for s in sections {
        let line = format!(
            "{i2}::ebpf::codegen::set_section_value(&mut self.spec, \"{}\", &self.{})?;",
            s.map, s.accessor
        );
        if line.len() <= crate::fmt::MAX_WIDTH {
            out.push_str(&line);
            out.push('\n');
        } else {
            out.push_str(&format!(
                "{i2}::ebpf::codegen::set_section_value(\n{i3}&mut self.spec,\n{i3}\"{}\",\n{i3}&self.{},\n{i2})?;\n",
                s.map, s.accessor
            ));
        }
    }
    out.push_str(&format!(
        "{i2}let collection = ::ebpf::Collection::load(&self.spec, options)?;\n"
    ));
    out.push_str(&format!(
        "{i2}{}::new(self.spec, collection)\n{i1}}}\n{i}}}\n",
        n.obj
    ));
}

fn loaded_struct(
    out: &mut String,
    n: &Names,
    sections: &[Section],
    progs: &[(String, String, String)],
    maps: &[MapField],
) {
    let (i, i1, i2, i3, i4) = (ind(1), ind(2), ind(3), ind(4), ind(5));
    let obj = &n.obj;
    doc(
        out,
        1,
        &format!(
            "The object `{}`, loaded: its programs and maps, typed.",
            n.name
        ),
    );
    out.push_str(&format!("{i}#[derive(Debug)]\n{i}pub struct {obj} {{\n"));
    doc(out, 2, "The programs.");
    out.push_str(&format!("{i1}pub progs: {obj}Progs,\n"));
    doc(
        out,
        2,
        "The maps (but the data sections: see the accessors).",
    );
    out.push_str(&format!("{i1}pub maps: {obj}Maps,\n"));
    doc(
        out,
        2,
        "What the skeleton does not type: data section maps, variables by name.",
    );
    out.push_str(&format!("{i1}pub collection: ::ebpf::Collection,\n"));
    doc(out, 2, "The spec the object was loaded from.");
    out.push_str(&format!("{i1}pub spec: ::ebpf::CollectionSpec,\n"));
    for s in sections {
        out.push_str(&format!(
            "{i1}{}: ::ebpf::GlobalData<{}>,\n",
            s.accessor, s.ty
        ));
    }
    out.push_str(&format!("{i}}}\n\n"));

    // The constructor: takes every program and map out of the collection.
    out.push_str(&format!("{i}impl {obj} {{\n"));
    let coll = if progs.is_empty() && maps.is_empty() {
        "collection"
    } else {
        "mut collection"
    };
    let sig = format!(
        "{i1}fn new(spec: ::ebpf::CollectionSpec, {coll}: ::ebpf::Collection) -> ::ebpf::Result<Self> {{"
    );
    if sig.len() <= crate::fmt::MAX_WIDTH {
        out.push_str(&sig);
        out.push('\n');
    } else {
        out.push_str(&format!(
            "{i1}fn new(\n{i2}spec: ::ebpf::CollectionSpec,\n{i2}{coll}: ::ebpf::Collection,\n{i1}) -> ::ebpf::Result<Self> {{\n"
        ));
    }
    out.push_str(&format!("{i2}Ok(Self {{\n"));
    if progs.is_empty() {
        out.push_str(&format!("{i3}progs: {obj}Progs {{}},\n"));
    } else {
        out.push_str(&format!("{i3}progs: {obj}Progs {{\n"));
        for (f, p, _) in progs {
            out.push_str(&format!("{i4}{f}: collection.take_program(\"{p}\")?,\n"));
        }
        out.push_str(&format!("{i3}}},\n"));
    }
    if maps.is_empty() {
        out.push_str(&format!("{i3}maps: {obj}Maps {{}},\n"));
    } else {
        out.push_str(&format!("{i3}maps: {obj}Maps {{\n"));
        for m in maps {
            let take = if m.struct_ops {
                format!("collection.take_struct_ops(\"{}\")?", m.map)
            } else if m.view.is_some() {
                format!("collection.take_map(\"{}\")?.try_into()?", m.map)
            } else {
                format!("collection.take_map(\"{}\")?", m.map)
            };
            let line = format!("{i4}{}: {take},", m.field);
            if line.len() <= crate::fmt::MAX_WIDTH {
                out.push_str(&line);
                out.push('\n');
            } else {
                // rustfmt keeps `field: collection` and breaks the chain,
                // one call a line, indented one level further.
                let i5 = format!("{i4}    ");
                let chain = take
                    .strip_prefix("collection")
                    .unwrap_or(&take)
                    .replace(")?.", &format!(")?\n{i5}."));
                out.push_str(&format!("{i4}{}: collection\n{i5}{chain},\n", m.field));
            }
        }
        out.push_str(&format!("{i3}}},\n"));
    }
    for s in sections {
        out.push_str(&format!(
            "{i3}{}: ::ebpf::codegen::global_data(&collection, \"{}\")?,\n",
            s.accessor, s.map
        ));
    }
    out.push_str(&format!("{i3}collection,\n{i3}spec,\n{i2}}})\n{i1}}}\n"));
    for s in sections {
        out.push('\n');
        let what = if s.map.starts_with(".rodata") {
            "read-only"
        } else {
            "read and written in place"
        };
        doc(
            out,
            2,
            &format!("`{}`: the global variables in the kernel, {what}.", s.map),
        );
        out.push_str(&format!(
            "{i1}pub fn {}(&self) -> &::ebpf::GlobalData<{}> {{\n{i2}&self.{}\n{i1}}}\n",
            s.accessor, s.ty, s.accessor
        ));
    }
    out.push('\n');
    doc(
        out,
        2,
        "Attaches every program whose section names where (tracepoints, kprobes,\nuprobes with a target, fentry, ...); programs that need a target given at run\ntime (XDP, tc, cgroups, ...) are left for their `ebpf_link` module.",
    );
    out.push_str(&format!(
        "{i1}pub fn attach_all(&self) -> ::ebpf_link::Result<{obj}Links> {{\n"
    ));
    if progs.is_empty() {
        out.push_str(&format!("{i2}Ok({obj}Links {{}})\n"));
    } else {
        out.push_str(&format!(
            "{i2}let auto =\n{i3}|name: &str, program| ::ebpf_link::attach_auto(&self.spec.programs[name], program);\n"
        ));
        out.push_str(&format!("{i2}Ok({obj}Links {{\n"));
        for (f, p, _) in progs {
            let line = format!("{i3}{f}: auto(\"{p}\", &self.progs.{f})?,");
            if line.len() <= crate::fmt::MAX_WIDTH {
                out.push_str(&line);
                out.push('\n');
            } else {
                out.push_str(&format!(
                    "{i3}{f}: auto(\n{i4}\"{p}\",\n{i4}&self.progs.{f},\n{i3})?,\n"
                ));
            }
        }
        out.push_str(&format!("{i2}}})\n"));
    }
    out.push_str(&format!("{i1}}}\n{i}}}\n\n"));

    // Programs, maps, links.
    doc(out, 1, &format!("The programs of `{}`.", n.name));
    struct_of(
        out,
        &format!("{obj}Progs"),
        progs.iter().map(|(f, p, s)| {
            (
                f.clone(),
                "::ebpf::Program".to_owned(),
                format!("`{p}` (section `{s}`)."),
            )
        }),
    );
    out.push('\n');
    doc(out, 1, &format!("The maps of `{}`.", n.name));
    struct_of(
        out,
        &format!("{obj}Maps"),
        maps.iter().map(|m| {
            (
                m.field.clone(),
                m.view.clone().unwrap_or_else(|| "::ebpf::Map".into()),
                m.doc.clone(),
            )
        }),
    );
    out.push('\n');
    doc(
        out,
        1,
        &format!(
            "The links of `{}`'s programs, from [`{obj}::attach_all`]; `None` for\nprograms that need a target. Dropping a link detaches its program.",
            n.name
        ),
    );
    out.push_str(&format!("{i}#[derive(Debug)]\n"));
    struct_body(
        out,
        &format!("{obj}Links"),
        progs.iter().map(|(f, p, _)| {
            (
                f.clone(),
                "Option<Box<dyn ::ebpf_link::Link>>".to_owned(),
                format!("`{p}`."),
            )
        }),
    );
}

fn struct_of(out: &mut String, name: &str, fields: impl Iterator<Item = (String, String, String)>) {
    out.push_str(&format!("{}#[derive(Debug)]\n", ind(1)));
    struct_body(out, name, fields);
}

fn struct_body(
    out: &mut String,
    name: &str,
    fields: impl Iterator<Item = (String, String, String)>,
) {
    let fields: Vec<_> = fields.collect();
    if fields.is_empty() {
        out.push_str(&format!("{}pub struct {name} {{}}\n", ind(1)));
        return;
    }
    out.push_str(&format!("{}pub struct {name} {{\n", ind(1)));
    for (f, t, d) in fields {
        doc(out, 2, &d);
        out.push_str(&format!("{}pub {f}: {t},\n", ind(2)));
    }
    out.push_str(&format!("{}}}\n", ind(1)));
}
