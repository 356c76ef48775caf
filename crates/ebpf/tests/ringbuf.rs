//! Real-kernel tests of the BPF ring buffer reader and the user ring buffer writer.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use ebpf::ringbuf::{ReaderError, RingBufReader, UserRingBuf};
use ebpf_asm::{
    AluOp, AtomicOp, Helper, JumpOp, Register::*, Size, call, exit, load_map_fd, mov64, mov64_reg,
    store_imm, store_mem,
};
use ebpf_syscall::{MapCreateAttr, MapType, ProgramType, map_create};
use ebpf_test_support::kernel_test;

mod common_readers;
use common_readers::*;

/// A socket filter that takes the next sequence number and emits one record of
/// `size` bytes (`size >= 12`): the sequence number as a u64 at 0 and its low
/// half as a u32 at `size - 4`. With `discard_mask != 0`, records whose
/// sequence number has no bit of the mask set are discarded.
fn producer(ring: &OwnedFd, counters: &OwnedFd, size: i32, discard_mask: i32) -> OwnedFd {
    assert!(size >= 12);
    let mut v = vec![
        store_imm(R10, -4, 0, Size::W),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -4),
        load_map_fd(R1, counters.as_raw_fd()),
        call(Helper::MapLookupElem),
        JumpOp::Eq.imm(R0, 0, "out"),
        mov64_reg(R7, R0),
        mov64(R8, 1),
        AtomicOp::FetchAdd.mem(R7, R8, 0, Size::DW),
        load_map_fd(R1, ring.as_raw_fd()),
        mov64(R2, size),
        mov64(R3, 0),
        call(Helper::RingbufReserve),
        JumpOp::Ne.imm(R0, 0, "got"),
        mov64(R1, 1),
        AtomicOp::Add.mem(R7, R1, 8, Size::DW),
        JumpOp::Ja.label("out"),
        store_mem(R0, 0, R8, Size::DW).with_symbol("got"),
        store_mem(R0, (size - 4) as i16, R8, Size::W),
        mov64_reg(R1, R0),
        mov64(R2, 0),
    ];
    if discard_mask != 0 {
        v.extend([
            mov64_reg(R9, R8),
            AluOp::And.imm(R9, discard_mask),
            JumpOp::Eq.imm(R9, 0, "discard"),
        ]);
    }
    v.extend([call(Helper::RingbufSubmit), JumpOp::Ja.label("out")]);
    if discard_mask != 0 {
        v.push(call(Helper::RingbufDiscard).with_symbol("discard"));
    }
    v.extend([mov64(R0, 0).with_symbol("out"), exit()]);
    load(ProgramType::SOCKET_FILTER, v)
}

/// Checks one record of the producer and returns its sequence number.
fn check_record(bytes: &[u8], size: usize) -> u64 {
    assert_eq!(bytes.len(), size);
    let seq = u64::from_ne_bytes(bytes[..8].try_into().unwrap());
    let tail = u32::from_ne_bytes(bytes[size - 4..].try_into().unwrap());
    assert_eq!(tail, seq as u32, "record {seq}: tail marker");
    seq
}

#[test]
fn rejects_other_map_types() {
    kernel_test(|| {
        let array = map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 8, 1)).unwrap();
        let err = RingBufReader::new(&array).unwrap_err();
        assert!(matches!(err, ReaderError::WrongMapType { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("its type is array, expected ringbuf"),
            "{err}"
        );
        let err = UserRingBuf::new(&array).unwrap_err();
        assert!(matches!(err, ReaderError::WrongMapType { .. }), "{err}");
        Ok(())
    });
}

/// A second consumer of one ring would publish a consumer position past a
/// record the first still lends out, and the kernel would reuse its bytes:
/// a second reader of the same map (through any descriptor, or added to the
/// same reader) is refused until the first is dropped.
#[test]
fn a_second_reader_of_the_same_map_is_refused() {
    kernel_test(|| {
        let Some(ring) = ring_map(MapType::RINGBUF, PAGE) else {
            return Ok(());
        };
        let Some(other) = ring_map(MapType::RINGBUF, PAGE) else {
            return Ok(());
        };
        let mut reader = RingBufReader::new(&ring)?;
        let dup = ring.try_clone()?;
        for fd in [&ring, &dup] {
            let err = RingBufReader::new(fd).unwrap_err();
            assert!(matches!(err, ReaderError::AlreadyClaimed { .. }), "{err}");
            let err = reader.add(fd).unwrap_err();
            assert!(matches!(err, ReaderError::AlreadyClaimed { .. }), "{err}");
        }
        assert_eq!(reader.ring_count(), 1);
        assert_eq!(reader.add(&other)?, 1);
        let err = RingBufReader::new(&other).unwrap_err();
        assert!(matches!(err, ReaderError::AlreadyClaimed { .. }), "{err}");
        drop(reader);
        let _again = RingBufReader::new(&dup)?;
        let _other = RingBufReader::new(&other)?;
        Ok(())
    });
}

