/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * comm_filter: system calls counted per (command, system call number), only
 * for the command named in `.rodata` (`target_comm`, set from the command
 * line before load). The constant is part of the program the verifier
 * checks: nothing can change it once loaded.
 */
#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct key {
	char comm[16];
	__u32 nr;
};

/* Empty: every command. */
volatile const char target_comm[16] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct key);
	__type(value, __u64);
} counts SEC(".maps");

/* The context of raw_syscalls/sys_enter. */
struct sys_enter_ctx {
	__u64 common;
	long id;
	unsigned long args[6];
};

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscall(struct sys_enter_ctx *ctx)
{
	struct key key = {};
	__u64 one = 1, *count;
	int i;

	if (ctx->id < 0)
		return 0;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	if (target_comm[0]) {
		for (i = 0; i < 16; i++) {
			if (key.comm[i] != target_comm[i])
				return 0;
			if (!key.comm[i])
				break;
		}
	}
	key.nr = ctx->id;
	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}
