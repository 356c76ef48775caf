//! `prog list|show`, `map list|show|dump`, `link list`, `btf list`: the
//! kernel's BPF objects, like bpftool shows them.

use std::fmt::Write as _;

use ebpf::info::{self, MapInfo, ProgramInfo};
use ebpf::{Map, Program};

use anyhow::Context as _;

use crate::Result;
use crate::value;
use serde_json::{Value, json};

fn prog_json(i: &ProgramInfo) -> Value {
    json!({
        "id": i.id,
        "type": i.program_type.to_string(),
        "name": i.name,
        "tag": i.tag_hex(),
        "xlated_size": i.xlated_size,
        "jited_size": i.jited_size,
        "verified_insns": i.verified_insns,
        "btf_id": i.btf_id,
        "run_count": i.run_count,
        "run_time_ns": i.run_time_ns,
    })
}

fn prog_line(out: &mut String, i: &ProgramInfo) {
    let _ = writeln!(
        out,
        "{}: {}  name {}  tag {}{}\n\txlated {}B  jited {}B  verified {} insns  btf_id {}",
        i.id,
        i.program_type,
        i.name,
        i.tag_hex(),
        if i.gpl_compatible { "  gpl" } else { "" },
        i.xlated_size,
        i.jited_size,
        i.verified_insns,
        i.btf_id
    );
}

fn map_json(i: &MapInfo) -> Value {
    json!({
        "id": i.id,
        "type": i.map_type.to_string(),
        "name": i.name,
        "key_size": i.key_size,
        "value_size": i.value_size,
        "max_entries": i.max_entries,
        "flags": i.flags,
        "btf_id": i.btf_id,
    })
}

fn map_line(out: &mut String, i: &MapInfo) {
    let _ = writeln!(
        out,
        "{}: {}  name {}  flags {:#x}\n\tkey {}B  value {}B  max_entries {}  btf_id {}",
        i.id, i.map_type, i.name, i.flags, i.key_size, i.value_size, i.max_entries, i.btf_id
    );
}

/// Opens a map by numeric id or by a pinned path.
fn open_map(what: &str) -> Result<Map> {
    match what.parse::<u32>() {
        Ok(id) => Map::from_id(id).with_context(|| format!("map {id}")),
        Err(_) => Map::from_pin(what).with_context(|| format!("map {what}")),
    }
}

/// Opens a program by numeric id or by a pinned path.
pub(crate) fn open_prog(what: &str) -> Result<Program> {
    match what.parse::<u32>() {
        Ok(id) => Program::from_id(id).with_context(|| format!("program {id}")),
        Err(_) => Program::from_pin(what).with_context(|| format!("program {what}")),
    }
}

/// `prog list`.
pub fn prog_list(json: bool) -> Result<String> {
    let mut out = String::new();
    let mut all = Vec::new();
    for id in info::program_ids() {
        let id = id?;
        // Programs can go away between listing and opening.
        let Ok(p) = Program::from_id(id) else {
            continue;
        };
        if let Ok(i) = p.info() {
            all.push(i);
        }
    }
    if json {
        let _ = writeln!(out, "{}", Value::Array(all.iter().map(prog_json).collect()));
    } else {
        for i in &all {
            prog_line(&mut out, i);
        }
    }
    Ok(out)
}

/// `prog show ID|PATH`.
pub fn prog_show(what: &str, json: bool) -> Result<String> {
    let p = open_prog(what)?;
    let i = p.info().with_context(|| format!("program {what}"))?;
    let mut out = String::new();
    if json {
        let _ = writeln!(out, "{}", prog_json(&i));
    } else {
        prog_line(&mut out, &i);
        if let Ok(ids) = p.map_ids() {
            let _ = writeln!(out, "\tmap_ids {ids:?}");
        }
    }
    Ok(out)
}

/// `map list`.
pub fn map_list(json: bool) -> Result<String> {
    let mut out = String::new();
    let mut all = Vec::new();
    for id in info::map_ids() {
        let id = id?;
        let Ok(m) = Map::from_id(id) else { continue };
        if let Ok(i) = m.info() {
            all.push(i);
        }
    }
    if json {
        let _ = writeln!(out, "{}", Value::Array(all.iter().map(map_json).collect()));
    } else {
        for i in &all {
            map_line(&mut out, i);
        }
    }
    Ok(out)
}