#[test]
fn millions_of_records_wrap_without_loss_or_duplication() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let Some(ring) = ring_map(MapType::RINGBUF, 16 * PAGE) else {
            return Ok(());
        };
        let counters = counters();
        let prog = producer(&ring, &counters, 16, 0);
        let mut reader = RingBufReader::new(&ring).unwrap();
        // 24-byte footprint: 2730 fit in 64 KiB; fill most of it each round.
        let (rounds, per_round) = (1000u64, 2000u32);
        let mut expect = 0u64;
        for round in 0..rounds {
            run(&prog, per_round);
            assert_eq!(reader.available_bytes(), u64::from(per_round) * 24);
            match round % 3 {
                0 => {
                    while let Some(record) = reader.try_next().unwrap() {
                        assert_eq!(record.ring(), 0);
                        assert_eq!(check_record(&record, 16), expect);
                        expect += 1;
                    }
                }
                1 => {
                    let n = reader
                        .consume(|ring, bytes| {
                            assert_eq!(ring, 0);
                            assert_eq!(check_record(bytes, 16), expect);
                            expect += 1;
                        })
                        .unwrap();
                    assert_eq!(n, per_round as usize);
                }
                _ => {
                    reader.set_batch_commit(true);
                    for _ in 0..per_round {
                        let record = reader.read_timeout(Duration::from_secs(5)).unwrap();
                        assert_eq!(check_record(&record, 16), expect);
                        expect += 1;
                    }
                    reader.set_batch_commit(false);
                }
            }
            assert_eq!(reader.available_bytes(), 0);
        }
        assert_eq!(expect, rounds * u64::from(per_round));
        assert_eq!(
            read_counters(&counters),
            (expect, 0),
            "no reservation failed"
        );
        Ok(())
    });
}

#[test]
fn padding_and_discarded_records() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let Some(ring) = ring_map(MapType::RINGBUF, 4 * PAGE) else {
            return Ok(());
        };
        let counters = counters();
        // 20-byte payload, 32-byte footprint; every 4th record discarded.
        let prog = producer(&ring, &counters, 20, 3);
        let mut reader = RingBufReader::new(&ring).unwrap();
        let mut seen = 0u64;
        let mut next = 1u64;
        for _ in 0..500 {
            run(&prog, 100);
            reader
                .consume(|_, bytes| {
                    let seq = check_record(bytes, 20);
                    assert_eq!(seq, next);
                    next += if next % 4 == 3 { 2 } else { 1 };
                    seen += 1;
                })
                .unwrap();
        }
        assert_eq!(seen, 500 * 100 / 4 * 3);
        assert_eq!(read_counters(&counters), (50_000, 0));
        assert_eq!(reader.available_bytes(), 0);
        Ok(())
    });
}

#[test]
fn long_consume_publishes_every_quarter_ring() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let Some(ring) = ring_map(MapType::RINGBUF, 4 * PAGE) else {
            return Ok(());
        };
        let counters = counters();
        // 16-byte payload, 24-byte footprint: about 682 records fill the ring.
        let prog = producer(&ring, &counters, 16, 0);
        let mut reader = RingBufReader::new(&ring).unwrap();
        run(&prog, 1000);
        let (produced, failed) = read_counters(&counters);
        assert!(failed > 0, "the ring should be full");
        let filled = produced - failed;
        let mut seen = 0u64;
        let mut refills = 0u64;
        let n = reader
            .consume(|_, bytes| {
                check_record(bytes, 16);
                seen += 1;
                // Past half the ring: at least a quarter was published, so a
                // producer finds room while the drain is still running.
                if seen == filled / 2 || seen == filled - 1 {
                    run(&prog, 1);
                    let (_, now_failed) = read_counters(&counters);
                    assert_eq!(now_failed, failed, "no room after {seen} records");
                    refills += 1;
                }
            })
            .unwrap();
        assert_eq!(refills, 2);
        // The records produced during the drain were drained too.
        assert_eq!(n as u64, filled + 2);
        assert_eq!(seen, filled + 2);
        assert_eq!(reader.available_bytes(), 0);
        assert_eq!(reader.consume(|_, _| panic!("empty")).unwrap(), 0);
        Ok(())
    });
}

