//! Programs and helpers shared by the kernel tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::os::fd::{AsFd, AsRawFd};

use ebpf::{Map, MapSpec, MapType, Program, ProgramOptions, ProgramSpec, UpdateFlags};
use ebpf_asm::Register::*;
use ebpf_asm::{
    AluOp, AtomicOp, Helper, Instruction, Instructions, JumpOp, Size, call, exit, load_map_fd,
    mov32_reg, mov64, mov64_reg, store_imm,
};

/// A one-slot `u64` array counted by [`counting_program`].
pub fn counter() -> Map {
    Map::create(&MapSpec::new("link_counter", MapType::ARRAY, 4, 8, 1)).unwrap()
}

/// The counter's value.
pub fn count(map: &Map) -> u64 {
    let v: Option<u64> = map.get(&0u32).unwrap();
    v.unwrap_or(0)
}

/// Resets the counter.
pub fn reset(map: &Map) {
    map.put(&0u32, &0u64, UpdateFlags::ANY).unwrap();
}

/// Instructions that add one to slot 0 of `map`, only for process `pid` if
/// given, then return `ret`.
pub fn counting_insns(map: &Map, pid: Option<u32>, ret: i32) -> Instructions {
    match pid {
        Some(pid) => counting_insns_for(map, Only::Process(pid), ret, ret),
        None => counting_insns_for(map, Only::Any, ret, ret),
    }
}

/// Which calls [`counting_insns_for`] counts.
#[derive(Debug, Clone, Copy)]
pub enum Only {
    /// Every call.
    Any,
    /// Calls from this process (tgid).
    Process(u32),
    /// Calls from this thread (tid).
    Thread(u32),
}

/// Counts the calls that `only` selects in `map[0]` and returns `ret` for them,
/// `ret_other` for the rest.
pub fn counting_insns_for(map: &Map, only: Only, ret: i32, ret_other: i32) -> Instructions {
    let mut v: Vec<Instruction> = Vec::new();
    let id = match only {
        Only::Any => None,
        Only::Process(pid) => {
            v.push(call(Helper::GetCurrentPidTgid));
            v.push(AluOp::Rsh.imm(R0, 32));
            Some(pid)
        }
        Only::Thread(tid) => {
            v.push(call(Helper::GetCurrentPidTgid));
            v.push(mov32_reg(R0, R0));
            Some(tid)
        }
    };
    if let Some(id) = id {
        v.push(JumpOp::Ne.imm(R0, id as i32, "other"));
    }
    v.extend([
        store_imm(R10, -4, 0, Size::W),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -4),
        load_map_fd(R1, map.as_fd().as_raw_fd()),
        call(Helper::MapLookupElem),
        JumpOp::Eq.imm(R0, 0, "out"),
        mov64(R1, 1),
        AtomicOp::Add.mem(R0, R1, 0, Size::DW),
        mov64(R0, ret).with_symbol("out"),
        exit(),
    ]);
    if id.is_some() {
        // Only reachable through the filter's jump (the verifier refuses dead code).
        v.extend([mov64(R0, ret_other).with_symbol("other"), exit()]);
    }
    Instructions::from(v)
}

/// Loads `insns` as a program of the type the section name `section` implies.
pub fn load(name: &str, section: &str, insns: Instructions) -> ebpf::Result<Program> {
    let mut spec = ProgramSpec::new(name, section, insns);
    spec.license = "GPL".into();
    Program::load(&spec, &ProgramOptions::default())
}

/// A counting program for `section`.
pub fn counting_program(section: &str, map: &Map, pid: Option<u32>, ret: i32) -> Program {
    load("counter", section, counting_insns(map, pid, ret)).unwrap()
}

/// A program that only returns `ret`.
pub fn trivial_program(section: &str, ret: i32) -> Program {
    load(
        "trivial",
        section,
        Instructions::from(vec![mov64(R0, ret), exit()]),
    )
    .unwrap()
}

/// A `getpid` system call (glibc stopped caching the pid in 2.25, so this
/// enters the kernel every time and fires `syscalls/sys_enter_getpid`).
pub fn raw_getpid() {
    std::hint::black_box(nix::unistd::getpid());
}

