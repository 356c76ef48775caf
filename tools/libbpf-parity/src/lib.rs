//! libbpf parity on real objects: the BPF programs of the kernel's selftests
//! (built by `cargo xtask selftests --kernel 6.1|6.12` into
//! `target/selftests/<series>/obj`), opened and loaded by libbpf 1.7
//! (libbpf-sys) and by ebpf-rs, object by object, on the running kernel.
//!
//! For each object:
//!
//! 1. **Open.** libbpf's `bpf_object__open_file` against our
//!    `CollectionSpec::from_file`, then their program and map counts
//!    ([`Counts`], normalised as [`our_counts`] explains).
//! 2. **Load.** When both opened: `bpf_object__load` against
//!    `Collection::load`, with the programs the object marks to load.
//! 3. **Each program alone.** When either load failed, or the object has
//!    programs marked not to load (`SEC("?...")`, as the verifier tests do),
//!    each program is loaded on its own, as libbpf's test loader does (the
//!    object opened again, only that program set to load), on both sides.
//!
//! Maps pinned by name go to a fresh directory in a private bpffs on both
//! sides. A `test_core_reloc_NAME` object is also loaded against each
//! `btf__core_reloc_NAME*` object's BTF as the CO-RE target (libbpf's
//! `btf_custom_path`, our `core_btf`).
//!
//! A [`Gap`] is something libbpf does that we do not; the test fails on every
//! gap not on the allow-list in `docs/TESTING.md` ([`allow`]).

pub mod allow;
pub mod libbpf;
pub mod ours;
pub mod report;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use ebpf::CollectionSpec;

/// One thing to open and load: an object, with a CO-RE target or not.
#[derive(Debug, Clone)]
pub struct Target {
    /// The row name: the file name, then ` @ CORE_TARGET` for a CO-RE variant.
    pub name: String,
    /// The object file.
    pub path: PathBuf,
    /// The object whose BTF is the CO-RE target.
    pub core_btf: Option<PathBuf>,
}

/// Program and map counts, in libbpf's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Programs (subprograms not counted), whether or not they load by default.
    pub programs: usize,
    /// Maps, global data (`.data*`, `.rodata*`, `.bss`), `.kconfig`, struct_ops
    /// and arena maps included, inner map templates not.
    pub maps: usize,
}

/// What one library made of one target.
#[derive(Debug, Default)]
pub struct Side {
    /// The counts, or why it did not open.
    pub open: Option<Result<Counts, String>>,
    /// The load of the programs marked to load (when both sides opened).
    pub load: Option<Result<(), String>>,
    /// Each program loaded on its own, by name (when that pass ran).
    pub alone: BTreeMap<String, Result<(), String>>,
}

impl Side {
    fn opened(&self) -> bool {
        matches!(self.open, Some(Ok(_)))
    }

    fn loaded(&self) -> bool {
        matches!(self.load, Some(Ok(())))
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct Row {
    /// The target's name.
    pub name: String,
    /// libbpf's results.
    pub libbpf: Side,
    /// Ours.
    pub ours: Side,
    /// How long the row took, both sides.
    pub elapsed: std::time::Duration,
}

/// Something libbpf does that we do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// libbpf opens the object; we do not (our error).
    Open(String),
    /// Both open, with different counts (libbpf's, ours).
    Counts(Counts, Counts),
    /// libbpf loads the object; we do not (our error).
    Load(String),
    /// libbpf loads this program on its own; we do not (our error).
    Program(String, String),
}

impl Gap {
    /// The allow-list's word for the kind of gap (`open` covers counts, `load` programs).
    pub fn kind(&self) -> &'static str {
        match self {
            Gap::Open(_) | Gap::Counts(..) => "open",
            Gap::Load(_) | Gap::Program(..) => "load",
        }
    }
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gap::Open(e) => write!(f, "libbpf opens it, we do not: {e}"),
            Gap::Counts(l, o) => write!(
                f,
                "libbpf counts {} programs and {} maps, we count {} and {}",
                l.programs, l.maps, o.programs, o.maps
            ),
            Gap::Load(e) => write!(f, "libbpf loads it, we do not: {e}"),
            Gap::Program(p, e) => write!(f, "libbpf loads program '{p}' alone, we do not: {e}"),
        }
    }
}

