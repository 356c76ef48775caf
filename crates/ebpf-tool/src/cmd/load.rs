//! `ebpf-tool load OBJECT.o [--pin DIR] [--target BTF] [--attach-prog P=T]... [--log] [--json]`:
//! load an object into the kernel and report each map and program created (id, name,
//! type), or the verifier error: the end of its log, or the whole log with --log
//! (which also prints the log of each program that loaded). With --pin the objects stay loaded, pinned
//! under DIR (a bpffs directory) as `maps/NAME` and `progs/NAME`. A freplace program
//! needs `--attach-prog NAME=TARGET`, TARGET being the id or pinned path of the
//! loaded program whose function it replaces.

use std::fmt::Write as _;
use std::path::Path;

use ebpf::pin::{PinGuard, check_dir, join_name};
use ebpf::{Collection, CollectionOptions};

use anyhow::Context as _;

use crate::Result;
use serde_json::json;

/// Options of `load`.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions<'a> {
    /// Pin under this bpffs directory.
    pub pin: Option<&'a str>,
    /// Apply CO-RE against this BTF file.
    pub target: Option<&'a str>,
    /// `PROGRAM=TARGET` of each freplace program.
    pub attach_progs: &'a [String],
    /// Print whole verifier logs.
    pub log: bool,
    /// Print JSON.
    pub json: bool,
}

/// The whole of `log`, saying first if the kernel cut its beginning.
fn whole_log(log: &ebpf::VerifierLog) -> String {
    if log.is_empty() {
        return "(the kernel wrote no log)".to_owned();
    }
    let text = log.as_str().trim_end();
    if log.is_truncated() {
        format!("(log truncated: its beginning did not fit)\n{text}")
    } else {
        text.to_owned()
    }
}

/// `e` with the whole verifier log in place of the end its message shows: the
/// log is the message's last part (the innermost cause), after its first line.
fn with_whole_log(e: &anyhow::Error, log: &ebpf::VerifierLog) -> anyhow::Error {
    let text = format!("{e:#}");
    let first = text
        .split_once('\n')
        .map_or(text.as_str(), |(first, _)| first);
    anyhow::anyhow!("{first}\n{}", whole_log(log))
}

/// Runs the command.
pub fn run(path: &str, o: &LoadOptions<'_>) -> Result<String> {
    let LoadOptions {
        pin,
        target,
        attach_progs,
        log,
        json,
    } = *o;
    let spec = super::open_object(path)?;
    let mut opts = CollectionOptions::default();
    if log {
        // As `bpftool prog load -d`: every instruction with its state, and statistics.
        opts.log_level =
            ebpf::LogLevel::BRANCH | ebpf::LogLevel::INSTRUCTION | ebpf::LogLevel::STATS;
    }
    if let Some(t) = target {
        opts.core_btf = Some(super::btf::load(t)?);
    }
    for arg in attach_progs {
        let (name, what) = arg
            .split_once('=')
            .with_context(|| format!("--attach-prog {arg}: expected PROGRAM=TARGET"))?;
        if !spec.programs.contains_key(name) {
            anyhow::bail!("--attach-prog {arg}: {path} has no program '{name}'");
        }
        let prog =
            super::objects::open_prog(what).with_context(|| format!("--attach-prog {arg}"))?;
        opts.attach_programs
            .insert(name.to_owned(), std::sync::Arc::new(prog));
    }
    // freplace programs without a target are left out (and listed), so the rest of
    // the object, often the very program they replace, still loads.
    let not_loaded: Vec<String> = spec
        .programs
        .iter()
        .filter(|(n, p)| {
            p.program_type == ebpf::ProgramType::EXT && !opts.attach_programs.contains_key(*n)
        })
        .map(|(n, _)| n.clone())
        .collect();
    opts.skip_programs.extend(not_loaded.iter().cloned());
    // A verifier rejection prints its log once, as the cause's last part.
    let mut coll = match Collection::load(&spec, opts) {
        Ok(coll) => coll,
        Err(e) => {
            let whole = e.verifier().filter(|_| log).map(|v| v.log.clone());
            let e = anyhow::Error::new(e).context(format!("load {path}"));
            return Err(match whole {
                Some(whole) => with_whole_log(&e, &whole),
                None => e,
            });
        }
    };

    if let Some(dir) = pin {
        pin_all(&mut coll, Path::new(dir))?;
    }

    let mut maps = Vec::new();
    for (name, map) in &coll.maps {
        let id = map.id().with_context(|| format!("map {name}"))?;
        maps.push((id, name.clone(), map.map_type().to_string()));
    }
    let mut progs = Vec::new();
    let mut logs = Vec::new();
    for (name, prog) in &coll.programs {
        let id = prog.id().with_context(|| format!("program {name}"))?;
        progs.push((id, name.clone(), prog.program_type().to_string()));
        if log {
            let text = prog
                .verifier_log()
                .map_or_else(|| "(the kernel wrote no log)".to_owned(), whole_log);
            logs.push((name.clone(), text));
        }
    }
    let mut out = String::new();
    if json {
        let list = |v: &[(u32, String, String)]| {
            v.iter()
                .map(|(id, n, t)| json!({ "id": id, "name": n, "type": t }))
                .collect::<Vec<_>>()
        };
        let mut obj = json!({
            "maps": list(&maps),
            "programs": list(&progs),
            "not_loaded": not_loaded,
            "pinned": pin,
        });
        if log {
            obj["verifier_logs"] = logs
                .iter()
                .map(|(n, text)| (n.clone(), json!(text)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        let _ = writeln!(out, "{obj}");
    } else {
        for (id, n, t) in &maps {
            let _ = writeln!(out, "map {id}: {n} ({t})");
        }
        for (id, n, t) in &progs {
            let _ = writeln!(out, "program {id}: {n} ({t})");
        }
        for (n, text) in &logs {
            let _ = writeln!(out, "verifier log of program {n}:\n{text}");
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

/// The file name of map `name`'s pin: global data maps (`.rodata`, `.bss`,
/// `.data.foo`, `.kconfig`) lose their one leading dot.
fn map_pin_name(name: &str) -> &str {
    name.strip_prefix('.').unwrap_or(name)
}

/// Pins every map under `DIR/maps` and every program under `DIR/progs`.
///
/// The names come from the object's symbols, so each must be one path
/// component (checked before anything is created), and `dir` must be on a
/// bpffs (checked before it or its subdirectories are created). If any step
/// fails, every pin and directory made here is removed again.
fn pin_all(coll: &mut Collection, dir: &Path) -> Result<()> {
    let (maps, progs) = (dir.join("maps"), dir.join("progs"));
    let mut map_paths = Vec::new();
    for name in coll.maps.keys() {
        let path =
            join_name(&maps, map_pin_name(name)).with_context(|| format!("pin map {name}"))?;
        map_paths.push(path);
    }
    let mut prog_paths = Vec::new();
    for name in coll.programs.keys() {
        let path = join_name(&progs, name).with_context(|| format!("pin program {name}"))?;
        prog_paths.push(path);
    }
    check_dir(dir).context("--pin")?;
    let mut guard = PinGuard::new();
    for sub in [&maps, &progs] {
        guard.create_dir_all(sub).context("--pin")?;
    }
    // The errors name the map or program and the path.
    for (map, path) in coll.maps.values_mut().zip(map_paths) {
        map.pin(&path)?;
        guard.record(path);
    }
    for (prog, path) in coll.programs.values_mut().zip(prog_paths) {
        prog.pin(&path)?;
        guard.record(path);
    }
    guard.keep();
    Ok(())
}