#[test]
fn records_larger_than_a_page_wrap_contiguously() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let Some(ring) = ring_map(MapType::RINGBUF, 16 * PAGE) else {
            return Ok(());
        };
        let counters = counters();
        let size = 5000;
        let prog = producer(&ring, &counters, size as i32, 0);
        let mut reader = RingBufReader::new(&ring).unwrap();
        let mut expect = 0;
        let mut buf = Vec::new();
        for _ in 0..2000 {
            run(&prog, 10);
            for _ in 0..10 {
                assert_eq!(reader.read_into(&mut buf).unwrap(), 0);
                assert_eq!(check_record(&buf, size), expect);
                expect += 1;
            }
        }
        assert_eq!(read_counters(&counters), (20_000, 0));
        Ok(())
    });
}

#[test]
fn concurrent_producer_and_consumer() {
    concurrent(false);
}

#[test]
fn concurrent_producer_and_batch_committing_consumer() {
    concurrent(true);
}

fn concurrent(batch: bool) {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let Some(ring) = ring_map(MapType::RINGBUF, 64 * PAGE) else {
            return Ok(());
        };
        let counters = counters();
        let prog = producer(&ring, &counters, 16, 0);
        let mut reader = RingBufReader::new(&ring).unwrap();
        reader.set_batch_commit(batch);
        let flusher = reader.flusher();
        let (calls, repeat) = (200u32, 2500u32);
        let total = u64::from(calls * repeat);
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..calls {
                    run(&prog, repeat);
                }
                flusher.flush().unwrap();
            });
            let mut received = 0u64;
            let mut last: Option<u64> = None;
            loop {
                let record = match reader.read() {
                    Ok(r) => r,
                    Err(e) if e.is_flushed() => break,
                    Err(e) => panic!("{e}"),
                };
                let seq = check_record(&record, 16);
                assert!(last.is_none_or(|l| seq > l), "{seq} after {last:?}");
                last = Some(seq);
                received += 1;
            }
            let (produced, drops) = read_counters(&counters);
            assert_eq!(produced, total);
            assert_eq!(
                received + drops,
                total,
                "every committed record was read once"
            );
            assert!(received > 0);
            eprintln!("received {received}, dropped by the kernel (ring full) {drops}");
        });
        Ok(())
    });
}

#[test]
fn deadline_expires_on_an_empty_ring() {
    kernel_test(|| {
        let Some(ring) = ring_map(MapType::RINGBUF, PAGE) else {
            return Ok(());
        };
        let mut reader = RingBufReader::new(&ring).unwrap();
        let start = Instant::now();
        let err = reader.read_timeout(Duration::from_millis(50)).unwrap_err();
        let waited = start.elapsed();
        assert!(err.is_timeout(), "{err}");
        assert!(waited >= Duration::from_millis(49), "{waited:?}");
        assert!(waited < Duration::from_millis(500), "{waited:?}");

        // The deadline counts from `start` (taken first: on a slow machine, such as an
        // emulated one, time passes between two `Instant::now()` calls).
        let start = Instant::now();
        reader.set_deadline(Some(start + Duration::from_millis(50)));
        assert!(reader.read().unwrap_err().is_timeout());
        assert!(start.elapsed() >= Duration::from_millis(50));

        // A deadline in the past: a non-blocking read.
        reader.set_deadline(Some(Instant::now()));
        let start = Instant::now();
        let mut buf = Vec::new();
        assert!(reader.read_into(&mut buf).unwrap_err().is_timeout());
        assert!(start.elapsed() < Duration::from_millis(200));
        assert!(reader.try_next().unwrap().is_none());
        Ok(())
    });
}

