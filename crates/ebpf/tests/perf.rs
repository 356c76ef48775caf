//! Real-kernel tests of the perf event array reader.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use ebpf::perf::{PerfEvent, PerfReader, PerfReaderOptions, ReaderError, Wakeup};
use ebpf_asm::{
    AluOp, AtomicOp, Endianness, Helper, Instruction, Instructions, JumpOp, Register::*, Size,
    call, exit, load_imm64, load_map_fd, mov64, mov64_reg, store_imm, store_mem,
};
use ebpf_syscall::{MapCreateAttr, MapType, ProgLoadAttr, ProgramType, map_create, prog_load};
use ebpf_test_support::kernel_test;

mod common_readers;
use common_readers::*;

fn possible_cpus() -> u32 {
    u32::try_from(ebpf_syscall::possible_cpus().unwrap()).unwrap()
}

fn perf_map() -> OwnedFd {
    map_create(&MapCreateAttr::new(
        MapType::PERF_EVENT_ARRAY,
        4,
        4,
        possible_cpus(),
    ))
    .unwrap()
}

/// A socket filter that outputs `size` bytes (a multiple of 8, at most 256),
/// every 8-byte word holding the next sequence number, to the current CPU's
/// ring of `perf`, and counts failed outputs.
fn producer(perf: &OwnedFd, counters: &OwnedFd, size: i16) -> OwnedFd {
    assert!(size % 8 == 0 && (8..=256).contains(&size));
    let mut v: Vec<Instruction> = vec![
        mov64_reg(R6, R1),
        store_imm(R10, -4, 0, Size::W),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -4),
        load_map_fd(R1, counters.as_raw_fd()),
        call(Helper::MapLookupElem),
        JumpOp::Eq.imm(R0, 0, "out"),
        mov64_reg(R7, R0),
        mov64(R8, 1),
        AtomicOp::FetchAdd.mem(R7, R8, 0, Size::DW),
    ];
    let base = -264i16;
    for word in 0..size / 8 {
        v.push(store_mem(R10, base + word * 8, R8, Size::DW));
    }
    v.extend([
        mov64_reg(R1, R6),
        load_map_fd(R2, perf.as_raw_fd()),
        load_imm64(R3, 0xffff_ffff), // BPF_F_CURRENT_CPU
        mov64_reg(R4, R10),
        AluOp::Add.imm(R4, i32::from(base)),
        mov64(R5, i32::from(size)),
        call(Helper::PerfEventOutput),
        JumpOp::Eq.imm(R0, 0, "out"),
        mov64(R1, 1),
        AtomicOp::Add.mem(R7, R1, 8, Size::DW),
        mov64(R0, 0).with_symbol("out"),
        exit(),
    ]);
    let bytes = Instructions::from(v).marshal(Endianness::NATIVE).unwrap();
    let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
    attr.set_insns(&bytes).unwrap();
    prog_load(&attr).unwrap_or_else(|e| panic!("load: {e}"))
}

/// Pins the calling test thread to the CPU it is on. The kernel writes a ring's
/// pending lost record only with the next sample on that CPU, so a test that
/// counts lost records must not migrate between runs of the producer.
fn stay_on_this_cpu() {
    let mut set = nix::sched::CpuSet::new();
    set.set(nix::sched::sched_getcpu().unwrap()).unwrap();
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).unwrap();
}

/// Checks a sample of `size` bytes (plus the kernel's 4 bytes of padding) and
/// returns its sequence number.
fn check_sample(bytes: &[u8], size: usize) -> u64 {
    assert_eq!(
        bytes.len(),
        size + 4,
        "raw size is padded to keep records 8-byte aligned"
    );
    let seq = u64::from_ne_bytes(bytes[..8].try_into().unwrap());
    for word in bytes[..size].chunks(8) {
        assert_eq!(u64::from_ne_bytes(word.try_into().unwrap()), seq);
    }
    seq
}

#[test]
fn rejects_other_maps_and_small_arrays() {
    kernel_test(|| {
        let array = map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 4, 1)).unwrap();
        let err = PerfReader::new(&array).unwrap_err();
        assert!(matches!(err, ReaderError::WrongMapType { .. }), "{err}");
        if possible_cpus() > 1 {
            let small =
                map_create(&MapCreateAttr::new(MapType::PERF_EVENT_ARRAY, 4, 4, 1)).unwrap();
            let err = PerfReader::new(&small).unwrap_err();
            assert!(err.to_string().contains("possible CPUs"), "{err}");
        }
        let map = perf_map();
        let err = PerfReader::with_options(&map, PerfReaderOptions::default().pages_per_cpu(3))
            .unwrap_err();
        assert!(matches!(err, ReaderError::InvalidSize { .. }), "{err}");
        Ok(())
    });
}

