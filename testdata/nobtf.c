/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
// xtask-cflags: -g0
/*
 * Built with -g0: no .BTF, no .BTF.ext. Maps use the legacy `maps` section
 * (struct bpf_map_def), the only map definitions that work without BTF.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "GPL";
__u32 __version SEC("version") = 0x060100;

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 32,
};

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 2,
	.map_flags = 0,
};

__u64 nobtf_counter;

static __noinline int add_one(int x)
{
	return x + 1;
}

SEC("socket")
int legacy_socket(void *ctx)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&legacy_hash, &key);
	if (v)
		*v = add_one(*v);
	nobtf_counter++;
	return 0;
}

SEC("xdp")
int legacy_xdp(void *ctx)
{
	__u32 key = 0;
	__u32 *v = bpf_map_lookup_elem(&legacy_array, &key);
	return v ? 2 : 1;
}
