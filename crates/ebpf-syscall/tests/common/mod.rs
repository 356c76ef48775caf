//! Hand-encoded programs shared by the kernel tests (ebpf-asm is not used
//! here: this crate sits below it).
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::os::fd::OwnedFd;

use ebpf_syscall::{AttachType, ProgLoadAttr, ProgramType, Result, prog_load};

/// One 8-byte `struct bpf_insn`: opcode, dst/src registers, offset, immediate.
pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let o = off.to_le_bytes();
    let i = imm.to_le_bytes();
    [
        code,
        (src << 4) | (dst & 0xf),
        o[0],
        o[1],
        i[0],
        i[1],
        i[2],
        i[3],
    ]
}

/// `mov64 r0, imm; exit`.
pub fn ret(imm: i32) -> Vec<u8> {
    [insn(0xb7, 0, 0, 0, imm), insn(0x95, 0, 0, 0, 0)].concat()
}

/// Loads `insns` as a `prog_type` program.
pub fn load(prog_type: ProgramType, attach: AttachType, insns: &[u8]) -> Result<OwnedFd> {
    let mut attr = ProgLoadAttr::new(prog_type, c"GPL");
    attr.set_insns(insns)?;
    attr.expected_attach_type = attach;
    attr.prog_name = ebpf_syscall::obj_name("test_prog")?;
    prog_load(&attr)
}

/// A socket filter returning `imm`.
pub fn socket_filter(imm: i32) -> OwnedFd {
    load(ProgramType::SOCKET_FILTER, AttachType(0), &ret(imm)).expect("load a socket filter")
}

/// A minimal BTF blob: one `int` (4 bytes, signed).
pub fn minimal_btf() -> Vec<u8> {
    let strings = b"\0int\0";
    let mut types = Vec::new();
    types.extend_from_slice(&1u32.to_ne_bytes()); // name_off -> "int"
    types.extend_from_slice(&(1u32 << 24).to_ne_bytes()); // kind INT, vlen 0
    types.extend_from_slice(&4u32.to_ne_bytes()); // size
    types.extend_from_slice(&((1u32 << 24) | 32).to_ne_bytes()); // SIGNED, offset 0, 32 bits
    let mut blob = Vec::new();
    blob.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    blob.push(1); // version
    blob.push(0); // flags
    blob.extend_from_slice(&24u32.to_ne_bytes()); // hdr_len
    blob.extend_from_slice(&0u32.to_ne_bytes()); // type_off
    blob.extend_from_slice(&(types.len() as u32).to_ne_bytes());
    blob.extend_from_slice(&(types.len() as u32).to_ne_bytes()); // str_off
    blob.extend_from_slice(&(strings.len() as u32).to_ne_bytes());
    blob.extend_from_slice(&types);
    blob.extend_from_slice(strings);
    blob
}

/// The id of the BTF type of `kind` named `name` in the running kernel's vmlinux BTF.
pub fn vmlinux_type_id(kind: u32, name: &str) -> Option<u32> {
    let btf = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
    let u32_at = |off: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(btf.get(off..off + 4)?.try_into().ok()?))
    };
    let hdr_len = u32_at(4)? as usize;
    let type_off = hdr_len + u32_at(8)? as usize;
    let type_len = u32_at(12)? as usize;
    let str_off = hdr_len + u32_at(16)? as usize;
    let string = |off: u32| -> Option<&[u8]> {
        let start = str_off + off as usize;
        let rest = btf.get(start..)?;
        Some(&rest[..rest.iter().position(|&b| b == 0)?])
    };
    let mut pos = type_off;
    let mut id = 1;
    while pos < type_off + type_len {
        let name_off = u32_at(pos)?;
        let info = u32_at(pos + 4)?;
        let (k, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        if k == kind && string(name_off)? == name.as_bytes() {
            return Some(id);
        }
        let extra = match k {
            1 | 14 | 17 => 4,
            3 => 12,
            4 | 5 | 15 | 19 => 12 * vlen,
            6 | 13 => 8 * vlen,
            _ => 0,
        };
        pos += 12 + extra;
        id += 1;
    }
    None
}

/// BTF kind `FUNC`.
pub const BTF_KIND_FUNC: u32 = 12;
