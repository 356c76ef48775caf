//! `ebpf-tool load OBJECT.o [--pin DIR] [--target BTF] [--attach-prog P=T]... [--json]`:
//! load an object into the kernel and report each map and program created (id, name,
//! type), or the verifier error. With --pin the objects stay loaded, pinned
//! under DIR (a bpffs directory) as `maps/NAME` and `progs/NAME`. A freplace program
//! needs `--attach-prog NAME=TARGET`, TARGET being the id or pinned path of the
//! loaded program whose function it replaces.

use std::fmt::Write as _;
use std::path::Path;

use ebpf::{Collection, CollectionOptions};
use ebpf_spec::CollectionSpec;

use crate::Result;
use crate::json::Json;

/// Runs the command.
pub fn run(
    path: &str,
    pin: Option<&str>,
    target: Option<&str>,
    attach_progs: &[String],
    json: bool,
) -> Result<String> {
    let spec = CollectionSpec::from_file(path).map_err(|e| format!("{path}: {e}"))?;
    let mut opts = CollectionOptions::default();
    if let Some(t) = target {
        opts.core_btf = Some(super::btf::load(t)?);
    }
    for arg in attach_progs {
        let (name, what) = arg
            .split_once('=')
            .ok_or_else(|| format!("--attach-prog {arg}: expected PROGRAM=TARGET"))?;
        if !spec.programs.contains_key(name) {
            return Err(format!(
                "--attach-prog {arg}: {path} has no program '{name}'"
            ));
        }
        let prog =
            super::objects::open_prog(what).map_err(|e| format!("--attach-prog {arg}: {e}"))?;
        opts.attach_programs
            .insert(name.to_owned(), std::sync::Arc::new(prog));
    }
    // freplace programs without a target are left out (and listed), so the rest of
    // the object, often the very program they replace, still loads.
    let not_loaded: Vec<String> = spec
        .programs
        .iter()
        .filter(|(n, p)| {
            p.program_type == ebpf::ProgramType::Ext && !opts.attach_programs.contains_key(*n)
        })
        .map(|(n, _)| n.clone())
        .collect();
    opts.skip_programs.extend(not_loaded.iter().cloned());
    let mut coll = Collection::load(&spec, opts).map_err(|e| match e.verifier() {
        Some(v) => format!("load {path}: {e}\n{v}"),
        None => format!("load {path}: {e}"),
    })?;

    if let Some(dir) = pin {
        let dir = Path::new(dir);
        for sub in ["maps", "progs"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("create {}: {e}", dir.join(sub).display()))?;
        }
        for (name, map) in &mut coll.maps {
            let p = dir.join("maps").join(name.trim_start_matches('.'));
            map.pin(&p).map_err(|e| format!("pin map {name}: {e}"))?;
        }
        for (name, prog) in &mut coll.programs {
            let p = dir.join("progs").join(name);
            prog.pin(&p)
                .map_err(|e| format!("pin program {name}: {e}"))?;
        }
    }

    let mut maps = Vec::new();
    for (name, map) in &coll.maps {
        let id = map.id().map_err(|e| format!("map {name}: {e}"))?;
        maps.push((id, name.clone(), map.map_type().to_string()));
    }
    let mut progs = Vec::new();
    for (name, prog) in &coll.programs {
        let id = prog.id().map_err(|e| format!("program {name}: {e}"))?;
        progs.push((id, name.clone(), prog.program_type().to_string()));
    }
    let mut out = String::new();
    if json {
        let list = |v: &[(u32, String, String)]| {
            Json::Array(
                v.iter()
                    .map(|(id, n, t)| {
                        Json::object()
                            .with("id", *id)
                            .with("name", n.as_str())
                            .with("type", t.as_str())
                    })
                    .collect(),
            )
        };
        let _ = writeln!(
            out,
            "{}",
            Json::object()
                .with("maps", list(&maps))
                .with("programs", list(&progs))
                .with(
                    "not_loaded",
                    Json::Array(not_loaded.iter().map(|n| n.as_str().into()).collect()),
                )
                .with("pinned", pin.map(str::to_owned))
        );
    } else {
        for (id, n, t) in &maps {
            let _ = writeln!(out, "map {id}: {n} ({t})");
        }
        for (id, n, t) in &progs {
            let _ = writeln!(out, "program {id}: {n} ({t})");
        }
        for n in &not_loaded {
            let _ = writeln!(
                out,
                "not loaded {n}: freplace needs its target (--attach-prog {n}=TARGET)"
            );
        }
        match pin {
            Some(dir) => {
                let _ = writeln!(out, "pinned under {dir}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "loaded; everything is released on exit (use --pin DIR to keep it)"
                );
            }
        }
    }
    Ok(out)
}