#[test]
fn many_samples_with_wraparound_and_scratch_copies() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let map = perf_map();
        let counters = counters();
        // 200-byte samples: 216-byte records do not divide the ring, so some wrap.
        let prog = producer(&map, &counters, 200);
        let mut reader =
            PerfReader::with_options(&map, PerfReaderOptions::default().pages_per_cpu(2)).unwrap();
        assert!(!reader.cpus().is_empty());
        let mut last: BTreeMap<u32, u64> = BTreeMap::new();
        let mut seen = 0u64;
        let mut buf = Vec::new();
        for round in 0..2000 {
            run(&prog, 30);
            if round % 2 == 0 {
                while let Some(record) = reader.try_next().unwrap() {
                    let seq = check_sample(record.sample().expect("no loss"), 200);
                    let prev = last.insert(record.cpu(), seq);
                    assert!(prev.is_none_or(|p| seq > p));
                    seen += 1;
                }
            } else {
                let mut cpu_seq = Vec::new();
                reader
                    .consume(|cpu, event| match event {
                        PerfEvent::Sample(s) => cpu_seq.push((cpu, check_sample(s, 200))),
                        PerfEvent::Lost(n) => panic!("lost {n}"),
                    })
                    .unwrap();
                for (cpu, seq) in cpu_seq {
                    let prev = last.insert(cpu, seq);
                    assert!(prev.is_none_or(|p| seq > p));
                    seen += 1;
                }
            }
            if round == 1999 {
                reader.set_deadline(Some(Instant::now()));
                assert!(reader.read_into(&mut buf).unwrap_err().is_timeout());
            }
        }
        assert_eq!(read_counters(&counters), (60_000, 0));
        assert_eq!(seen, 60_000);
        assert_eq!(reader.lost_samples(), 0);
        assert_eq!(reader.available_bytes(), 0);
        Ok(())
    });
}

#[test]
fn lost_samples_are_counted_when_the_ring_is_too_small() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let map = perf_map();
        let counters = counters();
        let prog = producer(&map, &counters, 64);
        let mut reader =
            PerfReader::with_options(&map, PerfReaderOptions::default().pages_per_cpu(1)).unwrap();
        stay_on_this_cpu();
        // 80-byte records: about 51 fit in one page; the rest are lost.
        run(&prog, 1000);
        let (_, failed) = read_counters(&counters);
        assert!(failed > 0);
        let mut samples = 0;
        let mut lost = 0;
        let mut drain = |reader: &mut PerfReader| {
            while let Some(record) = reader.try_next().unwrap() {
                match record.event() {
                    PerfEvent::Sample(s) => {
                        check_sample(s, 64);
                        samples += 1;
                    }
                    PerfEvent::Lost(n) => lost += n,
                }
            }
        };
        drain(&mut reader);
        // The kernel writes the lost record with the next sample that fits.
        run(&prog, 1);
        drain(&mut reader);
        assert_eq!(samples + failed, 1001);
        assert_eq!(lost, failed);
        assert_eq!(reader.lost_samples(), failed);
        Ok(())
    });
}

#[test]
fn lost_samples_are_counted_by_consume() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let map = perf_map();
        let counters = counters();
        let prog = producer(&map, &counters, 64);
        let mut reader =
            PerfReader::with_options(&map, PerfReaderOptions::default().pages_per_cpu(1)).unwrap();
        let mut samples = 0;
        let mut lost = 0;
        let mut total = 0;
        stay_on_this_cpu();
        // Each round overfills the ring: 80-byte records, about 51 fit in a page.
        for _ in 0..5 {
            run(&prog, 200);
            total += reader
                .consume(|_, event| match event {
                    PerfEvent::Sample(s) => {
                        check_sample(s, 64);
                        samples += 1;
                    }
                    PerfEvent::Lost(n) => lost += n,
                })
                .unwrap();
        }
        // The kernel writes the last lost record with the next sample that fits.
        run(&prog, 1);
        total += reader
            .consume(|_, event| match event {
                PerfEvent::Sample(s) => {
                    check_sample(s, 64);
                    samples += 1;
                }
                PerfEvent::Lost(n) => lost += n,
            })
            .unwrap();
        let (_, failed) = read_counters(&counters);
        assert!(failed > 0);
        assert_eq!(samples + failed, 1001);
        assert_eq!(lost, failed);
        assert_eq!(reader.lost_samples(), failed);
        assert!(
            total as u64 > samples,
            "lost records are counted as records"
        );
        assert_eq!(reader.available_bytes(), 0);
        Ok(())
    });
}

