//! Map operations through the syscall: what we add on top of `bpf(2)` must be
//! almost nothing. A `getpid` row gives the cost of a bare syscall.

use std::hint::black_box;

use ebpf::{BatchCursor, Map, UpdateFlags};
use ebpf_spec::{MapSpec, MapType};

use crate::Ctx;
use crate::measure::{Op, Timings, interleaved};
use crate::peers::libbpf::MapFd;
use crate::report::{Row, Unit};

const ENTRIES: u32 = 1024;

fn row(name: &str, secs: &Timings, per: f64) -> Row {
    let conv = |v: Option<f64>| v.map(|s| Unit::Nanos.convert_secs_per_op(s) / per);
    Row {
        name: name.to_owned(),
        ours: conv(secs[0]),
        libbpf: conv(secs[1]),
        aya: None,
        unit: Unit::Nanos,
        spread: secs.spread_vs(1),
        aya_spread: None,
    }
}

fn fill(ours: &Map, theirs: &MapFd) {
    for k in 0..ENTRIES {
        let v = u64::from(k) * 3;
        let _ = ours.update(&k.to_ne_bytes(), &v.to_ne_bytes(), UpdateFlags::ANY);
        theirs.update(&k.to_ne_bytes(), &v.to_ne_bytes(), 0);
    }
}

pub fn run(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    let name = "syscall_getpid_baseline";
    if ctx.wants(name) {
        let mut ops: Vec<Option<Op<'_>>> = vec![
            Some(Box::new(|| {
                black_box(nix::unistd::getpid());
            })),
            Some(Box::new(|| {
                black_box(nix::unistd::getpid());
            })),
        ];
        rows.push(row(name, &interleaved(&mut ops, ctx.budget), 1.0));
    }
    for (label, map_type, raw) in [("hash", MapType::HASH, 1u32), ("array", MapType::ARRAY, 2)] {
        let ours = Map::create(&MapSpec::new(
            format!("bench_{label}"),
            map_type,
            4,
            8,
            ENTRIES,
        ));
        let theirs = MapFd::create(raw, 4, 8, ENTRIES);
        let (Ok(ours), Some(theirs)) = (ours, theirs) else {
            eprintln!("maps: cannot create {label} maps (needs root); skipping");
            return rows;
        };
        fill(&ours, &theirs);
        let key = 77u32.to_ne_bytes();
        let (ours, theirs) = (&ours, &theirs);

        let name = format!("map_{label}_lookup");
        if ctx.wants(&name) {
            let mut ours_buf = [0u8; 8];
            let mut their_buf = [0u8; 8];
            let mut ops: Vec<Option<Op<'_>>> = vec![
                Some(Box::new(move || {
                    black_box(ours.lookup_into(&key, &mut ours_buf, UpdateFlags::ANY).ok());
                })),
                Some(Box::new(move || {
                    black_box(theirs.lookup(&key, &mut their_buf));
                })),
            ];
            rows.push(row(&name, &interleaved(&mut ops, ctx.budget), 1.0));
        }

        let name = format!("map_{label}_update");
        if ctx.wants(&name) {
            let value = 5u64.to_ne_bytes();
            let mut ops: Vec<Option<Op<'_>>> = vec![
                Some(Box::new(move || {
                    black_box(ours.update(&key, &value, UpdateFlags::ANY).ok());
                })),
                Some(Box::new(move || {
                    black_box(theirs.update(&key, &value, 0));
                })),
            ];
            rows.push(row(&name, &interleaved(&mut ops, ctx.budget), 1.0));
        }

        let name = format!("map_{label}_lookup_batch_per_elem");
        if ctx.wants(&name) {
            let mut keys = vec![0u8; 4 * ENTRIES as usize];
            let mut values = vec![0u8; 8 * ENTRIES as usize];
            // Both sides read into caller buffers reused across calls.
            let mut our_keys = vec![0u8; 4 * ENTRIES as usize];
            let mut our_values = vec![0u8; ours.value_buffer_size() * ENTRIES as usize];
            let mut ops: Vec<Option<Op<'_>>> = vec![
                Some(Box::new(move || {
                    let mut cursor = BatchCursor::new();
                    while !cursor.is_done() {
                        match ours.lookup_batch_into(&mut cursor, &mut our_keys, &mut our_values) {
                            Ok(n) => {
                                black_box(n);
                            }
                            Err(_) => break,
                        }
                    }
                })),
                Some(Box::new(move || {
                    black_box(theirs.lookup_all_batch(&mut keys, &mut values, ENTRIES));
                })),
            ];
            rows.push(row(
                &name,
                &interleaved(&mut ops, ctx.budget),
                f64::from(ENTRIES),
            ));
        }
    }
    rows
}
