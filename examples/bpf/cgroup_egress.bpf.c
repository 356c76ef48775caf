/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* cgroup_skb egress: packets and bytes a cgroup sends, every packet allowed. */
#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct totals {
	__u64 packets;
	__u64 bytes;
};

/* Read after load through the skeleton's bss(). */
struct totals egress;

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&egress.packets, 1);
	__sync_fetch_and_add(&egress.bytes, skb->len);
	return 1;
}
