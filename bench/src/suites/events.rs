//! Draining pre-filled event buffers: a 64 MiB `BPF_MAP_TYPE_RINGBUF` of
//! 16-byte records (8-byte header + 8-byte payload), and per-CPU perf rings
//! of 8-byte raw samples. Each sample refills the buffers (untimed) by
//! test-running a socket filter built with ebpf-asm that calls
//! `bpf_ringbuf_output` / `bpf_perf_event_output` once per run (`repeat`),
//! then times one drain of everything: ours (`RingBufReader::consume`,
//! `PerfReader::consume`, zero-copy) against libbpf (`ring_buffer__consume`,
//! `perf_buffer__consume`) with a trivial callback. Each reader has its own
//! map and filler (two consumers cannot share a ring's consumer position).

use std::cell::Cell;
use std::hint::black_box;
use std::os::fd::{AsFd, AsRawFd};

use ebpf::perf::{PerfEvent, PerfReader, PerfReaderOptions, Wakeup};
use ebpf::ringbuf::RingBufReader;
use ebpf::{Map, MapSpec, MapType, Program, ProgramType, TestRunOptions};
use ebpf_asm::{
    AluOp, Helper, Instructions, Register::*, Size, call, exit, load_imm64, load_map_fd, mov64,
    mov64_reg, store_imm,
};

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

use crate::Ctx;
use crate::measure::{Budget, Prepared, interleaved_with_setup};
use crate::peers::libbpf;
use crate::report::{Row, Unit};

/// The ring buffer's data size.
const RING_BYTES: u32 = 64 << 20;
/// A ring small enough to stay in cache between the fill and the drain.
const SMALL_RING_BYTES: u32 = 512 << 10;
const RING_ROW: &str = "ringbuf_drain_64MiB_16B_records";
const SMALL_RING_ROW: &str = "ringbuf_drain_512KiB_16B_records_cached";
const PERF_ROW: &str = "perf_drain_1M_8B_samples";
/// One record's footprint in the ring: 8-byte header + 8-byte payload.
const RING_RECORD: u32 = 16;
/// Perf samples per fill: each takes 24 bytes of a CPU's ring (8-byte
/// header, 4-byte size, 8 bytes of data, padding).
const PERF_SAMPLES: u32 = 1 << 20;
/// Data pages per CPU: 32 MiB with 4 KiB pages, so one CPU's ring holds a
/// whole fill even if every sample lands on it.
const PERF_PAGES: usize = 8192;
/// `BPF_RB_NO_WAKEUP`: the fill does not wake readers (nobody waits).
const BPF_RB_NO_WAKEUP: i32 = 1;
/// `BPF_F_CURRENT_CPU`.
const BPF_F_CURRENT_CPU: i64 = 0xffff_ffff;

fn ring_filler(map: &Map) -> ebpf::Result<Program> {
    let insns = Instructions::from(vec![
        store_imm(R10, -8, 0x5a5a_5a5a, Size::DW),
        load_map_fd(R1, map.as_fd().as_raw_fd()),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -8),
        mov64(R3, 8),
        mov64(R4, BPF_RB_NO_WAKEUP),
        call(Helper::RingbufOutput),
        mov64(R0, 0),
        exit(),
    ]);
    Program::load_raw(ProgramType::SOCKET_FILTER, insns, "GPL")
}

fn perf_filler(map: &Map) -> ebpf::Result<Program> {
    let insns = Instructions::from(vec![
        store_imm(R10, -8, 0x5a5a_5a5a, Size::DW),
        // r1 = ctx (the skb), as on entry.
        load_map_fd(R2, map.as_fd().as_raw_fd()),
        load_imm64(R3, BPF_F_CURRENT_CPU),
        mov64_reg(R4, R10),
        AluOp::Add.imm(R4, -8),
        mov64(R5, 8),
        call(Helper::PerfEventOutput),
        mov64(R0, 0),
        exit(),
    ]);
    Program::load_raw(ProgramType::SOCKET_FILTER, insns, "GPL")
}

