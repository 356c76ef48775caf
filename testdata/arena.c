/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The arena fixture: a BPF_MAP_TYPE_ARENA map (6.9+), globals in the arena
 * (`__arena`, which clang puts in section .addr_space.1) with initial values,
 * and a sleepable syscall program that reads and writes them and allocates an
 * arena page with the bpf_arena_alloc_pages kfunc. Loaded and run by
 * crates/ebpf/tests/arena.rs.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "GPL";

#define BPF_MAP_TYPE_ARENA 33
#define BPF_F_MMAPABLE (1U << 10)
#define NUMA_NO_NODE (-1)
#define __arena __attribute__((address_space(1)))

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4); /* pages */
	__ulong(map_extra, 1ull << 44); /* user address of the arena */
} arena SEC(".maps");

extern void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt,
					   int node_id, __u64 flags) __ksym __weak;

/* Initialised arena globals: their values are copied into the arena at load. */
__u64 __arena arena_magic = 0x1122334455667788ULL;
__u32 __arena arena_table[4] = { 1, 2, 3, 4 };
/* Zero-initialised ones. */
__u32 __arena arena_runs;
__u64 __arena arena_sum;
__u64 __arena *__arena arena_page;

SEC("syscall")
int arena_prog(void *ctx)
{
	__u64 __arena *page;
	int i;

	arena_runs += 1;
	arena_sum = arena_magic;
	for (i = 0; i < 4; i++)
		arena_sum += arena_table[i];
	arena_table[0] = arena_runs * 10;

	page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!page)
		return 1;
	page[0] = 0xfeedULL;
	page[1] = arena_runs;
	arena_page = page;
	return 0;
}
