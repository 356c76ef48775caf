/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * USDT probes read through libbpf's own usdt.bpf.h (Debian's libbpf-dev,
 * /usr/include/bpf), as users write them: the programs of the USDT tests
 * (crates/ebpf-link/tests/usdt.rs), which probe testdata/host/usdt_target-x86_64
 * and its library.
 *
 * usdt.bpf.h includes <linux/errno.h>, whose <asm/errno.h> lives in the host's
 * multiarch include directory: include/asm/errno.h stands in for it. The x86-64
 * struct pt_regs bpf_tracing.h reads (__TARGET_ARCH_x86, user-space register
 * names) is defined here.
 *
 * usdt_libbpf17-*.o is the same source against libbpf 1.7's own headers (the
 * libbpf-sys crate's; see xtask/src/fixtures.rs), whose struct
 * __bpf_usdt_spec has another layout and reads base + index * scale arguments.
 */
// xtask-cflags: -D__TARGET_ARCH_x86 -idirafter include
// xtask-variant: libbpf17 -DEBPF_RS_LIBBPF_1_7 -I@LIBBPF_SRC@

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
};

enum {
	BPF_ANY = 0,
};

struct pt_regs {
	unsigned long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	unsigned long rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
};

#ifdef EBPF_RS_LIBBPF_1_7
#include "usdt.bpf.h"
#else
#include <bpf/usdt.bpf.h>
#endif

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define MAX_ARGS 12

/* One record per attachment (its USDT cookie) and first argument (the
 * call site of ebpf_rs:natural). */
struct record_key {
	__u64 cookie;
	__s64 first;
};

struct record {
	__u64 hits;
	__s64 arg_cnt;
	__s64 args[MAX_ARGS];
	__s32 errors[MAX_ARGS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct record_key);
	__type(value, struct record);
} records SEC(".maps");

/* The record is filled in a map value, not on the stack. The verifier keeps
 * the kind of every stack slot in its states; the older ones (5.10, 6.1)
 * tell a slot holding a zero (an argument read as 0, a return code of 0)
 * from one holding another value, and do not prune one by the other. Each of
 * the twelve bpf_usdt_arg calls ends in several ways, so with the record on
 * the stack their states multiply past the million instructions the verifier
 * processes ("too complex", E2BIG), with libbpf's loader as with ours. What
 * a map value holds is not part of the state. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct record);
} scratch SEC(".maps");

/* Attached explicitly (ebpf_link::usdt::attach), once per probe, each with
 * its own cookie: reads every argument through bpf_usdt_arg. */
SEC("usdt")
int record_usdt(struct pt_regs *ctx)
{
	struct record_key key = {};
	struct record *rec, *old;
	__u32 zero = 0;
	long v;

	rec = bpf_map_lookup_elem(&scratch, &zero);
	if (!rec)
		return 0;
	rec->arg_cnt = bpf_usdt_arg_cnt(ctx);
#pragma clang loop unroll(full)
	for (int i = 0; i < MAX_ARGS; i++) {
		rec->errors[i] = bpf_usdt_arg(ctx, i, &v);
		rec->args[i] = v;
	}
	key.cookie = bpf_usdt_cookie(ctx);
	key.first = rec->args[0];
	old = bpf_map_lookup_elem(&records, &key);
	rec->hits = old ? old->hits + 1 : 1;
	bpf_map_update_elem(&records, &key, rec, BPF_ANY);
	return 0;
}

/* What the auto-attached BPF_USDT program saw last. */
struct {
	__u64 hits;
	__s64 c;
	__s64 wide;
	__s64 small;
	__u64 byte;
	__s64 tiny;
	__u64 big;
} args_seen;

/* Auto-attached from its section name; the path is relative to the tests'
 * working directory, crates/ebpf-link. */
SEC("usdt/../../testdata/host/usdt_target-x86_64:ebpf_rs:args")
int BPF_USDT(args_typed, int c, long wide, short small, unsigned char byte, signed char tiny,
	     unsigned long big)
{
	args_seen.c = c;
	args_seen.wide = wide;
	args_seen.small = small;
	args_seen.byte = byte;
	args_seen.tiny = tiny;
	args_seen.big = big;
	__sync_fetch_and_add(&args_seen.hits, 1);
	return 0;
}
