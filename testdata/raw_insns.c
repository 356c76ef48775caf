/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Instructions only the verifier may judge: a register number above 10, non-zero
 * reserved fields and an undefined opcode, written as raw bytes the way the
 * kernel selftests write them (verifier_uninit.c: `.8byte` of
 * BPF_MOV64_REG(BPF_REG_0, -1)). The object must open, every bit must survive
 * decoding and encoding, and loading must fail with the verifier's own message.
 */
#include "include/bpf_common.h"

char _license[] SEC("license") = "GPL";

/* struct bpf_insn as include/uapi/linux/bpf.h declares it: the register
 * nibbles are bitfields, so clang orders them for the target's byte order. */
struct bpf_insn {
	__u8 code;
	__u8 dst_reg : 4;
	__u8 src_reg : 4;
	__s16 off;
	__s32 imm;
};

#define RAW_INSN(CODE, DST, SRC, OFF, IMM) \
	((struct bpf_insn){ .code = CODE, .dst_reg = DST, .src_reg = SRC, .off = OFF, .imm = IMM })
/* An instruction as an `asm` operand, as the selftests' __imm_insn does. */
#define IMM_INSN(name, insn) [name] "i"(*(long *)&(insn))

/* r0 = r15: "R15 is invalid". */
SEC("socket")
__attribute__((naked)) void invalid_src_register(void)
{
	asm volatile(".8byte %[mov];\n"
		     "exit;\n"
		     :
		     : IMM_INSN(mov, RAW_INSN(0xbf, 0, -1, 0, 0)));
}

/* *(u64 *)(r11 - 7) = r0, as verifier_spill_fill's "invalid spill base". */
SEC("socket")
__attribute__((naked)) void invalid_dst_register(void)
{
	asm volatile("r0 = 0;\n"
		     ".8byte %[store];\n"
		     "exit;\n"
		     :
		     : IMM_INSN(store, RAW_INSN(0x7b, 11, 0, -7, 0)));
}

/* r0 /= r0 with offset -1: "BPF_ALU uses reserved fields". */
SEC("socket")
__attribute__((naked)) void reserved_offset(void)
{
	asm volatile("r0 = 1;\n"
		     ".8byte %[div];\n"
		     "exit;\n"
		     :
		     : IMM_INSN(div, RAW_INSN(0x3f, 0, 0, -1, 0)));
}

/* exit with an immediate: "BPF_EXIT uses reserved fields". */
SEC("socket")
__attribute__((naked)) void reserved_imm(void)
{
	asm volatile("r0 = 0;\n"
		     ".8byte %[exit];\n"
		     :
		     : IMM_INSN(exit, RAW_INSN(0x95, 0, 0, 0, 1)));
}

/* Opcode 0xff: "unknown opcode ff". */
SEC("socket")
__attribute__((naked)) void unknown_opcode(void)
{
	asm volatile("r0 = 0;\n"
		     ".8byte %[bad];\n"
		     "exit;\n"
		     :
		     : IMM_INSN(bad, RAW_INSN(0xff, 0, 0, 0, 0)));
}
