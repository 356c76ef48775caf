//! `ebpf-tool pin tree [DIR] [--json]`: what is pinned in a bpffs tree
//! (default `/sys/fs/bpf`), one line per directory and object, indented by depth.
//!
//! ```text
//! /sys/fs/bpf
//!   maps/
//!     counter  map 12: array 'link_counter'  key 4B  value 8B  max_entries 1
//!   prog  program 34: BPF_PROG_TYPE_KPROBE 'counter'
//!   link  link 5: perf_event  prog 34
//! ```

use ebpf::pin_walk::{self, Pinned, PinnedEntry};
use ebpf_link::{Link, RawLink};

use anyhow::Context as _;

use crate::Result;
use serde_json::{Value, json};

/// What an entry is, as (kind, id, text) for the text line and JSON.
fn describe(entry: PinnedEntry) -> Result<(&'static str, Option<u32>, String)> {
    let path = entry.path.display().to_string();
    Ok(match entry.object {
        None if entry.is_dir => ("directory", None, String::new()),
        None => ("other", None, "not a BPF object".to_owned()),
        Some(Pinned::Map(m)) => {
            let i = m.info().with_context(|| path.to_owned())?;
            let text = format!(
                "{}: {} '{}'  key {}B  value {}B  max_entries {}",
                i.id, i.map_type, i.name, i.key_size, i.value_size, i.max_entries
            );
            ("map", Some(i.id), text)
        }
        Some(Pinned::Program(p)) => {
            let i = p.info().with_context(|| path.to_owned())?;
            let text = format!("{}: {} '{}'", i.id, i.program_type, i.name);
            ("program", Some(i.id), text)
        }
        Some(Pinned::Link(l)) => {
            let id = l.id();
            let raw = RawLink::from_pinned(l);
            let text = match raw.info() {
                Ok(i) => format!("{}: {}  prog {}", i.id, i.link_type, i.program_id),
                Err(e) => format!("{id}: {}", ebpf::ErrorChain(&e)),
            };
            // Dropping `raw` closes the fd; the pin stays.
            ("link", Some(id), text)
        }
        Some(other) => ("other", None, format!("{:?}", other.kind())),
    })
}

/// `pin tree`.
pub fn tree(dir: &str, json: bool) -> Result<String> {
    let root = std::path::Path::new(dir);
    let walk = pin_walk::walk(root)?;
    let mut out = String::new();
    let mut list = Vec::new();
    if !json {
        outln!(out, "{dir}");
    }
    for entry in walk {
        let entry = entry?;
        let rel = entry
            .path
            .strip_prefix(root)
            .unwrap_or(&entry.path)
            .display()
            .to_string();
        let name = entry
            .path
            .file_name()
            .map_or_else(|| rel.clone(), |n| n.to_string_lossy().into_owned());
        let depth = entry.depth;
        let (kind, id, text) = describe(entry)?;
        if json {
            let mut o = json!({ "path": rel, "kind": kind });
            if let Some(id) = id {
                o["id"] = json!(id);
            }
            o["detail"] = json!(text);
            list.push(o);
        } else if kind == "directory" {
            outln!(out, "{:indent$}{name}/", "", indent = depth * 2);
        } else if kind == "other" {
            outln!(out, "{:indent$}{name}  ({text})", "", indent = depth * 2);
        } else {
            outln!(
                out,
                "{:indent$}{name}  {kind} {text}",
                "",
                indent = depth * 2
            );
        }
    }
    if json {
        outln!(out, "{}", Value::Array(list));
    }
    Ok(out)
}
