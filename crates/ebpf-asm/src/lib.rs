//! The eBPF instruction model: encode/decode in both byte orders, a builder with labels, disassembly and a text assembler.
//!
//! # Layer
//!
//! `ebpf-asm` is a **pure** crate (it never makes a system call and gives the same result on any host).
//! It may depend on no other crate of this workspace; see `docs/ARCHITECTURE.md` for the whole chain.
//!
//! # Overview
//!
//! - [`Instruction`]: one logical instruction (`ld_imm64` is one instruction of width 2) with
//!   typed opcode parts ([`OpCode`], [`Class`], [`Size`], [`Mode`], [`AluOp`], [`JumpOp`],
//!   [`OpSource`], [`AtomicOp`]), registers ([`Register`]) and [`Metadata`] (with [`Source`] lines).
//! - Encoding and decoding in either [`Endianness`]; decoding keeps every bit, and
//!   [`Instruction::validate`] checks the kernel's rules for opcodes, reserved fields and
//!   registers.
//! - [`Instructions`]: a program; raw offsets, label resolution, marshal and unmarshal.
//! - Builders: `AluOp::Add.imm(R1, 22)`, `JumpOp::Eq.imm(R0, 0, "exit")`, [`load_map_ptr`],
//!   [`call`], [`exit`], ... and `.with_symbol("name")` for labels; [`Builder`] assembles a
//!   program with [`label`](Builder::label) naming the next instruction emitted.
//! - `Display`: `llvm-objdump -d` syntax; [`parse`] reads it back.
//! - [`Helper`]: the helper functions up to Linux 6.18; [`tag`](Instructions::tag): the program tag.
//!
//! # Decisions
//!
//! - `PartialEq`/`Eq`/`Hash` on [`Instruction`] (and so on [`Instructions`]) compare the
//!   encoding fields only, never [`Metadata`].
//! - Decoding is lenient: undefined opcodes, non-zero reserved fields and register numbers
//!   11-15 ([`Register::R11`]..[`Register::R15`]) are kept as they are and encode back to the
//!   same bytes in either byte order, so that an object holding them (the kernel selftests
//!   have some on purpose) opens and the verifier gives its verdict. [`Instruction::validate`]
//!   says whether an instruction is a defined one (`callx`, which only LLVM emits, and
//!   `addr_space_cast` count as defined). The only encodings that do not decode are a
//!   truncated one and an `ld_imm64` whose second half has bits outside its immediate.
//! - `Display` writes every valid instruction in assembler syntax and anything else in a raw
//!   form, `raw(op=0xbf, dst=r0, src=r15, off=0x0, imm=0x0)`; [`parse`] reads both back.
//! - Jump labels and function names share one namespace: an instruction's symbol.
//!   [`Instructions::marshal`] resolves the references of jumps, BPF-to-BPF calls and
//!   function address loads; map references are left to the loader.
//! - `Display` is `llvm-objdump-19 -d` (its default, hex immediates) except where LLVM 19
//!   loses information; there it prints a form [`parse`] reads back. `{:#}` adds
//!   `<reference>` / `<helper name>` annotations, and on [`Instructions`] also `symbol:`
//!   lines and `; source` comments.
//!
//! | instruction | llvm-objdump-19 | here |
//! | --- | --- | --- |
//! | BPF-to-BPF call | `call -0x1` | `call pc-0x1` |
//! | kfunc call | `call 0x5` | `call kfunc 0x5` (`call kfunc 0x5, 0x1` with a module index) |
//! | 32-bit atomics but `lock +=` | lossy or `<unknown>` | `lock *(u32 *)(r1 + 0x10) &= r2`; fetch forms as `-mattr=+alu32` prints them, e.g. `w1 = xchg32_32(r10 - 0x8, w1)` |
//! | load-acquire, store-release | `<unknown>` | LLVM 21 syntax, `w1 = load_acquire((u8 *)(r2 + 0x0))` |
//! | `ld_imm64` pseudo with a high half | only the low half | `ld_pseudo\tr1, 0x2, 0x800000005` |
//! | `LD_IND` with an immediate | immediate dropped | `r0 = *(u32 *)skb[r1 + 0x4]` |
//!
//! ```
//! use ebpf_asm::{AluOp, Endianness, Instructions, JumpOp, Register::*, exit, mov64};
//!
//! let prog = Instructions::from(vec![
//!     mov64(R0, 0).with_symbol("main"),
//!     JumpOp::Eq.imm(R1, 0, "out"),
//!     AluOp::Add.imm(R0, 22),
//!     exit().with_symbol("out"),
//! ]);
//! let bytes = prog.marshal(Endianness::Little)?;
//! let back = Instructions::unmarshal(&bytes, Endianness::Little)?;
//! assert_eq!(back[1].to_string(), "if r1 == 0x0 goto +0x1");
//! assert_eq!(ebpf_asm::parse("r0 = 0\nexit")?.len(), 2);
//! # Ok::<(), ebpf_asm::Error>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod alu;
mod atomic;
mod builder;
mod display;
mod error;
#[rustfmt::skip]
mod helpers;
mod instruction;
mod jump;
mod kind;
mod load_store;
mod marshal;
mod metadata;
mod opcode;
mod parse;
mod register;
mod row_table;
mod source;
mod tag;

pub use alu::{
    AluOp, ByteSwap, addr_space_cast, mov32, mov32_reg, mov64, mov64_reg, movsx32, movsx64, neg32,
    neg64,
};
pub use atomic::{AtomicOp, load_acquire, store_release};
pub use builder::Builder;
pub use display::Disassembly;
pub use error::{Error, InvalidReason, Result};
pub use helpers::Helper;
pub use instruction::{Endianness, Instruction, PseudoCall, PseudoLoad, SLOT_SIZE};
pub use jump::{
    JumpOp, call, call_func, call_func_offset, call_helper_id, call_kfunc, callx, exit, gotol,
    gotol_offset, ja, may_goto, may_goto_offset,
};
pub use load_store::{
    load_abs, load_btf_id, load_func, load_imm64, load_imm64_pseudo, load_ind, load_map_fd,
    load_map_ptr, load_map_value, load_map_value_fd, load_mem, load_mem_sx, store_imm, store_mem,
};
pub use marshal::{InstructionSource, Instructions, OffsetIter};
pub use metadata::Metadata;
pub use opcode::{Class, Mode, OpCode, OpSource, Size};
pub use parse::parse;
pub use register::Register;
pub use row_table::{ExtensionRows, RowShares, RowTable};
pub use source::Source;
pub use tag::{ProgramTag, TagAlgorithm, tag_of_bytes};
