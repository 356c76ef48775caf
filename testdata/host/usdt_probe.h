/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * <sys/sdt.h> probes whose arguments each name their own operand constraint,
 * so one probe can hold a constant ("n"), a register ("r") and a
 * register+offset memory operand ("m"). STAP_PROBEn gives every argument of a
 * probe the same constraint (STAP_SDT_ARG_CONSTRAINT, "nor"), and clang
 * answers "nor" with memory for anything that is not a constant.
 *
 * EBPF_RS_ARG is sdt.h's own _SDT_ARG with the constraint as a parameter; the
 * note is written by sdt.h's _SDT_ASM_BODY, as STAP_PROBEn writes it.
 */
#ifndef EBPF_RS_USDT_PROBE_H
#define EBPF_RS_USDT_PROBE_H

#include <sys/sdt.h>

#define EBPF_RS_ARG(n, constraint, x)                                                      \
	[_SDT_S##n] "n"((_SDT_ARGSIGNED(x) ? (int)-1 : 1) *                                \
			(-(((int)_SDT_ARGSIZE(x)) << 8) + (-(0x7f & __builtin_classify_type(x))))), \
	[_SDT_A##n] constraint(_SDT_ARGVAL(x))

#define EBPF_RS_PROBE3(provider, name, c1, x1, c2, x2, c3, x3)                             \
	do {                                                                               \
		__asm__ __volatile__(_SDT_ASM_BODY(provider, name, _SDT_ASM_ARGS, (3))     \
				     ::EBPF_RS_ARG(1, c1, x1), EBPF_RS_ARG(2, c2, x2),    \
				     EBPF_RS_ARG(3, c3, x3));                              \
		__asm__ __volatile__(_SDT_ASM_BASE);                                       \
	} while (0)

#define EBPF_RS_PROBE6(provider, name, c1, x1, c2, x2, c3, x3, c4, x4, c5, x5, c6, x6)     \
	do {                                                                               \
		__asm__ __volatile__(_SDT_ASM_BODY(provider, name, _SDT_ASM_ARGS, (6))     \
				     ::EBPF_RS_ARG(1, c1, x1), EBPF_RS_ARG(2, c2, x2),    \
				     EBPF_RS_ARG(3, c3, x3), EBPF_RS_ARG(4, c4, x4),       \
				     EBPF_RS_ARG(5, c5, x5), EBPF_RS_ARG(6, c6, x6));      \
		__asm__ __volatile__(_SDT_ASM_BASE);                                       \
	} while (0)

#endif
