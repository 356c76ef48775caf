//! `ebpf-tool feature [--json]`: what the running kernel supports, from the
//! library's own probes (map types, program types, link kinds, BTF kinds, misc).

use std::fmt::Write as _;

use ebpf::features::{
    self, AttachType, BtfKind, Errno, FeatureError, FeatureResult, IsaVersion, LinkKind, MapType,
    ProgramType,
};

use crate::Result;
use serde_json::{Value, json};

/// A probe without arguments.
type Probe = fn() -> FeatureResult;

/// One probe's outcome.
struct Row {
    group: &'static str,
    name: String,
    status: &'static str,
    detail: String,
}

fn row(group: &'static str, name: String, result: FeatureResult) -> Row {
    let (status, detail) = match result {
        Ok(()) => ("yes", String::new()),
        Err(FeatureError::NotSupported(ns)) => {
            let running = ebpf::current_kernel().ok();
            if running.is_some_and(|r| r >= ns.min_kernel) {
                (
                    "no",
                    format!(
                        "added in Linux {}, configured out of this kernel",
                        ns.min_kernel
                    ),
                )
            } else {
                ("no", format!("needs Linux {}", ns.min_kernel))
            }
        }
        Err(e) if e.errno() == Some(Errno::PERM) => (
            "refused",
            "EPERM: refused by policy (lockdown, LSM) or a missing capability".to_owned(),
        ),
        Err(e) => ("unknown", e.to_string()),
    };
    Row {
        group,
        name,
        status,
        detail,
    }
}

fn probe_all() -> Vec<Row> {
    let mut rows = Vec::new();
    for t in MapType::ALL.iter().filter(|t| t.0 != 0) {
        rows.push(row("map_type", t.to_string(), features::have_map_type(*t)));
    }
    for t in ProgramType::ALL.iter().filter(|t| t.0 != 0) {
        rows.push(row(
            "prog_type",
            t.to_string(),
            features::have_prog_type(*t),
        ));
    }
    for k in LinkKind::ALL {
        rows.push(row(
            "link",
            k.short_name().to_owned(),
            features::have_link_kind(*k),
        ));
    }
    for a in AttachType::ALL {
        // Only attach types checked at load time; the rest show as links.
        match features::have_attach_type(*a) {
            Err(FeatureError::Probe { errno: None, .. }) => {}
            res => rows.push(row("attach_type", a.to_string(), res)),
        }
    }
    for v in IsaVersion::ALL {
        rows.push(row(
            "isa",
            v.short_name().to_owned(),
            features::have_isa(*v),
        ));
    }
    for k in BtfKind::ALL {
        rows.push(row(
            "btf_kind",
            k.short_name().to_owned(),
            features::have_btf_kind(*k),
        ));
    }
    let misc: [(&str, Probe); 5] = [
        ("bounded_loops", features::have_bounded_loops),
        ("large_instructions", features::have_large_instructions),
        ("mmapable_maps", features::have_mmapable_maps),
        ("object_names", features::have_object_names),
        (
            "object_names_with_dots",
            features::have_object_names_with_dots,
        ),
    ];
    for (name, probe) in misc {
        rows.push(row("misc", name.to_owned(), probe()));
    }
    rows
}

/// Runs the command.
pub fn run(json: bool) -> Result<String> {
    // Without CAP_BPF (or CAP_SYS_ADMIN) the kernel refuses nearly every
    // probe, so a table of "refused" rows would say nothing about the kernel
    // (bpftool's `feature probe` asks for root likewise).
    let missing = ebpf::PermissionFacts::current().missing_capabilities;
    if missing.contains(&"CAP_BPF") {
        anyhow::bail!(
            "feature: probing the kernel is refused (EPERM) without privileges: this process lacks {}",
            missing.join(", ")
        );
    }
    let rows = probe_all();
    let mut out = String::new();
    if json {
        let list: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "group": r.group,
                    "name": r.name,
                    "supported": r.status,
                    "detail": r.detail,
                })
            })
            .collect();
        let _ = writeln!(out, "{}", Value::Array(list));
        return Ok(out);
    }
    let mut group = "";
    for r in &rows {
        if r.group != group {
            group = r.group;
            let _ = writeln!(out, "\n{group}:");
        }
        let _ = writeln!(out, "  {:<40} {:<8} {}", r.name, r.status, r.detail);
    }
    Ok(out)
}