impl Row {
    /// What libbpf does here that we do not.
    pub fn gaps(&self) -> Vec<Gap> {
        let (l, o) = (&self.libbpf, &self.ours);
        let mut gaps = Vec::new();
        match (&l.open, &o.open) {
            (Some(Ok(_)), Some(Err(e))) => gaps.push(Gap::Open(e.clone())),
            (Some(Ok(lc)), Some(Ok(oc))) if lc != oc => gaps.push(Gap::Counts(*lc, *oc)),
            _ => {}
        }
        if l.loaded() && !o.loaded() {
            if let Some(Err(e)) = &o.load {
                gaps.push(Gap::Load(e.clone()));
            }
        }
        for (name, verdict) in &l.alone {
            if verdict.is_ok() {
                if let Some(Err(e)) = o.alone.get(name) {
                    gaps.push(Gap::Program(name.clone(), e.clone()));
                }
            }
        }
        gaps
    }

    /// What we do here that libbpf does not (not a failure).
    pub fn ahead(&self) -> Vec<String> {
        let (l, o) = (&self.libbpf, &self.ours);
        let mut out = Vec::new();
        if let (true, Some(Err(e))) = (o.opened(), &l.open) {
            out.push(format!("we open it, libbpf does not: {e}"));
        }
        if let (true, Some(Err(e))) = (o.loaded(), &l.load) {
            out.push(format!("we load it, libbpf does not: {e}"));
        }
        for (name, verdict) in &o.alone {
            if let (true, Some(Err(e))) = (verdict.is_ok(), l.alone.get(name)) {
                out.push(format!(
                    "we load program '{name}' alone, libbpf does not: {e}"
                ));
            }
        }
        out
    }
}

/// Our counts in libbpf's terms. Our spec lists the same programs (entry
/// points, `?` ones included) and the same maps (global data sections,
/// `.kconfig`, struct_ops variables and arenas each as one map, inner map
/// templates inside their outer map).
pub fn our_counts(spec: &CollectionSpec) -> Counts {
    Counts {
        programs: spec.programs.len(),
        maps: spec.maps.len(),
    }
}

/// The objects in `dir` (`*.o`), and a CO-RE variant of each
/// `test_core_reloc_NAME.bpf.o` per `btf__core_reloc_NAME*.bpf.o`.
pub fn targets(dir: &Path) -> Result<Vec<Target>, String> {
    let mut files: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".o"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in &files {
        out.push(Target {
            name: file.clone(),
            path: dir.join(file),
            core_btf: None,
        });
        let Some(base) = file
            .strip_prefix("test_core_reloc_")
            .and_then(|b| b.strip_suffix(".bpf.o"))
        else {
            continue;
        };
        // Both bitfield tests read the same target types.
        let base = match base {
            "bitfields_direct" | "bitfields_probed" => "bitfields",
            b => b,
        };
        let prefix = format!("btf__core_reloc_{base}");
        for btf in &files {
            let Some(rest) = btf.strip_prefix(&prefix) else {
                continue;
            };
            if rest == ".bpf.o" || rest.starts_with("___") {
                out.push(Target {
                    name: format!("{file} @ {}", btf.trim_end_matches(".bpf.o")),
                    path: dir.join(file),
                    core_btf: Some(dir.join(btf)),
                });
            }
        }
    }
    Ok(out)
}

/// A fresh directory for one load's pins under the bpffs at `root`, emptied
/// and removed on drop.
#[derive(Debug)]
struct PinDir(PathBuf);

