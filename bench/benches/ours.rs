//! Criterion benchmarks of our side of the operations `ebpf-bench` compares
//! with libbpf and aya: instruction decode/encode, vmlinux BTF parse and name
//! lookup, ELF open, CO-RE relocation and map operations.
//!
//! ```text
//! cargo bench -p ebpf-bench [-- FILTER]
//! ```
//!
//! Benchmarks whose input is missing (no `/sys/kernel/btf/vmlinux`, no
//! permission to create maps) are skipped with a message.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ebpf::{BatchCursor, Map, UpdateFlags};
use ebpf_asm::{Endianness, Instructions};
use ebpf_btf::core::Relocator;
use ebpf_btf::{CoreRelo, Spec};
use ebpf_spec::{CollectionSpec, MapSpec, MapType};
use goblin::elf::Elf;
use goblin::elf::section_header::SHF_EXECINSTR;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

/// The little-endian fixtures, sorted by path.
fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(testdata())
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| p.to_string_lossy().ends_with("-el.o"));
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let stem = p
                .file_stem()?
                .to_string_lossy()
                .trim_end_matches("-el")
                .to_owned();
            Some((stem, std::fs::read(&p).ok()?))
        })
        .collect()
}

/// Every executable section of the fixtures.
fn code_sections() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (_, data) in fixtures() {
        let Ok(elf) = Elf::parse(&data) else { continue };
        for sh in &elf.section_headers {
            if sh.sh_flags & u64::from(SHF_EXECINSTR) != 0 && sh.sh_size > 0 {
                if let Some(bytes) = sh.file_range().and_then(|r| data.get(r)) {
                    out.push(bytes.to_vec());
                }
            }
        }
    }
    out
}

fn asm(c: &mut Criterion) {
    let sections = code_sections();
    let decoded: Vec<Instructions> = sections
        .iter()
        .filter_map(|s| Instructions::unmarshal(s, Endianness::Little).ok())
        .collect();
    let count: usize = decoded.iter().map(|i| i.len()).sum();
    let mut g = c.benchmark_group("asm");
    g.throughput(Throughput::Elements(count as u64));
    g.bench_function("decode_all_fixtures", |b| {
        b.iter(|| {
            for s in &sections {
                black_box(Instructions::unmarshal(black_box(s), Endianness::Little).ok());
            }
        });
    });
    g.bench_function("encode_all_fixtures", |b| {
        b.iter(|| {
            for insns in &decoded {
                black_box(insns.marshal(Endianness::Little).ok());
            }
        });
    });
    g.finish();
}

fn btf(c: &mut Criterion) {
    let Ok(data) = std::fs::read(VMLINUX) else {
        eprintln!("btf: {VMLINUX} unreadable; skipping");
        return;
    };
    let mut g = c.benchmark_group("btf");
    g.sample_size(20);
    g.bench_function("parse_vmlinux_file", |b| {
        b.iter(|| black_box(Spec::load_file(VMLINUX).ok()));
    });
    g.bench_function("parse_vmlinux_mem", |b| {
        b.iter_batched(
            || data.clone(),
            |d| black_box(Spec::parse_lazy(d).ok()),
            BatchSize::LargeInput,
        );
    });
    g.bench_function("parse_vmlinux_mem_eager", |b| {
        b.iter(|| black_box(Spec::parse(&data).ok()));
    });
    g.finish();

    let Ok(spec) = Spec::parse_lazy(data) else {
        return;
    };
    let mut g = c.benchmark_group("btf_lookup");
    for needle in ["task_struct", "ebpf_rs_no_such_type"] {
        g.bench_function(needle, |b| {
            b.iter(|| black_box(spec.types_by_name(black_box(needle))));
        });
    }
    g.finish();
}

fn elf(c: &mut Criterion) {
    let mut g = c.benchmark_group("elf_open");
    for (stem, data) in fixtures() {
        if CollectionSpec::from_elf(&data).is_err() {
            continue;
        }
        g.bench_function(stem, |b| {
            b.iter(|| black_box(CollectionSpec::from_elf(black_box(&data)).ok()));
        });
    }
    g.finish();
}

/// The CO-RE programs of `spec`: instructions and relocations with `insn_off`
/// relative to the program's start.
fn core_programs(spec: &CollectionSpec) -> Vec<(Instructions, Vec<CoreRelo>)> {
    spec.programs
        .values()
        .map(|p| {
            let relos = p
                .instructions
                .iter_offsets()
                .filter_map(|(slot, ins)| {
                    ins.metadata.get::<CoreRelo>().map(|r| CoreRelo {
                        insn_off: u32::try_from(slot * ebpf_asm::SLOT_SIZE).unwrap_or(u32::MAX),
                        ..r.clone()
                    })
                })
                .collect::<Vec<_>>();
            (p.instructions.clone(), relos)
        })
        .filter(|(_, r)| !r.is_empty())
        .collect()
}

