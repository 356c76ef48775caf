/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A map of maps: getppid(2) calls are counted in whichever inner array sits
 * at index 0 of `outer`; user space swaps the inner map while it runs.
 */
#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} first SEC(".maps"), second SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { &first },
};

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_calls(void *ctx)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(&outer, &zero);
	__u64 *n;

	if (!inner)
		return 0;
	n = bpf_map_lookup_elem(inner, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
