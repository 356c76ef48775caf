//! CO-RE relocation of `bench_core-el.o` (50 relocations on task_struct,
//! sched_entity and sk_buff in two raw_tp programs) against the running
//! kernel's BTF, and its open+load end to end.
//!
//! What each side caches:
//! - libbpf has no relocation step of its own and no way to share a parsed
//!   kernel BTF between objects: every `bpf_object__prepare`/`__load` parses
//!   vmlinux again (and loads the object's BTF, creates its map).
//! - ebpf-rs parses vmlinux once per process (`KernelBtf::shared`) unless a
//!   kernel `Spec` is passed in `CollectionOptions::core_btf`; the `_kbtf_cached`
//!   row uses the default, the `_kbtf_parsed_each` row passes a fresh parse
//!   every time (libbpf's behaviour).
//! - aya-obj relocates an already-parsed object against a `Btf` it is given.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use ebpf::{Collection, CollectionOptions};
use ebpf_asm::Instructions;
use ebpf_btf::core::Relocator;
use ebpf_btf::{CoreRelo, Spec};
use ebpf_spec::CollectionSpec;

use crate::Ctx;
use crate::measure::{Op, Timings, interleaved};
use crate::peers::{aya, libbpf};
use crate::report::{Row, Unit};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// The fixture's path.
pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

/// A program's instructions and its CO-RE relocations, with `insn_off`
/// relative to the program's start (as `ebpf-tool core` collects them).
#[derive(Debug, Clone)]
pub struct CoreProgram {
    /// The unrelocated instructions.
    pub insns: Instructions,
    /// The relocations.
    pub relos: Vec<CoreRelo>,
}

/// The CO-RE programs of `spec`.
pub fn core_programs(spec: &CollectionSpec) -> Vec<CoreProgram> {
    spec.programs
        .values()
        .map(|p| CoreProgram {
            insns: p.instructions.clone(),
            relos: p
                .instructions
                .iter_offsets()
                .filter_map(|(slot, ins)| {
                    ins.metadata.get::<CoreRelo>().map(|r| CoreRelo {
                        insn_off: u32::try_from(slot * ebpf_asm::SLOT_SIZE).unwrap_or(u32::MAX),
                        ..r.clone()
                    })
                })
                .collect(),
        })
        .filter(|p| !p.relos.is_empty())
        .collect()
}

/// Relocates copies of every program against `kernel`; returns the number of
/// fixups (0 on error).
pub fn relocate_all(local: &Spec, progs: &[CoreProgram], kernel: &Spec) -> usize {
    let targets = [kernel];
    let mut relocator = Relocator::new(local, &targets);
    let mut n = 0;
    for p in progs {
        let mut insns = p.insns.clone();
        match relocator.relocate(&mut insns, &p.relos) {
            Ok(f) => n += f.len(),
            Err(_) => return 0,
        }
        black_box(&insns);
    }
    n
}

/// `CollectionSpec::from_elf` + `Collection::load` + drop (close).
pub fn ours_open_load(data: &[u8], opts: impl Fn() -> CollectionOptions) -> bool {
    let Ok(spec) = CollectionSpec::from_elf(data) else {
        return false;
    };
    Collection::load(&spec, opts()).is_ok()
}

fn row(name: &str, unit: Unit, secs: &Timings) -> Row {
    let conv = |v: Option<f64>| v.map(|s| unit.convert_secs_per_op(s));
    Row {
        name: name.to_owned(),
        ours: conv(secs[0]),
        libbpf: conv(secs.get(1).copied().flatten()),
        aya: conv(secs.get(2).copied().flatten()),
        unit,
        spread: secs.spread_vs(1),
        aya_spread: secs.spread_vs(2),
    }
}