impl PinDir {
    fn new(root: &Path, n: usize) -> Result<PinDir, String> {
        let dir = root.join(format!("load{n}"));
        fs::create_dir(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        Ok(PinDir(dir))
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        if let Ok(entries) = fs::read_dir(&self.0) {
            for e in entries.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
        let _ = fs::remove_dir(&self.0);
    }
}

/// Runs the comparison on every target, with pins under the bpffs `pin_root`.
#[derive(Debug)]
pub struct Sweep<'a> {
    pin_root: &'a Path,
    loads: usize,
}

impl<'a> Sweep<'a> {
    /// A sweep pinning under `pin_root` (a bpffs mount).
    pub fn new(pin_root: &'a Path) -> Sweep<'a> {
        libbpf::capture_output();
        Sweep { pin_root, loads: 0 }
    }

    fn pin_dir(&mut self) -> Result<PinDir, String> {
        self.loads += 1;
        PinDir::new(self.pin_root, self.loads)
    }

    /// libbpf opens `t` (with a pin root and its CO-RE target).
    fn libbpf_open(t: &Target, pins: &Path) -> Result<libbpf::Object, String> {
        libbpf::Object::open(
            &t.path,
            libbpf::OpenOptions {
                pin_root: Some(pins),
                core_btf: t.core_btf.as_deref(),
            },
        )
    }

    /// Compares one target.
    pub fn row(&mut self, t: &Target) -> Result<Row, String> {
        let started = std::time::Instant::now();
        let mut row = self.compare(t)?;
        row.elapsed = started.elapsed();
        Ok(row)
    }

    fn compare(&mut self, t: &Target) -> Result<Row, String> {
        let mut row = Row {
            name: t.name.clone(),
            libbpf: Side::default(),
            ours: Side::default(),
            elapsed: std::time::Duration::ZERO,
        };
        let pins = self.pin_dir()?;
        let lib = Self::libbpf_open(t, &pins.0);
        let spec = ours::open(&t.path);
        let core_btf = match &t.core_btf {
            Some(p) => Some(ours::core_btf(p)?),
            None => None,
        };
        row.libbpf.open = Some(lib.as_ref().map_err(Clone::clone).map(|o| Counts {
            programs: o.program_names().len(),
            maps: o.map_names().len(),
        }));
        row.ours.open = Some(spec.as_ref().map_err(Clone::clone).map(our_counts));
        let (Ok(lib), Ok(spec)) = (lib, spec) else {
            return Ok(row);
        };
        let names = lib.program_names();
        row.libbpf.load = Some(lib.load());
        drop(lib);
        drop(pins);
        let pins = self.pin_dir()?;
        row.ours.load = Some(ours::load(&spec, None, Some(&pins.0), core_btf.clone()));
        drop(pins);

        let autoload: Vec<&String> = spec
            .programs
            .iter()
            .filter_map(|(name, p)| p.autoload.then_some(name))
            .collect();
        if autoload.len() == spec.programs.len() && row.libbpf.loaded() && row.ours.loaded() {
            return Ok(row);
        }
        for name in names {
            // The one program the object loads: alone is what was just loaded (some take
            // the verifier a minute to refuse).
            if let ([only], Some(l), Some(o)) = (&autoload[..], &row.libbpf.load, &row.ours.load) {
                if **only == name {
                    row.libbpf.alone.insert(name.clone(), l.clone());
                    row.ours.alone.insert(name, o.clone());
                    continue;
                }
            }
            let pins = self.pin_dir()?;
            let verdict = Self::libbpf_open(t, &pins.0).and_then(|o| {
                o.only(&name);
                o.load()
            });
            row.libbpf.alone.insert(name.clone(), verdict);
            drop(pins);
            if spec.programs.contains_key(&name) {
                let pins = self.pin_dir()?;
                let verdict = ours::load(&spec, Some(&name), Some(&pins.0), core_btf.clone());
                row.ours.alone.insert(name, verdict);
            }
        }
        Ok(row)
    }
}
