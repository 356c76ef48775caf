/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* XDP: packets and bytes per IPv4 source address, every packet passed on. */
#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);
	__type(value, struct counter);
} by_source SEC(".maps");

SEC("xdp")
int count_sources(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct counter init = { 1, 0 }, *c;

	if ((void *)(ip + 1) > end || eth->h_proto != __builtin_bswap16(ETH_P_IP))
		return XDP_PASS;
	init.bytes = end - data;
	c = bpf_map_lookup_elem(&by_source, &ip->saddr);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, end - data);
	} else {
		bpf_map_update_elem(&by_source, &ip->saddr, &init, BPF_NOEXIST);
	}
	return XDP_PASS;
}
