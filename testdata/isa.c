/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
// xtask-variant: v1 -mcpu=v1
// xtask-variant: v2 -mcpu=v2
// xtask-variant: v3 -mcpu=v3
// xtask-variant: v4 -mcpu=v4
/*
 * One program built for every ISA version: the plain build uses clang's
 * default CPU, the variants pin -mcpu=v1..v4, so readers and the assembler see
 * the same C as JMP-only (v1), JMP with more conditions (v2), JMP32 and ALU32
 * (v3) and sign-extending loads, movsx, sdiv/smod, bswap and gotol (v4).
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __s64);
	__uint(max_entries, 8);
} values SEC(".maps");

__s64 total;
__s32 divisor = 3;

static __noinline __s64 mix(__s64 v, int i)
{
	signed char small = (signed char)v;
	short half = (short)(v >> 8);
	__u32 word = (__u32)v;

	v += small * i;
	v ^= half;
	v += __builtin_bswap32(word) & 0xff;
	v += __builtin_bswap64((__u64)v) & 0xffff;
#if __BPF_CPU_VERSION__ >= 4
	return v / divisor + v % divisor; /* sdiv, smod */
#else
	return (__u64)v / (__u32)divisor + (__u64)v % (__u32)divisor;
#endif
}

SEC("socket")
int isa_prog(void *ctx)
{
	__s64 acc = 0;

	for (__u32 i = 0; i < 8; i++) {
		__u32 key = i;
		__s64 *v = bpf_map_lookup_elem(&values, &key);
		if (!v)
			continue;
		if (*v < 0 || (__u32)i > 5)
			acc -= mix(*v, i);
		else
			acc += mix(*v, i);
		__sync_fetch_and_add(&total, acc);
	}
	return acc > 0 ? 1 : 0;
}
