/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A map of maps whose inner maps' values hold a bpf_spin_lock: the inner
 * map template must be created with the value's BTF, or the kernel refuses
 * to put such inner maps in the outer map. The program takes the lock of
 * the inner map's value and counts.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "Dual MIT/GPL";

struct bpf_spin_lock {
	__u32 val;
};

struct locked {
	struct bpf_spin_lock lock;
	__u32 count;
};

static void (*bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static void (*bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;

struct inner_locked {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct locked);
	__uint(max_entries, 1);
} inner_one SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner_locked);
} locked_maps SEC(".maps") = {
	.values = { &inner_one },
};

SEC("socket")
int count_locked(void *ctx)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(&locked_maps, &zero);
	if (!inner)
		return 1;
	struct locked *v = bpf_map_lookup_elem(inner, &zero);
	if (!v)
		return 2;
	bpf_spin_lock(&v->lock);
	v->count++;
	bpf_spin_unlock(&v->lock);
	return 0;
}
