//! Real-kernel tests of the user ring buffer writer, drained by a BPF program
//! with `bpf_user_ringbuf_drain`.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use ebpf::ringbuf::{ReaderError, UserRingBuf};
use ebpf_asm::{
    AluOp, Endianness, Helper, Instructions, JumpOp, Register::*, Size, call, exit, load_func,
    load_map_fd, load_mem, mov64, mov64_reg, store_imm, store_mem,
};
use ebpf_syscall::{BtfLoadAttr, MapType, ProgLoadAttr, ProgramType, btf_load, prog_load};
use ebpf_test_support::kernel_test;

mod common_readers;
use common_readers::*;

#[test]
fn user_ring_buffer_drained_by_a_program() {
    kernel_test(|| {
        let Some(user) = ring_map(MapType::USER_RINGBUF, PAGE) else {
            return Ok(());
        };
        let results = counters();
        let prog = drain_program(&user, &results);
        let mut writer = UserRingBuf::new(&user).unwrap();
        assert_eq!(writer.max_record_len(), PAGE as usize - 8);
        assert_eq!(writer.free_bytes(), u64::from(PAGE));

        let mut sum = 0;
        for i in 1..=10u64 {
            writer.write(&(i * 1000).to_ne_bytes()).unwrap();
            sum += i * 1000;
        }
        // Odd length: padded to 8 bytes; the program reads only 8.
        let mut rec = writer.reserve(13).unwrap();
        rec[..8].copy_from_slice(&7u64.to_ne_bytes());
        rec.submit();
        sum += 7;
        // Discarded explicitly and by drop: skipped by the kernel.
        let mut rec = writer.reserve(8).unwrap();
        rec.copy_from_slice(&999_999u64.to_ne_bytes());
        rec.discard();
        drop(writer.reserve(8).unwrap());
        assert_eq!(writer.pending_bytes(), 10 * 16 + 24 + 2 * 16);

        run(&prog, 1);
        assert_eq!(read_counters(&results), (11, sum));
        assert_eq!(writer.pending_bytes(), 0);
        assert_eq!(writer.free_bytes(), u64::from(PAGE));

        // Too large, then full.
        let err = writer.reserve(PAGE as usize).unwrap_err();
        assert!(matches!(err, ReaderError::RecordTooLarge { .. }), "{err}");
        let mut n = 0u64;
        loop {
            match writer.write(&n.to_ne_bytes()) {
                Ok(()) => n += 1,
                Err(ReaderError::Full { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(n, u64::from(PAGE) / 16);
        run(&prog, 1);
        assert_eq!(read_counters(&results), (n, (0..n).sum()));

        // Wrap around many times.
        let mut total = 0u64;
        for round in 0..200u64 {
            for i in 0..100 {
                writer.write(&(round * 100 + i).to_ne_bytes()).unwrap();
                total += round * 100 + i;
            }
            run(&prog, 1);
            assert_eq!(read_counters(&results).0, 100);
        }
        let _ = total;
        Ok(())
    });
}

/// A socket filter that drains `user` with a callback summing the first u64 of
/// each record, and stores (count, sum) in `results`.
fn drain_program(user: &OwnedFd, results: &OwnedFd) -> OwnedFd {
    let insns = Instructions::from(vec![
        // main
        store_imm(R10, -8, 0, Size::DW).with_symbol("main"),
        load_map_fd(R1, user.as_raw_fd()),
        load_func(R2, "cb"),
        mov64_reg(R3, R10),
        AluOp::Add.imm(R3, -8),
        mov64(R4, 0),
        call(Helper::UserRingbufDrain),
        mov64_reg(R6, R0),
        load_mem(R7, R10, -8, Size::DW),
        store_imm(R10, -12, 0, Size::W),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -12),
        load_map_fd(R1, results.as_raw_fd()),
        call(Helper::MapLookupElem),
        JumpOp::Eq.imm(R0, 0, "out"),
        store_mem(R0, 0, R6, Size::DW),
        store_mem(R0, 8, R7, Size::DW),
        mov64(R0, 0).with_symbol("out"),
        exit(),
        // cb(dynptr, ctx)
        mov64_reg(R6, R2).with_symbol("cb"),
        mov64_reg(R3, R1),
        mov64_reg(R1, R10),
        AluOp::Add.imm(R1, -8),
        mov64(R2, 8),
        mov64(R4, 0),
        mov64(R5, 0),
        call(Helper::DynptrRead),
        JumpOp::Ne.imm(R0, 0, "cb_out"),
        load_mem(R1, R10, -8, Size::DW),
        load_mem(R2, R6, 0, Size::DW),
        AluOp::Add.reg(R2, R1),
        store_mem(R6, 0, R2, Size::DW),
        mov64(R0, 0).with_symbol("cb_out"),
        exit(),
    ]);
    let cb = insns.symbol_offsets().unwrap()["cb"] as u32;
    let bytes = insns.marshal(Endianness::NATIVE).unwrap();
    let btf = two_static_funcs_btf();
    let mut battr = BtfLoadAttr::default();
    battr.set_btf(&btf).unwrap();
    let btf_fd = btf_load(&battr).unwrap();
    let func_info: Vec<u8> = [0u32, 3, cb, 4]
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .collect();
    let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
    attr.set_insns(&bytes).unwrap();
    attr.prog_btf_fd = btf_fd.as_raw_fd() as u32;
    attr.set_func_info(&func_info, 8).unwrap();
    prog_load(&attr).unwrap_or_else(|e| panic!("load: {e}"))
}

/// BTF with `int`, `int (void)`, and two static functions of that type:
/// `main` (type 3) and `cb` (type 4).
fn two_static_funcs_btf() -> Vec<u8> {
    let strings = b"\0int\0main\0cb\0";
    let types: [u32; 13] = [
        1,
        1 << 24,
        4,
        0x0100_0020, // [1] INT int, signed 32 bits
        0,
        13 << 24,
        1, // [2] FUNC_PROTO int (void)
        5,
        12 << 24,
        2, // [3] FUNC main, static
        10,
        12 << 24,
        2, // [4] FUNC cb, static
    ];
    let type_len = (types.len() * 4) as u32;
    let mut out = Vec::new();
    out.extend(0xeb9f_u16.to_ne_bytes());
    out.extend([1u8, 0]);
    for w in [24u32, 0, type_len, type_len, strings.len() as u32] {
        out.extend(w.to_ne_bytes());
    }
    for w in types {
        out.extend(w.to_ne_bytes());
    }
    out.extend(strings);
    out
}

#[test]
fn user_ring_buffer_reserve_waits_for_room() {
    kernel_test(|| {
        let Some(user) = ring_map(MapType::USER_RINGBUF, PAGE) else {
            return Ok(());
        };
        let results = counters();
        let prog = drain_program(&user, &results);
        let mut writer = UserRingBuf::new(&user).unwrap();
        while writer.write(&1u64.to_ne_bytes()).is_ok() {}
        assert_eq!(writer.free_bytes(), 0);

        let start = Instant::now();
        let err = writer
            .reserve_timeout(8, Duration::from_millis(50))
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(start.elapsed() >= Duration::from_millis(49));
        assert!(start.elapsed() < Duration::from_millis(500));

        // Before the spawn: the sleeping thread's 50 ms count from here at the earliest.
        let start = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                run(&prog, 1);
            });
            let mut record = writer.reserve_timeout(8, Duration::from_secs(5)).unwrap();
            assert!(start.elapsed() >= Duration::from_millis(40));
            record.copy_from_slice(&5u64.to_ne_bytes());
            record.submit();
        });
        assert_eq!(
            read_counters(&results),
            (u64::from(PAGE) / 16, u64::from(PAGE) / 16)
        );
        run(&prog, 1);
        assert_eq!(read_counters(&results), (1, 5));
        Ok(())
    });
}

/// Two writers of one map would each keep a producer position and reserve the
/// same bytes (two live `&mut [u8]` of one record): the second is refused,
/// through any descriptor of the map, until the first is dropped.
#[test]
fn a_second_writer_of_the_same_map_is_refused() {
    kernel_test(|| {
        let Some(user) = ring_map(MapType::USER_RINGBUF, PAGE) else {
            return Ok(());
        };
        let mut first = UserRingBuf::new(&user)?;
        let dup: OwnedFd = user.try_clone()?;
        for fd in [&user, &dup] {
            let err = UserRingBuf::new(fd).unwrap_err();
            assert!(matches!(err, ReaderError::AlreadyClaimed { .. }), "{err}");
            assert!(err.to_string().contains("one per ring buffer"), "{err}");
        }
        let mut record = first.reserve(8)?;
        record.copy_from_slice(&1u64.to_ne_bytes());
        record.submit();
        drop(first);
        // Released with the writer; the new one continues where it stopped.
        let second = UserRingBuf::new(&dup)?;
        assert_eq!(second.pending_bytes(), 16);
        Ok(())
    });
}
