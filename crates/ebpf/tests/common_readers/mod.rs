//! Maps, programs and test runs shared by the ring buffer, user ring buffer
//! and perf reader tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::os::fd::OwnedFd;

use ebpf_asm::{Endianness, Instruction, Instructions};
use ebpf_syscall::{
    KernelVersion, MapCreateAttr, MapType, NotSupported, ProgLoadAttr, ProgTestRunAttr,
    ProgramType, map_create, prog_load, prog_test_run,
};
use ebpf_test_support::skip_if_not_supported;

pub const PAGE: u32 = 4096;

pub fn ring_map(kind: MapType, size: u32) -> Option<OwnedFd> {
    let min = if kind == MapType::USER_RINGBUF {
        KernelVersion::new(6, 1, 0)
    } else {
        KernelVersion::new(5, 8, 0)
    };
    let res = map_create(&MapCreateAttr::new(kind, 0, 0, size)).map_err(|e| {
        if e.errno() == Some(ebpf_syscall::Errno::INVAL) {
            NotSupported::new(kind.to_string(), min)
        } else {
            panic!("map_create({kind}): {e}")
        }
    });
    skip_if_not_supported(res)
}

/// An array of one 16-byte value: the next sequence number, then the count of
/// failed reservations (drops).
pub fn counters() -> OwnedFd {
    map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 16, 1)).unwrap()
}

pub fn read_counters(map: &OwnedFd) -> (u64, u64) {
    let mut value = [0u8; 16];
    let handle = ebpf_syscall::MapFd::from_fd(map.try_clone().unwrap()).unwrap();
    handle
        .lookup_elem(&0u32.to_ne_bytes(), &mut value, 0)
        .unwrap();
    (
        u64::from_ne_bytes(value[..8].try_into().unwrap()),
        u64::from_ne_bytes(value[8..].try_into().unwrap()),
    )
}

pub fn load(prog_type: ProgramType, insns: Vec<Instruction>) -> OwnedFd {
    let bytes = Instructions::from(insns)
        .marshal(Endianness::NATIVE)
        .unwrap();
    let mut attr = ProgLoadAttr::new(prog_type, c"GPL");
    attr.set_insns(&bytes).unwrap();
    prog_load(&attr).unwrap_or_else(|e| panic!("load: {e}"))
}

pub fn run(prog: &OwnedFd, repeat: u32) {
    let data = [0u8; 64];
    let mut attr = ProgTestRunAttr::new(prog);
    attr.set_data_in(&data).unwrap();
    attr.repeat = repeat;
    prog_test_run(attr).unwrap();
}
