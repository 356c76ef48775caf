//! Corpus: opening every object of a directory of real objects — the kernel's BPF
//! selftests that `cargo xtask selftests` builds (`target/selftests/*/obj/*.o`), or the
//! directory named by `EBPF_BENCH_CORPUS` — in total, and against each object's size,
//! instruction count and relocation count (the fitted exponent of a power law: about 1.0
//! means linear, well above it a super-linear step). Skipped with a message when there is
//! no corpus.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use goblin::elf::Elf;

use crate::Ctx;
use crate::measure::{Budget, Op, interleaved};
use crate::peers::{aya, libbpf};
use crate::report::{Row, Unit};

/// The corpus's objects, sorted.
fn corpus_objects() -> (String, Vec<PathBuf>) {
    let dirs: Vec<PathBuf> = match std::env::var_os("EBPF_BENCH_CORPUS") {
        Some(d) => vec![PathBuf::from(d)],
        None => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/selftests");
            std::fs::read_dir(&root)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| e.path().join("obj"))
                        .collect()
                })
                .unwrap_or_default()
        }
    };
    let what = dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut out: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|d| d.filter_map(Result::ok).map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    out.sort();
    (what, out)
}

/// One object both ours and libbpf open, with its measures.
struct Object {
    path: PathBuf,
    name: String,
    data: Vec<u8>,
    insns: usize,
    relocs: usize,
}

/// One of an object's measures (size, instructions, relocations).
type Measure = fn(&Object) -> usize;

/// Relocation entries of all the object's relocation sections.
fn relocation_count(data: &[u8]) -> usize {
    Elf::parse(data).map_or(0, |e| e.shdr_relocs.iter().map(|(_, r)| r.len()).sum())
}

/// The least-squares slope of `ln y` against `ln x` over the points with both positive.
fn exponent(points: &[(f64, f64)]) -> Option<f64> {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if logs.len() < 3 {
        return None;
    }
    let n = logs.len() as f64;
    let (mx, my) = logs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = logs.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    (sxx > 0.0).then(|| sxy / sxx)
}

/// The RSS child's operation on a corpus object: `corpus:PATH`.
const RSS_PREFIX: &str = "corpus:";

/// Whether `what` names a corpus object for the RSS child.
pub fn is_rss_op(what: &str) -> bool {
    what.starts_with(RSS_PREFIX)
}

/// The bytes of the object `what` names.
pub fn rss_input(what: &str) -> Option<Vec<u8>> {
    std::fs::read(what.strip_prefix(RSS_PREFIX)?).ok()
}

/// Opens `data` with `imp`; ours keeps the spec (the peak counts what the others freed).
pub fn rss_op(imp: &str, data: &[u8]) -> Option<Box<dyn std::any::Any>> {
    match imp {
        "ours" => ebpf_spec::CollectionSpec::from_elf(data)
            .ok()
            .map(|s| Box::new(s) as Box<dyn std::any::Any>),
        "libbpf" => libbpf::open_object(data).then(|| Box::new(()) as Box<dyn std::any::Any>),
        "aya" => aya::parse_object(data).map(|o| Box::new(o) as Box<dyn std::any::Any>),
        _ => None,
    }
}