/// `map show ID|PATH`.
pub fn map_show(what: &str, json: bool) -> Result<String> {
    let m = open_map(what)?;
    let i = m.info().with_context(|| format!("map {what}"))?;
    let mut out = String::new();
    if json {
        let _ = writeln!(out, "{}", map_json(&i));
    } else {
        map_line(&mut out, &i);
    }
    Ok(out)
}

/// `map dump ID|PATH`: every entry, decoded through the map's BTF when it has
/// one (struct fields by name); otherwise integers as numbers, the rest in hex.
pub fn map_dump(what: &str, json: bool) -> Result<String> {
    let m = open_map(what)?;
    let mi = m.info().with_context(|| format!("map {what}"))?;
    let btf = (mi.btf_id != 0)
        .then(|| info::btf_spec_by_id(mi.btf_id).ok())
        .flatten();
    let typed = |b: &[u8], id: u32| match &btf {
        Some(spec) if id != 0 => Some(value::format(spec, ebpf_btf::TypeId(id), b)),
        _ => None,
    };
    let plain = |b: &[u8]| match value::read_uint(b) {
        Some(v) => v.to_string(),
        None => value::hex(b),
    };
    let show_key = |b: &[u8]| typed(b, mi.btf_key_type_id).unwrap_or_else(|| plain(b));
    let show = |b: &[u8]| typed(b, mi.btf_value_type_id).unwrap_or_else(|| plain(b));
    let mut entries = Vec::new();
    for key in m.keys() {
        let key = key.with_context(|| format!("map {what}"))?;
        if m.is_per_cpu() {
            if let Ok(Some(values)) = m.lookup_percpu(&key) {
                entries.push((
                    key,
                    values
                        .iter()
                        .map(|v| show(v))
                        .collect::<Vec<_>>()
                        .join(" | "),
                ));
            }
        } else if let Ok(Some(v)) = m.lookup(&key) {
            entries.push((key, show(&v)));
        }
    }
    let mut out = String::new();
    if json {
        let list: Vec<Value> = entries
            .iter()
            .map(|(k, v)| json!({ "key": show_key(k), "value": v }))
            .collect();
        let _ = writeln!(out, "{}", Value::Array(list));
    } else {
        for (k, v) in &entries {
            let _ = writeln!(out, "{} => {v}", show_key(k));
        }
        let _ = writeln!(out, "{} entries", entries.len());
    }
    Ok(out)
}

/// `link list`.
pub fn link_list(json: bool) -> Result<String> {
    let mut out = String::new();
    let mut list = Vec::new();
    for info in ebpf_link::links()? {
        let Ok(info) = info else { continue };
        if json {
            list.push(json!({
                "id": info.id,
                "type": info.link_type.to_string(),
                "prog_id": info.program_id,
                "detail": format!("{:?}", info.data),
            }));
        } else {
            let _ = writeln!(
                out,
                "{}: {}  prog {}\n\t{:?}",
                info.id, info.link_type, info.program_id, info.data
            );
        }
    }
    if json {
        let _ = writeln!(out, "{}", Value::Array(list));
    }
    Ok(out)
}

/// `btf list`.
pub fn btf_list(json: bool) -> Result<String> {
    let mut out = String::new();
    let mut list = Vec::new();
    for id in info::btf_ids() {
        let id = id?;
        let Ok(i) = info::btf_info_by_id(id) else {
            continue;
        };
        if json {
            list.push(json!({
                "id": i.id,
                "name": i.name,
                "size": i.size,
                "kernel": i.kernel,
            }));
        } else {
            let _ = writeln!(
                out,
                "{}: name {}  size {}B{}",
                i.id,
                if i.name.is_empty() { "<anon>" } else { &i.name },
                i.size,
                if i.kernel { "  kernel" } else { "" }
            );
        }
    }
    if json {
        let _ = writeln!(out, "{}", Value::Array(list));
    }
    Ok(out)
}