/// This process's id.
pub fn pid() -> u32 {
    std::process::id()
}

/// A program of a committed fixture object (`testdata/<obj>`), with the
/// maps it references created and their fds patched into its map loads.
pub struct Fixture {
    pub spec: ProgramSpec,
    pub program: Program,
    pub maps: std::collections::BTreeMap<String, Map>,
}

/// Loads program `name` of fixture `obj` (only map and map value references,
/// such as a `.rodata` variable's, are supported).
pub fn fixture(obj: &str, name: &str) -> Fixture {
    let path = format!("{}/../../testdata/{obj}", env!("CARGO_MANIFEST_DIR"));
    let coll = ebpf::CollectionSpec::from_file(&path).unwrap();
    let mut spec = coll.programs.get(name).unwrap().clone();
    let mut maps = std::collections::BTreeMap::new();
    for ins in spec.instructions.iter_mut() {
        let value = match ins.pseudo_load() {
            Some(ebpf_asm::PseudoLoad::MapFd) => None,
            Some(ebpf_asm::PseudoLoad::MapValue) => ins.map_fd_and_offset().map(|(_, off)| off),
            _ => continue,
        };
        let Some(r) = ins.reference().map(str::to_owned) else {
            continue;
        };
        let map = maps.entry(r.clone()).or_insert_with(|| {
            let mut ms = coll.maps.get(&r).unwrap().clone();
            ms.pinning = Default::default();
            Map::create(&ms).unwrap()
        });
        let fd = map.as_fd().as_raw_fd();
        let mut new = match value {
            Some(offset) => ebpf_asm::load_map_value_fd(ins.dst, fd, offset),
            None => load_map_fd(ins.dst, fd),
        };
        if let Some(s) = ins.symbol() {
            new = new.with_symbol(s.to_owned());
        }
        *ins = new;
    }
    let program = Program::load(&spec, &ProgramOptions::default()).unwrap();
    Fixture {
        spec,
        program,
        maps,
    }
}

/// Instructions that add `bpf_get_attach_cookie()` to slot 0 of `map`, for process `pid`.
pub fn cookie_insns(map: &Map, pid: u32) -> Instructions {
    Instructions::from(vec![
        mov64_reg(R7, R1),
        call(Helper::GetCurrentPidTgid),
        AluOp::Rsh.imm(R0, 32),
        JumpOp::Ne.imm(R0, pid as i32, "out"),
        mov64_reg(R1, R7),
        call(Helper::GetAttachCookie),
        mov64_reg(R6, R0),
        store_imm(R10, -4, 0, Size::W),
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -4),
        load_map_fd(R1, map.as_fd().as_raw_fd()),
        call(Helper::MapLookupElem),
        JumpOp::Eq.imm(R0, 0, "out"),
        AtomicOp::Add.mem(R0, R6, 0, Size::DW),
        mov64(R0, 0).with_symbol("out"),
        exit(),
    ])
}

/// The committed fixture `testdata/<name>-{el,eb}.o` of the host's byte order.
pub fn fixture_spec(name: &str) -> ebpf::CollectionSpec {
    let order = if cfg!(target_endian = "little") {
        "el"
    } else {
        "eb"
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
    ebpf::CollectionSpec::from_file(format!("{dir}/{name}-{order}.o")).unwrap()
}

/// Whether the running kernel describes perf_event links (kprobe, uprobe,
/// tracepoint, event) in link info: from 6.6. Before that the library reports
/// [`ebpf_link::PerfEventInfo::Unspecified`], which this asserts.
pub fn perf_link_info(data: &ebpf_link::LinkInfoData) -> bool {
    if ebpf_test_support::kernel_version() >= ebpf_syscall::KernelVersion::new(6, 6, 0) {
        return true;
    }
    assert!(
        matches!(
            data,
            ebpf_link::LinkInfoData::PerfEvent(ebpf_link::PerfEventInfo::Unspecified)
        ),
        "before 6.6: {data:?}"
    );
    false
}
