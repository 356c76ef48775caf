/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The default object of `ebpf-tool run`: counts system calls per process.
 * Attached to the raw_syscalls/sys_enter tracepoint; user space shows the
 * `counts` map as a top table (key: pid and comm, value: calls). The map is
 * an LRU hash, so processes keep being counted once it is full (the least
 * recently seen drop out), and the process `ignore_tgid` (set before load,
 * the tool's own) is not counted.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "Dual MIT/GPL";

struct proc_key {
	__u32 pid;
	char comm[16];
};

/* Set before load; a load-time constant for the verifier. */
volatile const __u32 ignore_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct proc_key);
	__type(value, __u64);
	__uint(max_entries, 10240);
} counts SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscalls(void *ctx)
{
	struct proc_key key = {};
	__u64 one = 1, *count;

	key.pid = bpf_get_current_pid_tgid() >> 32;
	if (key.pid == ignore_tgid)
		return 0;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, 1 /* BPF_NOEXIST */);
	return 0;
}
