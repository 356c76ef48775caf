/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Relocation and section kinds the other fixtures lack: kfunc calls (strong,
 * weak, and a weak kfunc's address), a callback passed by address
 * (BPF_PSEUDO_FUNC via bpf_loop), static data reached through section symbols
 * and string literals in .rodata.str1.1, a `?` (not autoloaded) section, a
 * bloom filter with __ulong(map_extra), a map with numa_node, xdp.frags
 * sections, and a plain .struct_ops map.
 */
#include "include/bpf_common.h"

char LICENSE[] SEC("license") = "GPL";

static long (*bpf_loop)(__u32 nr, void *cb, void *ctx, __u64 flags) = (void *)181;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym __weak;

static __u32 static_counter = 5;
static const char msg[] = "hello %d";

struct {
	__uint(type, 30 /* BPF_MAP_TYPE_BLOOM_FILTER */);
	__type(value, __u32);
	__uint(max_entries, 16);
	__ulong(map_extra, 3);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 8);
	__uint(numa_node, 0);
} numa_map SEC(".maps");

static int cb(__u32 i, void *ctx)
{
	static_counter += i;
	return 0;
}

SEC("?tc")
int opt_prog(void *ctx)
{
	bpf_rcu_read_lock();
	bpf_loop(4, cb, 0, 0);
	if (bpf_rcu_read_unlock)
		bpf_rcu_read_unlock();
	bpf_trace_printk(msg, sizeof(msg), static_counter);
	bpf_trace_printk("literal %d\n", 12, 1);
	return static_counter;
}

SEC("xdp.frags")
int frags_prog(void *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&numa_map, &k) ? 2 : 1;
}

SEC("xdp.frags/devmap")
int frags_devmap_prog(void *ctx)
{
	return 2;
}

struct tcp_congestion_ops {
	void (*init)(void *sk);
	char name[16];
} __attribute__((preserve_access_index));

SEC("struct_ops/my_init")
void my_init(void *sk)
{
}

SEC(".struct_ops")
struct tcp_congestion_ops my_cc = {
	.init = (void *)my_init,
	.name = "my_cc",
};
