/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* The linked fixture, file 2 of 3: see a.c. */
#include "../include/bpf_common.h"

/* The same weak definition as a.c's: the linker keeps one map. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4);
} map_weak SEC(".maps") __weak;

static volatile int counter = 20;

static __noinline int subprog(int x)
{
	return x * counter;
}

/* Overrides a.c's weak pick. */
__noinline int pick(int x)
{
	return x + 2000;
}

__noinline int b_func(int x)
{
	return subprog(x);
}

/* The value at key 0 of the weak map: 0, and 42 once a.c's weak_map_write ran. */
SEC("socket")
int weak_map_read(void *ctx)
{
	__u32 key = 0, *value = bpf_map_lookup_elem(&map_weak, &key);

	return value ? *value : 0xffff;
}

/* This file's subprog(3) = 3 * 20. */
SEC("socket")
int statics_b(void *ctx)
{
	return subprog(3);
}