fn relocate_all(local: &Spec, progs: &[(Instructions, Vec<CoreRelo>)], kernel: &Spec) -> usize {
    let targets = [kernel];
    let mut relocator = Relocator::new(local, &targets);
    let mut n = 0;
    for (insns, relos) in progs {
        let mut insns = insns.clone();
        n += relocator.relocate(&mut insns, relos).map_or(0, |f| f.len());
        black_box(&insns);
    }
    n
}

fn core(c: &mut Criterion) {
    let Ok(data) = std::fs::read(testdata().join("bench_core-el.o")) else {
        eprintln!("core: testdata/bench_core-el.o unreadable; skipping");
        return;
    };
    let (Ok(spec), Ok(kernel)) = (CollectionSpec::from_elf(&data), Spec::kernel_shared()) else {
        eprintln!("core: bench_core-el.o or the kernel BTF does not open; skipping");
        return;
    };
    let Some(local) = spec.btf.clone() else {
        return;
    };
    let progs = core_programs(&spec);
    let relos: usize = progs.iter().map(|(_, r)| r.len()).sum();
    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(relos as u64));
    g.bench_function("relocate_bench_core_shared_kbtf", |b| {
        b.iter(|| black_box(relocate_all(&local, &progs, &kernel)));
    });
    g.sample_size(20);
    g.bench_function("open_relocate_bench_core_incl_kbtf_parse", |b| {
        b.iter(|| {
            let Ok(spec) = CollectionSpec::from_elf(&data) else {
                return 0;
            };
            let (Some(local), Ok(kernel)) = (spec.btf.as_deref(), Spec::load_file(VMLINUX)) else {
                return 0;
            };
            black_box(relocate_all(local, &core_programs(&spec), &kernel))
        });
    });
    if ebpf::Collection::load(&spec, ebpf::CollectionOptions::default()).is_ok() {
        g.bench_function("open_load_bench_core_kbtf_cached", |b| {
            b.iter(|| {
                let spec = CollectionSpec::from_elf(&data).ok()?;
                ebpf::Collection::load(&spec, ebpf::CollectionOptions::default()).ok()
            });
        });
        g.bench_function("open_load_bench_core_kbtf_parsed_each", |b| {
            b.iter(|| {
                let spec = CollectionSpec::from_elf(&data).ok()?;
                let opts = ebpf::CollectionOptions {
                    core_btf: Some(Arc::new(Spec::load_file(VMLINUX).ok()?)),
                    ..ebpf::CollectionOptions::default()
                };
                ebpf::Collection::load(&spec, opts).ok()
            });
        });
    } else {
        eprintln!("core: cannot load bench_core (needs root); skipping open+load");
    }
    g.finish();
}

fn maps(c: &mut Criterion) {
    const ENTRIES: u32 = 1024;
    let mut g = c.benchmark_group("map");
    for (label, map_type) in [("hash", MapType::HASH), ("array", MapType::ARRAY)] {
        let spec = MapSpec::new(format!("crit_{label}"), map_type, 4, 8, ENTRIES);
        let map = match Map::create(&spec) {
            Ok(m) => m,
            Err(e) => {
                eprintln!(
                    "map: cannot create a {label} map ({}); skipping",
                    ebpf::ErrorChain(&e)
                );
                continue;
            }
        };
        for k in 0..ENTRIES {
            let _ = map.update(
                &k.to_ne_bytes(),
                &u64::from(k).to_ne_bytes(),
                UpdateFlags::ANY,
            );
        }
        let key = 77u32.to_ne_bytes();
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("{label}_lookup"), |b| {
            let mut out = [0u8; 8];
            b.iter(|| black_box(map.lookup_into(&key, &mut out, UpdateFlags::ANY).ok()));
        });
        g.bench_function(format!("{label}_update"), |b| {
            let value = 5u64.to_ne_bytes();
            b.iter(|| black_box(map.update(&key, &value, UpdateFlags::ANY).ok()));
        });
        g.throughput(Throughput::Elements(u64::from(ENTRIES)));
        g.bench_function(format!("{label}_lookup_batch_all"), |b| {
            b.iter(|| {
                let mut cursor = BatchCursor::new();
                while !cursor.is_done() {
                    match map.lookup_batch(&mut cursor, ENTRIES) {
                        Ok(batch) => {
                            black_box(batch);
                        }
                        Err(_) => break,
                    }
                }
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = asm, btf, elf, core, maps
}
criterion_main!(benches);
