//! Iterators on the running kernel.

mod common;

use std::os::fd::AsFd;

use common::*;
use ebpf_asm::Register::*;
use ebpf_asm::{
    AluOp, Helper, Instructions, JumpOp, Size, call, exit, load_mem, mov64, mov64_reg, store_mem,
};
use ebpf_link::iter::{self, IterTarget};
use ebpf_link::{Link, LinkInfoData};
use ebpf_test_support::{BpfFs, kernel_test};

/// Offset of `pid` in the running kernel's `struct task_struct`.
fn task_pid_offset() -> i16 {
    let btf = ebpf_btf::Spec::kernel_shared().unwrap();
    let (_, ts) = btf.type_by_name::<ebpf_btf::Struct>("task_struct").unwrap();
    let m = ts.members.iter().find(|m| m.name == "pid").unwrap();
    i16::try_from(m.bit_offset / 8).unwrap()
}

/// An iterator program that writes, with `bpf_seq_write`, the `u32` at
/// `field` of the object whose pointer is at `ctx_ptr` in its context.
fn word_writer(name: &str, section: &str, ctx_ptr: i16, field: i16) -> ebpf::Result<ebpf::Program> {
    let insns = Instructions::from(vec![
        mov64_reg(R6, R1),
        load_mem(R7, R6, ctx_ptr, Size::DW),
        JumpOp::Eq.imm(R7, 0, "out"),
        load_mem(R8, R6, 0, Size::DW), // ctx->meta
        load_mem(R1, R7, field, Size::W),
        store_mem(R10, -4, R1, Size::W),
        load_mem(R1, R8, 0, Size::DW), // meta->seq
        mov64_reg(R2, R10),
        AluOp::Add.imm(R2, -4),
        mov64(R3, 4),
        call(Helper::SeqWrite),
        mov64(R0, 0).with_symbol("out"),
        exit(),
    ]);
    load(name, section, insns)
}

/// An `iter/task` program writing each task's pid (`ctx->task->pid`).
fn task_pids_program() -> ebpf::Result<ebpf::Program> {
    word_writer("iter_pids", "iter/task", 8, task_pid_offset())
}

fn pids(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_ne_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn task_iterator_finds_this_process() {
    kernel_test(|| {
        let prog = task_pids_program()?;
        let link = iter::attach(&prog).unwrap();
        let out = link.read_to_end().unwrap();
        let all = pids(&out);
        assert!(all.contains(&pid()), "{} pids, not ours", all.len());
        assert!(all.len() > 1, "other tasks too");
        // Each open is a fresh run.
        assert!(pids(&link.read_to_end().unwrap()).contains(&pid()));
        let info = link.info().unwrap();
        assert_eq!(
            info.data,
            LinkInfoData::Iter {
                target_name: "task".into(),
                map_id: 0,
            }
        );
        Ok(())
    });
}

#[test]
fn task_iterator_with_pid_parameter() {
    kernel_test(|| {
        let prog = task_pids_program()?;
        let link = iter::attach_with(&prog, IterTarget::Pid(pid()))?;
        let all = pids(&link.read_to_end().unwrap());
        assert!(!all.is_empty());
        // Only this process's threads: each reports the thread id, which for
        // the main thread is the pid; no pid 1.
        assert!(!all.contains(&1), "{all:?}");
        Ok(())
    });
}

#[test]
fn iterator_pin_reads_through_bpffs() {
    kernel_test(|| {
        let fs = BpfFs::new().unwrap();
        let prog = task_pids_program()?;
        let mut link = iter::attach(&prog).unwrap();
        let path = fs.path().join("pids");
        link.pin(&path).unwrap();
        // Reading a pinned iterator runs it too.
        let all = pids(&std::fs::read(&path).unwrap());
        assert!(all.contains(&pid()));
        let reopened = iter::IterLink::from_pin(&path).unwrap();
        assert!(pids(&reopened.read_to_end().unwrap()).contains(&pid()));
        drop(reopened);
        // Update the iterator's program.
        let other = task_pids_program()?;
        link.update(&other).unwrap();
        assert_eq!(link.info().unwrap().program_id, other.id().unwrap());
        link.unpin().unwrap();
        assert!(!path.exists());
        Ok(())
    });
}

#[test]
fn silent_iterator_reads_empty() {
    kernel_test(|| {
        // A program that writes nothing: the output is empty, but reading
        // runs it to the end.
        let prog = load(
            "iter_quiet",
            "iter/task",
            Instructions::from(vec![mov64(R0, 0), exit()]),
        )
        .unwrap();
        let link = iter::attach(&prog).unwrap();
        assert!(link.read_to_end().unwrap().is_empty());
        Ok(())
    });
}

#[test]
fn map_iterator_reports_its_map() {
    kernel_test(|| {
        // Writes each key (`*ctx->key`, a `u32`) of the map it walks.
        let prog = word_writer("iter_keys", "iter/bpf_map_elem", 16, 0)?;
        let map = ebpf::Map::create(&ebpf::MapSpec::new(
            "iter_keys",
            ebpf::MapType::ARRAY,
            4,
            8,
            3,
        ))
        .unwrap();
        let link = iter::attach_with(&prog, IterTarget::Map(map.as_fd())).unwrap();
        assert_eq!(pids(&link.read_to_end().unwrap()), [0, 1, 2]);
        assert_eq!(
            link.info().unwrap().data,
            LinkInfoData::Iter {
                target_name: "bpf_map_elem".into(),
                map_id: map.info().unwrap().id,
            }
        );
        Ok(())
    });
}