#[test]
fn flush_wakes_a_blocked_reader_after_pending_records() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let Some(ring) = ring_map(MapType::RINGBUF, PAGE) else {
            return Ok(());
        };
        let counters = counters();
        let prog = producer(&ring, &counters, 16, 0);
        let mut reader = RingBufReader::new(&ring).unwrap();
        let flusher = reader.flusher();
        // Before the spawn: the sleeping thread's 50 ms count from here at the earliest.
        let start = Instant::now();
        std::thread::scope(|s| {
            let f = flusher.clone();
            s.spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                f.flush().unwrap();
            });
            let err = reader.read().unwrap_err();
            assert!(err.is_flushed(), "{err}");
            assert!(start.elapsed() >= Duration::from_millis(40));
            assert!(start.elapsed() < Duration::from_secs(5));
        });
        // Pending records come first, then the flush.
        run(&prog, 3);
        flusher.flush().unwrap();
        for seq in 0..3 {
            assert_eq!(check_record(&reader.read().unwrap(), 16), seq);
        }
        assert!(reader.read().unwrap_err().is_flushed());
        // The flush is consumed.
        assert!(
            reader
                .read_timeout(Duration::from_millis(10))
                .unwrap_err()
                .is_timeout()
        );
        Ok(())
    });
}

#[test]
fn epoll_fd_and_several_rings() {
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let Some(a) = ring_map(MapType::RINGBUF, PAGE) else {
            return Ok(());
        };
        let b = ring_map(MapType::RINGBUF, 2 * PAGE).unwrap();
        let counters = counters();
        let prog_a = producer(&a, &counters, 16, 0);
        let prog_b = producer(&b, &counters, 24, 0);
        let mut reader = RingBufReader::new(&a).unwrap();
        assert_eq!(reader.add(&b).unwrap(), 1);
        assert_eq!(reader.ring_count(), 2);
        assert_eq!(reader.ring_size(1), Some(2 * u64::from(PAGE)));

        let readable = |reader: &RingBufReader| {
            let mut fds = [nix::poll::PollFd::new(
                reader.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).unwrap() == 1
        };
        assert!(!readable(&reader));
        run(&prog_b, 2);
        assert!(readable(&reader));
        assert_eq!(reader.ring_available_bytes(1), Some(64));
        run(&prog_a, 1);
        let mut got = Vec::new();
        while let Some(r) = reader.try_next().unwrap() {
            got.push((
                r.ring(),
                u64::from_ne_bytes(r[..8].try_into().unwrap()),
                r.len(),
            ));
        }
        got.sort();
        assert_eq!(got, vec![(0, 2, 16), (1, 0, 24), (1, 1, 24)]);
        assert!(!readable(&reader));
        Ok(())
    });
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_delivers_records() {
    use ebpf::ringbuf::AsyncRingBufReader;
    kernel_test(|| {
        // The producers count with atomic fetch-add (5.12).
        ebpf::features::have_atomics()?;
        let Some(ring) = ring_map(MapType::RINGBUF, PAGE) else {
            return Ok(());
        };
        let counters = counters();
        let prog = producer(&ring, &counters, 16, 0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let reader = RingBufReader::new(&ring).unwrap();
        let flusher = reader.flusher();
        let prog = prog.try_clone().unwrap();
        let producer = std::thread::spawn(move || {
            for _ in 0..10 {
                std::thread::sleep(Duration::from_millis(5));
                run(&prog, 100);
            }
            std::thread::sleep(Duration::from_millis(20));
            flusher.flush().unwrap();
        });
        let expect = rt.block_on(async {
            let mut reader = AsyncRingBufReader::new(reader).unwrap();
            let mut expect = 0;
            loop {
                match tokio::time::timeout(Duration::from_secs(5), reader.next()).await {
                    Ok(Ok(record)) => {
                        assert_eq!(check_record(&record, 16), expect);
                        expect += 1;
                    }
                    Ok(Err(e)) if e.is_flushed() => break,
                    Ok(Err(e)) => panic!("{e}"),
                    Err(_) => panic!("no record within 5 s"),
                }
            }
            expect
        });
        producer.join().unwrap();
        assert_eq!(expect, 1000);
        drop(rt);
        Ok(())
    });
}

#[test]
fn readers_are_send() {
    fn send<T: Send>() {}
    send::<RingBufReader>();
    send::<UserRingBuf>();
    send::<ebpf::ringbuf::Flusher>();
    fn sync<T: Sync>() {}
    sync::<ebpf::ringbuf::Flusher>();
}

/// User plus system time of the calling thread.
fn thread_cpu_time() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_THREAD).unwrap();
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    tv(usage.user_time()) + tv(usage.system_time())
}