/// Runs `prog` `repeat` times on a 64-byte packet.
fn fill(prog: &Program, repeat: u32) {
    let opts = TestRunOptions {
        data_in: vec![0; 64],
        repeat,
        ..TestRunOptions::default()
    };
    if let Err(e) = prog.test_run(&opts) {
        eprintln!("events: fill: {}", ebpf::ErrorChain(&e));
    }
}

/// Events per second from seconds per drain and events per drain.
fn per_sec(secs: Option<f64>, events: &Cell<u64>) -> Option<f64> {
    secs.filter(|_| events.get() > 0)
        .map(|s| events.get() as f64 / s)
}

/// A drain of a ring of `bytes` filled with 16-byte records, timed over the budget's rounds.
fn ring_row(name: &str, bytes: u32, budget: Budget) -> Option<Row> {
    let create = |name: &str| Map::create(&MapSpec::new(name, MapType::RINGBUF, 0, 0, bytes));
    let (ours_map, lb_map) = match (create("bench_rb_ours"), create("bench_rb_libbpf")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!(
                "events: cannot create {bytes}-byte ring buffers: {}",
                ebpf::ErrorChain(&e)
            );
            return None;
        }
    };
    let (ours_fill, lb_fill) = match (ring_filler(&ours_map), ring_filler(&lb_map)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!(
                "events: cannot load the ring buffer filler: {}",
                ebpf::ErrorChain(&e)
            );
            return None;
        }
    };
    let repeat = bytes / RING_RECORD;
    let mut ours = RingBufReader::new(&ours_map)
        .map_err(|e| eprintln!("events: our ring buffer reader: {}", ebpf::ErrorChain(&e)))
        .ok();
    let mut theirs = libbpf::RingBuffer::new(lb_map.as_fd());
    if theirs.is_none() {
        eprintln!("events: libbpf's ring_buffer__new failed");
    }
    let (ours_n, lb_n) = (Cell::new(0u64), Cell::new(0u64));
    let (ours_n, lb_n) = (&ours_n, &lb_n);
    let (ours_fill, lb_fill) = (&ours_fill, &lb_fill);
    let mut ops: Vec<Option<Prepared<'_>>> = vec![
        ours.as_mut().map(|r| Prepared {
            setup: Box::new(move || fill(ours_fill, repeat)),
            op: Box::new(move || {
                let n = r
                    .consume(|_, bytes| {
                        black_box(bytes);
                    })
                    .unwrap_or(0);
                ours_n.set(n as u64);
            }),
        }),
        theirs.as_mut().map(|rb| Prepared {
            setup: Box::new(move || fill(lb_fill, repeat)),
            op: Box::new(move || lb_n.set(rb.consume())),
        }),
    ];
    let secs = interleaved_with_setup(&mut ops, budget);
    if ours_n.get() != lb_n.get() {
        eprintln!(
            "events: ring drains saw {} (ours) and {} (libbpf) records",
            ours_n.get(),
            lb_n.get()
        );
    }
    Some(Row {
        name: name.to_owned(),
        ours: per_sec(secs[0], ours_n),
        libbpf: per_sec(secs[1], lb_n),
        aya: None,
        unit: Unit::PerSec,
        spread: secs.spread_vs(1),
        aya_spread: None,
    })
}

