/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * What the BPF token test (crates/ebpf/tests/token.rs) loads and runs as an
 * unprivileged user inside a user namespace, with a token: BTF, a map, global
 * data (.bss, .rodata) and a socket filter that uses them.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} runs SEC(".maps");

__u64 total;
volatile const __u32 answer = 42;

SEC("socket")
int count_runs(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&runs, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	total += 2;
	return answer;
}