pub fn run(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let names = [
        "core_relocate_shared_kbtf",
        "core_open_relocate_incl_kbtf_parse",
        "core_open_load_e2e_kbtf_cached",
        "core_open_load_e2e_kbtf_parsed_each",
    ];
    if !names.iter().any(|n| ctx.wants(n)) {
        return rows;
    }
    let Ok(data) = std::fs::read(fixture("bench_core-el.o")) else {
        eprintln!("core: testdata/bench_core-el.o unreadable; skipping");
        return rows;
    };
    let data = &data;
    let Ok(spec) = CollectionSpec::from_elf(data) else {
        eprintln!("core: bench_core-el.o does not open; skipping");
        return rows;
    };
    let Some(local) = spec.btf.clone() else {
        return rows;
    };
    let local = &*local;
    let progs = core_programs(&spec);
    let progs = &progs;
    let relos: usize = progs.iter().map(|p| p.relos.len()).sum();
    let kernel = Spec::kernel_shared().ok();
    let aya_kernel = aya::parse_vmlinux();
    let aya_obj = aya::parse_object(data);

    // Check every implementation once; one that fails is left out of the row.
    let ours_ok = kernel
        .as_deref()
        .is_some_and(|k| relocate_all(local, progs, k) == relos);
    if !ours_ok {
        eprintln!("core: our relocation of bench_core failed");
    }
    let aya_ok = match (&aya_obj, &aya_kernel) {
        (Some(o), Some(k)) => aya::relocate(&mut o.clone(), k),
        _ => false,
    };
    if !aya_ok {
        eprintln!("core: aya-obj cannot relocate bench_core; its column is left empty");
    }

    let name = names[0];
    if ctx.wants(name) {
        let pristine = aya_obj.as_ref().map(|o| o.functions.clone());
        let mut aya_work = aya_obj.clone();
        let mut ops: Vec<Option<Op<'_>>> = vec![
            kernel.as_deref().filter(|_| ours_ok).map(|k| {
                Box::new(move || {
                    black_box(relocate_all(local, progs, k));
                }) as Op<'_>
            }),
            None,
            match (aya_ok, aya_work.as_mut(), pristine, aya_kernel.as_ref()) {
                (true, Some(obj), Some(pristine), Some(k)) => Some(Box::new(move || {
                    // Only the functions change: restore them, as ours copies
                    // the instructions it relocates.
                    obj.functions.clone_from(&pristine);
                    black_box(aya::relocate(obj, k));
                }) as Op<'_>),
                _ => None,
            },
        ];
        rows.push(row(name, Unit::Nanos, &interleaved(&mut ops, ctx.budget)));
    }

    let name = names[1];
    if ctx.wants(name) {
        let lb_ok = libbpf::open_prepare(data);
        let mut ops: Vec<Option<Op<'_>>> = vec![
            ours_ok.then(|| {
                Box::new(move || {
                    let Ok(spec) = CollectionSpec::from_elf(data) else {
                        return;
                    };
                    let (Some(local), Ok(kernel)) = (spec.btf.as_deref(), Spec::load_file(VMLINUX))
                    else {
                        return;
                    };
                    black_box(relocate_all(local, &core_programs(&spec), &kernel));
                }) as Op<'_>
            }),
            lb_ok.then(|| {
                Box::new(move || {
                    black_box(libbpf::open_prepare(data));
                }) as Op<'_>
            }),
            aya_ok.then(|| {
                Box::new(move || {
                    let (Some(mut obj), Some(k)) = (aya::parse_object(data), aya::parse_vmlinux())
                    else {
                        return;
                    };
                    black_box(aya::relocate(&mut obj, &k));
                }) as Op<'_>
            }),
        ];
        rows.push(row(name, Unit::Millis, &interleaved(&mut ops, ctx.budget)));
    }

    let lb_load_ok = (ctx.wants(names[2]) || ctx.wants(names[3])) && libbpf::open_load(data);
    let cached = || CollectionOptions::default();
    let parsed_each = || CollectionOptions {
        core_btf: Spec::load_file(VMLINUX).ok().map(Arc::new),
        ..CollectionOptions::default()
    };
    for (name, opts) in [
        (names[2], &cached as &dyn Fn() -> CollectionOptions),
        (names[3], &parsed_each),
    ] {
        if !ctx.wants(name) {
            continue;
        }
        let ok = match ours_open_load(data, opts) {
            true => true,
            false => {
                if let Err(e) = Collection::load(&spec, opts()) {
                    eprintln!("core: {name}: our load failed: {}", ebpf::ErrorChain(&e));
                }
                false
            }
        };
        let mut ops: Vec<Option<Op<'_>>> = vec![
            ok.then(|| {
                Box::new(move || {
                    black_box(ours_open_load(data, opts));
                }) as Op<'_>
            }),
            lb_load_ok.then(|| {
                Box::new(move || {
                    black_box(libbpf::open_load(data));
                }) as Op<'_>
            }),
            None,
        ];
        rows.push(row(name, Unit::Millis, &interleaved(&mut ops, ctx.budget)));
    }
    rows
}
