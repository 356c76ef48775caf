//! ELF: opening every committed fixture.

use std::hint::black_box;
use std::path::Path;

use crate::Ctx;
use crate::measure::{Op, interleaved};
use crate::peers::{aya, libbpf};
use crate::report::{Row, Unit};

pub fn run(ctx: &Ctx) -> Vec<Row> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    fixtures.retain(|p: &std::path::PathBuf| p.to_string_lossy().ends_with("-el.o"));
    fixtures.sort();
    let mut rows = Vec::new();
    if let Some(r) = same_code_baseline(ctx, &fixtures) {
        rows.push(r);
    }
    for path in fixtures {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("elf_open_{}", stem.trim_end_matches("-el"));
        if !ctx.wants(&name) {
            continue;
        }
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        let data = &data;
        let ours_ok = ebpf_spec::CollectionSpec::from_elf(data).is_ok();
        let lb_ok = libbpf::open_object(data);
        let aya_ok = aya::open_object(data);
        let mut ops: Vec<Option<Op<'_>>> = vec![
            ours_ok.then(|| {
                Box::new(move || {
                    black_box(ebpf_spec::CollectionSpec::from_elf(data).ok());
                }) as Op<'_>
            }),
            lb_ok.then(|| {
                Box::new(move || {
                    black_box(libbpf::open_object(data));
                }) as Op<'_>
            }),
            aya_ok.then(|| {
                Box::new(move || {
                    black_box(aya::open_object(data));
                }) as Op<'_>
            }),
        ];
        let secs = interleaved(&mut ops, ctx.budget);
        rows.push(Row {
            name,
            ours: secs[0].map(|s| Unit::Nanos.convert_secs_per_op(s)),
            libbpf: secs[1].map(|s| Unit::Nanos.convert_secs_per_op(s)),
            aya: secs[2].map(|s| Unit::Nanos.convert_secs_per_op(s)),
            unit: Unit::Nanos,
            spread: secs.spread_vs(1),
            aya_spread: secs.spread_vs(2),
        });
    }
    rows
}

/// The same code in the "ours" and "libbpf" columns (our open of the syscount fixture):
/// its ratio's distance from 1.0 is the noise of the in-process CPU-bound rows.
fn same_code_baseline(ctx: &Ctx, fixtures: &[std::path::PathBuf]) -> Option<Row> {
    let name = "baseline_same_code_open";
    if !ctx.wants(name) {
        return None;
    }
    let path = fixtures
        .iter()
        .find(|p| p.to_string_lossy().ends_with("syscount-el.o"))?;
    let data = std::fs::read(path).ok()?;
    let data = &data;
    let same = move || {
        black_box(ebpf_spec::CollectionSpec::from_elf(data).ok());
    };
    let mut ops: Vec<Option<Op<'_>>> = vec![Some(Box::new(same)), Some(Box::new(same))];
    let secs = interleaved(&mut ops, ctx.budget);
    Some(Row {
        name: name.to_owned(),
        ours: secs[0].map(|s| Unit::Nanos.convert_secs_per_op(s)),
        libbpf: secs[1].map(|s| Unit::Nanos.convert_secs_per_op(s)),
        aya: None,
        unit: Unit::Nanos,
        spread: secs.spread_vs(1),
        aya_spread: None,
    })
}
