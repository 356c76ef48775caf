/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The freplace fixture: a tc program whose verdict comes from a global
 * function, a freplace program that replaces that function, and a flow
 * dissector that dissects IPv4/UDP and counts the datagrams to one port.
 * Loaded by the ebpf-link freplace and flow dissector tests.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "GPL";

/* The UDP port whose datagrams the flow dissector counts. */
#define COUNTED_PORT 40404

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define be16(x) ((__u16)((((x) & 0xff) << 8) | (((x) >> 8) & 0xff)))
#else
#define be16(x) ((__u16)(x))
#endif

#define ETH_P_IP 0x0800
#define IPPROTO_UDP 17
#define BPF_OK 0

/* The leading fields of the context, as far as the programs read it. */
struct bpf_flow_keys {
	__u16 nhoff;
	__u16 thoff;
	__u16 addr_proto;
	__u8 is_frag;
	__u8 is_first_frag;
	__u8 is_encap;
	__u8 ip_proto;
	__u16 n_proto;
	__u16 sport;
	__u16 dport;
	__u32 ipv4_src;
	__u32 ipv4_dst;
};

struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u32 tc_classid;
	__u32 data;
	__u32 data_end;
	__u32 napi_id;
	__u32 family;
	__u32 remote_ip4;
	__u32 local_ip4;
	__u32 remote_ip6[4];
	__u32 local_ip6[4];
	__u32 remote_port;
	__u32 local_port;
	__u32 data_meta;
	struct bpf_flow_keys *flow_keys;
};

struct iphdr {
	__u8 ver_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
};

struct udphdr {
	__u16 source;
	__u16 dest;
	__u16 len;
	__u16 check;
};

static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)26;

/* The function the freplace program replaces: global, never inlined. */
__noinline int verdict(__u32 len)
{
	return len > 0 ? 1 : 2;
}

SEC("tc")
int target_prog(struct __sk_buff *skb)
{
	return verdict(skb->len);
}

SEC("freplace/verdict")
int replace_verdict(__u32 len)
{
	return 42;
}

/* UDP datagrams to COUNTED_PORT seen by the flow dissector. */
__u64 dissected;

SEC("flow_dissector")
int count_dissect(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;
	struct iphdr iph;
	struct udphdr udph;
	__u16 thoff;

	if (keys->n_proto != be16(ETH_P_IP))
		return BPF_OK;
	if (bpf_skb_load_bytes(skb, keys->nhoff, &iph, sizeof(iph)))
		return BPF_OK;
	keys->addr_proto = be16(ETH_P_IP);
	keys->ipv4_src = iph.saddr;
	keys->ipv4_dst = iph.daddr;
	keys->ip_proto = iph.protocol;
	thoff = keys->nhoff + (iph.ver_ihl & 0xf) * 4;
	keys->thoff = thoff;
	if (iph.protocol != IPPROTO_UDP)
		return BPF_OK;
	if (bpf_skb_load_bytes(skb, thoff, &udph, sizeof(udph)))
		return BPF_OK;
	keys->sport = udph.source;
	keys->dport = udph.dest;
	if (udph.dest == be16(COUNTED_PORT))
		__sync_fetch_and_add(&dissected, 1);
	return BPF_OK;
}