pub fn run(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let names = [
        "corpus_open_total",
        "corpus_open_largest",
        "corpus_open_largest_peak_rss_growth",
        "corpus_open_exponent_vs_bytes",
        "corpus_open_exponent_vs_insns",
        "corpus_open_exponent_vs_relocs",
    ];
    if !names.iter().any(|n| ctx.wants(n)) {
        return rows;
    }
    let (dirs, paths) = corpus_objects();
    if paths.is_empty() {
        eprintln!(
            "corpus: no objects in {}; run `cargo xtask selftests` or set EBPF_BENCH_CORPUS \
             to a directory of .o files; skipping",
            if dirs.is_empty() {
                "target/selftests/*/obj"
            } else {
                &dirs
            }
        );
        return rows;
    }
    let mut objects = Vec::new();
    let mut skipped = 0usize;
    for p in &paths {
        let Ok(data) = std::fs::read(p) else {
            skipped += 1;
            continue;
        };
        let Ok(spec) = ebpf_spec::CollectionSpec::from_elf(&data) else {
            skipped += 1;
            continue;
        };
        if !libbpf::open_object(&data) {
            skipped += 1;
            continue;
        }
        let insns = spec.programs.values().map(|p| p.instructions.len()).sum();
        let relocs = relocation_count(&data);
        objects.push(Object {
            path: p.clone(),
            name: p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            data,
            insns,
            relocs,
        });
    }
    eprintln!(
        "corpus: {} objects both ours and libbpf open ({skipped} of {} left out)",
        objects.len(),
        paths.len()
    );
    if objects.is_empty() {
        return rows;
    }
    // A short sample per object: the corpus has hundreds.
    // A fixed number of rounds: only the sum of the medians is reported.
    let budget = Budget {
        sample: ctx.budget.sample / 10,
        rounds: ctx.budget.rounds,
        max_rounds: ctx.budget.rounds,
    };
    let mut totals = [0.0f64; 3];
    let mut aya_all = true;
    let mut timed: Vec<(&Object, f64, f64)> = Vec::with_capacity(objects.len());
    for o in &objects {
        let data = &o.data;
        let aya_ok = aya::open_object(data);
        aya_all &= aya_ok;
        let mut ops: Vec<Option<Op<'_>>> = vec![
            Some(Box::new(move || {
                black_box(ebpf_spec::CollectionSpec::from_elf(data).ok());
            })),
            Some(Box::new(move || {
                black_box(libbpf::open_object(data));
            })),
            aya_ok.then(|| {
                Box::new(move || {
                    black_box(aya::open_object(data));
                }) as Op<'_>
            }),
        ];
        let secs = interleaved(&mut ops, budget);
        let (Some(ours), Some(theirs)) = (secs[0], secs[1]) else {
            continue;
        };
        totals[0] += ours;
        totals[1] += theirs;
        totals[2] += secs[2].unwrap_or(0.0);
        timed.push((o, ours, theirs));
    }
    // Where the difference is: the objects that cost us the most time over libbpf.
    let mut excess: Vec<&(&Object, f64, f64)> = timed.iter().collect();
    excess.sort_by(|a, b| (b.1 - b.2).total_cmp(&(a.1 - a.2)));
    for (o, ours, theirs) in excess.iter().take(5) {
        eprintln!(
            "corpus: {}: ours {:.1} µs, libbpf {:.1} µs ({} bytes, {} instructions)",
            o.name,
            ours * 1e6,
            theirs * 1e6,
            o.data.len(),
            o.insns
        );
    }
    let ms = |s: f64| Some(Unit::Millis.convert_secs_per_op(s));
    rows.push(Row {
        name: "corpus_open_total".to_owned(),
        ours: ms(totals[0]),
        libbpf: ms(totals[1]),
        aya: if aya_all { ms(totals[2]) } else { None },
        unit: Unit::Millis,
        spread: None,
        aya_spread: None,
    });
    if let Some(&(largest, ours, theirs)) = timed.iter().max_by_key(|(o, _, _)| o.data.len()) {
        eprintln!(
            "corpus: largest object {} bytes, {} instructions, {} relocations",
            largest.data.len(),
            largest.insns,
            largest.relocs
        );
        rows.push(Row {
            name: "corpus_open_largest".to_owned(),
            ours: ms(ours),
            libbpf: ms(theirs),
            aya: None,
            unit: Unit::Millis,
            spread: None,
            aya_spread: None,
        });
        // Peak memory of opening it, each in a fresh child process.
        let what = format!("{RSS_PREFIX}{}", largest.path.display());
        rows.push(Row {
            name: "corpus_open_largest_peak_rss_growth".to_owned(),
            ours: crate::rss::measure(&what, "ours"),
            libbpf: crate::rss::measure(&what, "libbpf"),
            aya: crate::rss::measure(&what, "aya"),
            unit: Unit::MiB,
            spread: None,
            aya_spread: None,
        });
    }
    let measures: [(&str, Measure); 3] = [
        ("bytes", |o| o.data.len()),
        ("insns", |o| o.insns),
        ("relocs", |o| o.relocs),
    ];
    for (what, measure) in measures {
        let fit = |pick: fn(&(&Object, f64, f64)) -> f64| {
            let points: Vec<(f64, f64)> = timed
                .iter()
                .map(|t| (measure(t.0) as f64, pick(t)))
                .collect();
            exponent(&points)
        };
        rows.push(Row {
            name: format!("corpus_open_exponent_vs_{what}"),
            ours: fit(|t| t.1),
            libbpf: fit(|t| t.2),
            aya: None,
            unit: Unit::Exponent,
            spread: None,
            aya_spread: None,
        });
    }
    rows
}