fn perf_row(ctx: &Ctx) -> Option<Row> {
    let cpus = ebpf::possible_cpus().ok()?;
    let entries = u32::try_from(cpus).ok()?;
    let create = |name: &str| {
        Map::create(&MapSpec::new(
            name,
            MapType::PERF_EVENT_ARRAY,
            4,
            4,
            entries,
        ))
    };
    let (ours_map, lb_map) = match (create("bench_pe_ours"), create("bench_pe_libbpf")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!(
                "events: cannot create perf event arrays: {}",
                ebpf::ErrorChain(&e)
            );
            return None;
        }
    };
    let (ours_fill, lb_fill) = match (perf_filler(&ours_map), perf_filler(&lb_map)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!(
                "events: cannot load the perf filler: {}",
                ebpf::ErrorChain(&e)
            );
            return None;
        }
    };
    let opts = PerfReaderOptions::default()
        .pages_per_cpu(PERF_PAGES)
        // No wakeup per sample while filling (nobody waits; libbpf gets the same).
        .wakeup(Wakeup::Watermark(16 << 20));
    let mut ours = match PerfReader::with_options(&ours_map, opts) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("events: our perf reader: {}", ebpf::ErrorChain(&e));
            None
        }
    };
    let mut theirs = libbpf::PerfBuffer::new(lb_map.as_fd(), PERF_PAGES, 16 << 20);
    if theirs.is_none() {
        eprintln!("events: libbpf's perf_buffer__new failed");
    }
    let (ours_n, lb_n) = (Cell::new(0u64), Cell::new(0u64));
    let (ours_n, lb_n) = (&ours_n, &lb_n);
    let (ours_fill, lb_fill) = (&ours_fill, &lb_fill);
    let mut ops: Vec<Option<Prepared<'_>>> = vec![
        ours.as_mut().map(|r| Prepared {
            setup: Box::new(move || fill(ours_fill, PERF_SAMPLES)),
            op: Box::new(move || {
                let mut samples = 0u64;
                let _ = r.consume(|_, ev| {
                    if let PerfEvent::Sample(bytes) = ev {
                        black_box(bytes);
                        samples += 1;
                    }
                });
                ours_n.set(samples);
            }),
        }),
        theirs.as_mut().map(|pb| Prepared {
            setup: Box::new(move || fill(lb_fill, PERF_SAMPLES)),
            op: Box::new(move || lb_n.set(pb.consume())),
        }),
    ];
    let secs = interleaved_with_setup(&mut ops, ctx.budget);
    if ours_n.get() != lb_n.get() {
        eprintln!(
            "events: perf drains saw {} (ours) and {} (libbpf) samples",
            ours_n.get(),
            lb_n.get()
        );
    }
    Some(Row {
        name: PERF_ROW.to_owned(),
        ours: per_sec(secs[0], ours_n),
        libbpf: per_sec(secs[1], lb_n),
        aya: None,
        unit: Unit::PerSec,
        spread: secs.spread_vs(1),
        aya_spread: None,
    })
}

/// Pins the calling thread to the CPU it runs on (so each fill and its drain
/// share caches, whichever CPU the scheduler would have picked) and returns
/// the previous affinity.
fn pin_to_current_cpu() -> Option<CpuSet> {
    let this = Pid::from_raw(0);
    let before = sched_getaffinity(this).ok()?;
    let cpu = nix::sched::sched_getcpu().ok()?;
    let mut only = CpuSet::new();
    only.set(cpu).ok()?;
    sched_setaffinity(this, &only).ok()?;
    Some(before)
}

pub fn run(ctx: &Ctx) -> Vec<Row> {
    let mut rows = Vec::new();
    if ![RING_ROW, SMALL_RING_ROW, PERF_ROW]
        .iter()
        .any(|n| ctx.wants(n))
    {
        return rows;
    }
    let before = pin_to_current_cpu();
    // Fits in L2: the reader's per-record work, not memory, sets the pace; each sample
    // is short, so it takes ten times the rounds.
    let small = Budget {
        rounds: ctx.budget.rounds * 10,
        max_rounds: ctx.budget.max_rounds * 10,
        ..ctx.budget
    };
    for (name, bytes, budget) in [
        (RING_ROW, RING_BYTES, ctx.budget),
        (SMALL_RING_ROW, SMALL_RING_BYTES, small),
    ] {
        if ctx.wants(name) {
            rows.extend(ring_row(name, bytes, budget));
        }
    }
    if ctx.wants(PERF_ROW) {
        rows.extend(perf_row(ctx));
    }
    if let Some(before) = before {
        let _ = sched_setaffinity(Pid::from_raw(0), &before);
    }
    rows
}
