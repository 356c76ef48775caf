/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
// xtask-cflags: -g0
/*
 * Legacy `maps` definitions in iproute2's larger layout (struct bpf_elf_map):
 * readers take the definition size from the section size divided by the
 * number of map symbols, and the fields past map_flags must be zero.
 */
#include "include/bpf_common.h"

char LICENSE[] SEC("license") = "GPL";

struct bpf_elf_map {
	unsigned int type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx;
};

struct bpf_elf_map SEC("maps") big_a = { .type = 1, .size_key = 4, .size_value = 8, .max_elem = 3 };
struct bpf_elf_map SEC("maps") big_b = {
	.type = 2, .size_key = 4, .size_value = 4, .max_elem = 9, .flags = 1
};

SEC("xdp.frags")
int frags(void *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&big_a, &k) && bpf_map_lookup_elem(&big_b, &k) ? 2 : 1;
}
