//! BTF: parsing the running kernel's vmlinux BTF, and looking names up in it.

use std::ffi::CString;
use std::hint::black_box;

use ebpf_btf::Spec;

use crate::Ctx;
use crate::measure::{Op, Timings, interleaved};
use crate::peers::{aya, libbpf};
use crate::report::{Row, Unit};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn row(name: &str, unit: Unit, secs: &Timings) -> Row {
    let conv = |v: Option<f64>| v.map(|s| unit.convert_secs_per_op(s));
    Row {
        name: name.to_owned(),
        ours: conv(secs[0]),
        libbpf: conv(secs[1]),
        aya: conv(secs[2]),
        unit,
        spread: secs.spread_vs(1),
        aya_spread: secs.spread_vs(2),
    }
}

pub fn rss_op(imp: &str) -> Option<Box<dyn std::any::Any>> {
    match imp {
        // With the name index built: it is part of what a parse costs a user who
        // looks names up, which is nearly every user.
        "ours" => Spec::load_file(VMLINUX).ok().map(|s| {
            s.index_names();
            Box::new(s) as Box<dyn std::any::Any>
        }),
        "libbpf" => libbpf::Btf::parse_raw(VMLINUX).map(|b| Box::new(b) as Box<dyn std::any::Any>),
        "aya" => aya::parse_vmlinux().map(|b| Box::new(b) as Box<dyn std::any::Any>),
        _ => None,
    }
}

pub fn run(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let Ok(data) = std::fs::read(VMLINUX) else {
        eprintln!("btf: {VMLINUX} unreadable; skipping BTF benchmarks");
        return rows;
    };

    let name = "btf_parse_vmlinux_file";
    if ctx.wants(name) {
        let mut ops: Vec<Option<Op<'_>>> = vec![
            Some(Box::new(|| {
                black_box(Spec::load_file(VMLINUX).ok());
            })),
            Some(Box::new(|| {
                black_box(libbpf::Btf::parse_raw(VMLINUX));
            })),
            Some(Box::new(|| {
                black_box(aya::parse_vmlinux());
            })),
        ];
        rows.push(row(name, Unit::Millis, &interleaved(&mut ops, ctx.budget)));
    }

    let name = "btf_parse_vmlinux_file_then_lookup";
    if ctx.wants(name) {
        let cname = CString::new("task_struct").unwrap_or_default();
        let cname = &cname;
        let mut ops: Vec<Option<Op<'_>>> = vec![
            Some(Box::new(|| {
                let spec = Spec::load_file(VMLINUX).ok();
                black_box(spec.map(|s| s.types_by_name("task_struct")));
            })),
            Some(Box::new(move || {
                let btf = libbpf::Btf::parse_raw(VMLINUX);
                black_box(btf.map(|b| b.find_by_name(cname)));
            })),
            Some(Box::new(|| {
                let btf = aya::parse_vmlinux();
                black_box(btf.map(|b| aya::find_struct(&b, "task_struct")));
            })),
        ];
        rows.push(row(name, Unit::Millis, &interleaved(&mut ops, ctx.budget)));
    }

    let name = "btf_parse_vmlinux_mem";
    if ctx.wants(name) {
        let mut ops: Vec<Option<Op<'_>>> = vec![
            Some(Box::new(|| {
                black_box(Spec::parse_lazy(data.clone()).ok());
            })),
            Some(Box::new(|| {
                black_box(libbpf::Btf::from_bytes(&data));
            })),
            Some(Box::new(|| {
                black_box(aya::parse_btf(&data));
            })),
        ];
        rows.push(row(name, Unit::Millis, &interleaved(&mut ops, ctx.budget)));
    }

    // Checking every type up front (what `Spec::parse` does for untrusted ELF BTF, and
    // libbpf's `btf__new`), against the same libbpf and aya parses.
    let name = "btf_parse_vmlinux_mem_eager";
    if ctx.wants(name) {
        let mut ops: Vec<Option<Op<'_>>> = vec![
            Some(Box::new(|| {
                black_box(Spec::parse(&data).ok());
            })),
            Some(Box::new(|| {
                black_box(libbpf::Btf::from_bytes(&data));
            })),
            Some(Box::new(|| {
                black_box(aya::parse_btf(&data));
            })),
        ];
        rows.push(row(name, Unit::Millis, &interleaved(&mut ops, ctx.budget)));
    }

    // Building every type of the model: ours decodes each record into a `Type` (names
    // copied); aya's parse builds all of its types (names left as offsets). libbpf has no
    // decoded model.
    let name = "btf_decode_vmlinux_every_type";
    if ctx.wants(name) {
        let mut ops: Vec<Option<Op<'_>>> = vec![
            Some(Box::new(|| {
                let spec = Spec::parse(&data).ok();
                if let Some(spec) = &spec {
                    black_box(spec.types().filter(|(_, t)| t.is_ok()).count());
                }
                black_box(spec);
            })),
            None,
            Some(Box::new(|| {
                black_box(aya::parse_btf(&data));
            })),
        ];
        rows.push(row(name, Unit::Millis, &interleaved(&mut ops, ctx.budget)));
    }

    let name = "btf_parse_vmlinux_rss_growth";
    if ctx.wants(name) {
        rows.push(Row {
            name: name.to_owned(),
            ours: crate::rss::measure("btf_vmlinux", "ours"),
            libbpf: crate::rss::measure("btf_vmlinux", "libbpf"),
            aya: crate::rss::measure("btf_vmlinux", "aya"),
            unit: Unit::MiB,
            spread: None,
            aya_spread: None,
        });
    }

    let lookups = [
        ("btf_lookup_hit_task_struct", "task_struct"),
        ("btf_lookup_miss", "ebpf_rs_no_such_type"),
    ];
    if !lookups.iter().any(|(name, _)| ctx.wants(name)) {
        return rows;
    }
    let ours = Spec::parse_lazy(data.clone()).ok();
    // Built before timing: these rows are lookups in the index (`_file_then_lookup` times
    // a parse and a first lookup, which scans).
    // Left to the first timed call, a slow build could end calibration after one call.
    if let Some(s) = &ours {
        s.index_names();
    }
    let lb = libbpf::Btf::from_bytes(&data);
    let ay = aya::parse_btf(&data);
    for (name, needle) in lookups {
        if !ctx.wants(name) {
            continue;
        }
        let cname = CString::new(needle).unwrap_or_default();
        let mut ops: Vec<Option<Op<'_>>> = vec![
            ours.as_ref().map(|s| {
                Box::new(move || {
                    black_box(s.types_by_name(needle));
                }) as Op<'_>
            }),
            lb.as_ref().map(|b| {
                let cname = &cname;
                Box::new(move || {
                    black_box(b.find_by_name(cname));
                }) as Op<'_>
            }),
            ay.as_ref().map(|b| {
                Box::new(move || {
                    black_box(aya::find_struct(b, needle));
                }) as Op<'_>
            }),
        ];
        rows.push(row(name, Unit::Nanos, &interleaved(&mut ops, ctx.budget)));
    }
    rows
}