#[test]
fn pause_resume_and_watermark() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let map = perf_map();
        let counters = counters();
        let prog = producer(&map, &counters, 16);
        let mut reader = PerfReader::with_options(
            &map,
            PerfReaderOptions::default()
                .pages_per_cpu(4)
                .wakeup(Wakeup::Watermark(1)),
        )
        .unwrap();
        reader.pause().unwrap();
        run(&prog, 10);
        assert_eq!(read_counters(&counters), (10, 10), "paused output fails");
        assert!(reader.try_next().unwrap().is_none());
        reader.resume().unwrap();
        run(&prog, 1);
        let mut buf = Vec::new();
        let mut lost = 0;
        let mut got = Vec::new();
        while lost + (got.len() as u64) < 11 {
            let info = reader.read_into(&mut buf).unwrap();
            if info.lost > 0 {
                lost += info.lost;
            } else {
                got.push(check_sample(&buf, 16));
            }
        }
        assert_eq!((lost, got), (10, vec![10]));
        Ok(())
    });
}

#[test]
fn overwritable_rings_keep_the_newest_samples() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let map = perf_map();
        let counters = counters();
        let prog = producer(&map, &counters, 16);
        let mut reader = PerfReader::with_options(
            &map,
            PerfReaderOptions::default()
                .pages_per_cpu(1)
                .overwritable(true),
        )
        .unwrap();
        // 32-byte records: 128 fit in a page; 1000 overwrite each other.
        run(&prog, 1000);
        assert_eq!(
            read_counters(&counters).1,
            0,
            "overwritable rings never fail"
        );
        let mut per_cpu: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        while let Some(record) = reader.try_next().unwrap() {
            let seq = check_sample(record.sample().expect("no loss records"), 16);
            per_cpu.entry(record.cpu()).or_default().push(seq);
        }
        let total: usize = per_cpu.values().map(Vec::len).sum();
        assert!((100..=1000).contains(&total), "{total} samples");
        let newest = per_cpu.values().map(|v| v[0]).max().unwrap();
        assert_eq!(newest, 999, "newest first");
        for seqs in per_cpu.values() {
            assert!(seqs.windows(2).all(|w| w[0] > w[1]), "descending: {seqs:?}");
        }
        // Only new samples on the next read.
        run(&prog, 3);
        let mut next = Vec::new();
        while let Some(record) = reader.try_next().unwrap() {
            next.push(check_sample(record.sample().unwrap(), 16));
        }
        next.sort();
        assert_eq!(next, vec![1000, 1001, 1002]);
        Ok(())
    });
}

#[test]
fn deadline_and_flush() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let map = perf_map();
        let counters = counters();
        let prog = producer(&map, &counters, 8);
        let mut reader = PerfReader::new(&map).unwrap();
        let start = Instant::now();
        let err = reader.read_timeout(Duration::from_millis(50)).unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(start.elapsed() >= Duration::from_millis(49));
        assert!(start.elapsed() < Duration::from_millis(500));

        let flusher = reader.flusher();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(30));
                run(&prog, 1);
                std::thread::sleep(Duration::from_millis(30));
                flusher.flush().unwrap();
            });
            let record = reader.read().unwrap();
            assert_eq!(check_sample(record.sample().unwrap(), 8), 0);
            drop(record);
            assert!(reader.read().unwrap_err().is_flushed());
        });
        Ok(())
    });
}

#[test]
fn dropping_the_reader_clears_the_map() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let map = perf_map();
        let counters = counters();
        let prog = producer(&map, &counters, 8);
        drop(PerfReader::new(&map).unwrap());
        run(&prog, 5);
        assert_eq!(read_counters(&counters), (5, 5), "no event left in the map");
        Ok(())
    });
}

#[test]
fn readers_are_send() {
    fn send<T: Send>() {}
    send::<PerfReader>();
    send::<ebpf::perf::Flusher>();
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_delivers_perf_records() {
    use ebpf::perf::AsyncPerfReader;
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let map = perf_map();
        let counters = counters();
        let prog = producer(&map, &counters, 8);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let reader = PerfReader::new(&map).unwrap();
        let flusher = reader.flusher();
        let prog = prog.try_clone().unwrap();
        let producer = std::thread::spawn(move || {
            for _ in 0..10 {
                std::thread::sleep(Duration::from_millis(5));
                run(&prog, 10);
            }
            std::thread::sleep(Duration::from_millis(20));
            flusher.flush().unwrap();
        });
        let mut seqs = rt.block_on(async {
            let mut reader = AsyncPerfReader::new(reader).unwrap();
            let mut seqs = Vec::new();
            loop {
                match tokio::time::timeout(Duration::from_secs(5), reader.next()).await {
                    Ok(Ok(record)) => seqs.push(check_sample(record.sample().unwrap(), 8)),
                    Ok(Err(e)) if e.is_flushed() => break,
                    Ok(Err(e)) => panic!("{e}"),
                    Err(_) => panic!("no record within 5 s"),
                }
            }
            seqs
        });
        producer.join().unwrap();
        drop(rt);
        seqs.sort();
        assert_eq!(seqs, (0..100).collect::<Vec<u64>>());
        Ok(())
    });
}
