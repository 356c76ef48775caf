//! Open+load of plain objects (no CO-RE): ELF parse, map creation, program
//! loads and close, ours (`CollectionSpec::from_elf` + `Collection::load` +
//! drop) against libbpf (`bpf_object__open_mem` + `__load` + `__close`).
//! Kernel feature probes are cached per process on both sides.

use std::hint::black_box;

use ebpf::{Collection, CollectionOptions};
use ebpf_spec::CollectionSpec;

use super::co_re::{fixture, ours_open_load};
use crate::Ctx;
use crate::measure::{Op, interleaved};
use crate::peers::libbpf;
use crate::report::{Row, Unit};

pub fn run(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    for stem in ["syscount", "isa"] {
        let name = format!("open_load_{stem}");
        if !ctx.wants(&name) {
            continue;
        }
        let Ok(data) = std::fs::read(fixture(&format!("{stem}-el.o"))) else {
            continue;
        };
        let data = &data;
        let ours_ok = ours_open_load(data, CollectionOptions::default);
        if !ours_ok {
            if let Ok(spec) = CollectionSpec::from_elf(data) {
                if let Err(e) = Collection::load(&spec, CollectionOptions::default()) {
                    eprintln!("load: {stem}: our load failed: {e}");
                }
            }
        }
        let lb_ok = libbpf::open_load(data);
        if !lb_ok {
            eprintln!("load: {stem}: libbpf's load failed");
        }
        let mut ops: Vec<Option<Op<'_>>> = vec![
            ours_ok.then(|| {
                Box::new(move || {
                    black_box(ours_open_load(data, CollectionOptions::default));
                }) as Op<'_>
            }),
            lb_ok.then(|| {
                Box::new(move || {
                    black_box(libbpf::open_load(data));
                }) as Op<'_>
            }),
        ];
        let secs = interleaved(&mut ops, ctx.budget);
        rows.push(Row {
            name,
            ours: secs[0].map(|s| Unit::Millis.convert_secs_per_op(s)),
            libbpf: secs[1].map(|s| Unit::Millis.convert_secs_per_op(s)),
            aya: None,
            unit: Unit::Millis,
            spread: secs.spread_vs(1),
            aya_spread: None,
        });
    }
    rows
}