/// Not a test: the drain rate of a pre-filled 64 MiB ring of 16-byte records.
/// `cargo test -p ebpf --release --test ringbuf -- --ignored --nocapture drain_rate`
#[test]
#[ignore = "benchmark; run in release"]
fn drain_rate() {
    let Some(ring) = ring_map(MapType::RINGBUF, 64 << 20) else {
        return;
    };
    let counters = counters();
    let prog = producer(&ring, &counters, 16, 0);
    let mut reader = RingBufReader::new(&ring).unwrap();
    let per_fill = (64u32 << 20) / 24;
    // The first pass touches every page of the mapping (page faults); the
    // others run on a warm mapping.
    let passes = [
        ("consume (cold mapping)", 0),
        ("consume", 0),
        ("try_next", 1),
        ("try_next batch", 2),
    ];
    for (name, mode) in passes {
        run(&prog, per_fill);
        let cpu = thread_cpu_time();
        let start = Instant::now();
        let mut sum = 0u64;
        let n = match mode {
            0 => reader.consume(|_, b| sum += u64::from(b[0])).unwrap(),
            _ => {
                reader.set_batch_commit(mode == 2);
                let mut n = 0;
                while let Some(r) = reader.try_next().unwrap() {
                    sum += u64::from(r[0]);
                    n += 1;
                }
                n
            }
        };
        let took = start.elapsed();
        let cpu = thread_cpu_time() - cpu;
        assert_eq!(n, per_fill as usize);
        eprintln!(
            "{name}: {n} records in {took:?} ({cpu:?} CPU): {:.1} ns/record wall, {:.1} CPU ({sum})",
            took.as_nanos() as f64 / n as f64,
            cpu.as_nanos() as f64 / n as f64
        );
    }
}

/// A tracepoint program (`syscalls/sys_enter_getpid`) that emits the caller's
/// pid/tgid; a reader thread blocks until the kernel's wake-ups deliver them.
#[test]
fn tracepoint_records_wake_a_blocked_reader() {
    use ebpf_syscall::perf::{
        PERF_TYPE_TRACEPOINT, PerfEventAttr, perf_event_enable, perf_event_open, perf_event_set_bpf,
    };
    kernel_test(|| {
        let id = match ebpf_syscall::tracefs::tracepoint_id("syscalls", "sys_enter_getpid") {
            Ok(id) => id,
            Err(e) => {
                ebpf_test_support::skip(format!("no syscall tracepoints: {e}"));
                return Ok(());
            }
        };
        let Some(ring) = ring_map(MapType::RINGBUF, 128 * PAGE) else {
            return Ok(());
        };
        let prog = load(
            ProgramType::TRACEPOINT,
            vec![
                call(Helper::GetCurrentPidTgid),
                mov64_reg(R6, R0),
                load_map_fd(R1, ring.as_raw_fd()),
                mov64(R2, 8),
                mov64(R3, 0),
                call(Helper::RingbufReserve),
                JumpOp::Eq.imm(R0, 0, "out"),
                store_mem(R0, 0, R6, Size::DW),
                mov64_reg(R1, R0),
                mov64(R2, 0),
                call(Helper::RingbufSubmit),
                mov64(R0, 0).with_symbol("out"),
                exit(),
            ],
        );
        let attr = PerfEventAttr::new(PERF_TYPE_TRACEPOINT, id);
        let event = perf_event_open(&attr, -1, 0, None, 0).unwrap();
        perf_event_set_bpf(&event, &prog).unwrap();
        perf_event_enable(&event).unwrap();

        let tgid = u64::from(std::process::id());
        let (bursts, per_burst) = (50, 200);
        let mut reader = RingBufReader::new(&ring).unwrap();
        std::thread::scope(|s| {
            let consumer = s.spawn(move || {
                let mut ours = 0;
                while ours < bursts * per_burst {
                    let record = reader.read_timeout(Duration::from_secs(5)).unwrap();
                    let pid_tgid = u64::from_ne_bytes(record[..8].try_into().unwrap());
                    if pid_tgid >> 32 == tgid {
                        ours += 1;
                    }
                }
                ours
            });
            for _ in 0..bursts {
                for _ in 0..per_burst {
                    nix::unistd::getpid();
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(consumer.join().unwrap(), bursts * per_burst);
        });
        Ok(())
    });
}
