/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* TCX ingress: packets and bytes per protocol (EtherType), passed on. */
#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct counter);
} by_protocol SEC(".maps");

SEC("tc")
int count_ingress(struct __sk_buff *skb)
{
	__u32 proto = __builtin_bswap16(skb->protocol);
	struct counter init = { 1, skb->len }, *c;

	c = bpf_map_lookup_elem(&by_protocol, &proto);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, skb->len);
	} else {
		bpf_map_update_elem(&by_protocol, &proto, &init, BPF_NOEXIST);
	}
	return TCX_NEXT;
}
