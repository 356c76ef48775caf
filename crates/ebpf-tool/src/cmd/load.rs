//! `ebpf-tool load OBJECT.o [--pin DIR] [--target BTF] [--json]`: load an
//! object into the kernel and report each map and program created (id, name,
//! type), or the verifier error. With --pin the objects stay loaded, pinned
//! under DIR (a bpffs directory) as `maps/NAME` and `progs/NAME`.

use std::fmt::Write as _;
use std::path::Path;

use ebpf::{Collection, CollectionOptions};
use ebpf_spec::CollectionSpec;

use crate::Result;
use crate::json::Json;

/// Runs the command.
pub fn run(path: &str, pin: Option<&str>, target: Option<&str>, json: bool) -> Result<String> {
    let spec = CollectionSpec::from_file(path).map_err(|e| format!("{path}: {e}"))?;
    let mut opts = CollectionOptions::default();
    if let Some(t) = target {
        opts.kernel_btf = Some(super::btf::load(t)?);
    }
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
                .with("pinned", pin.map(str::to_owned))
        );
    } else {
        for (id, n, t) in &maps {
            let _ = writeln!(out, "map {id}: {n} ({t})");
        }
        for (id, n, t) in &progs {
            let _ = writeln!(out, "program {id}: {n} ({t})");
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
