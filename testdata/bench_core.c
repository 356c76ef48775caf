/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A benchmark fixture: about 50 CO-RE relocations against the kernel's
 * task_struct, sched_entity and sk_buff (local definitions list only the
 * fields read; CO-RE finds them in vmlinux, inside anonymous members too).
 * Loads on any kernel with BTF; used to time relocation and open+load against
 * libbpf. The sk_buff reads go through bpf_probe_read_kernel on a pointer that
 * is not an sk_buff: they only need to verify, not to read anything sensible.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "Dual MIT/GPL";

struct sched_entity {
	u64 exec_start;
	u64 sum_exec_runtime;
	u64 vruntime;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	unsigned int flags;
	int prio;
	int static_prio;
	int normal_prio;
	unsigned int rt_priority;
	unsigned int policy;
	int nr_cpus_allowed;
	int exit_state;
	int exit_code;
	int exit_signal;
	int pdeath_signal;
	u64 start_time;
	u64 start_boottime;
	unsigned long min_flt;
	unsigned long maj_flt;
	u64 utime;
	u64 stime;
	u64 gtime;
	unsigned long nvcsw;
	unsigned long nivcsw;
	char comm[16];
	struct task_struct *real_parent;
	struct task_struct *parent;
	struct task_struct *group_leader;
	void *mm;
	int on_cpu;
	int recent_used_cpu;
	int wake_cpu;
	int on_rq;
	struct sched_entity se;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned int len;
	unsigned int data_len;
	u16 mac_len;
	u16 hdr_len;
	u16 protocol;
	u32 priority;
	u32 mark;
	u32 hash;
	u16 queue_mapping;
	unsigned int truesize;
	u16 network_header;
	u16 transport_header;
	u16 mac_header;
	u64 tstamp;
	int skb_iif;
	unsigned int napi_id;
} __attribute__((preserve_access_index));

static u64 (*bpf_get_current_task)(void) = (void *)35;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} sums SEC(".maps");

#define READ(p, field)                                                          \
	({                                                                      \
		typeof((p)->field) __v = 0;                                     \
		bpf_probe_read_kernel(&__v, sizeof(__v), &(p)->field);         \
		(u64) __v;                                                      \
	})

SEC("raw_tp/sys_enter")
int read_task(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	u64 acc = 0;
	__u32 key = 0;
	u64 *sum;

	acc += READ(t, pid) + READ(t, tgid) + READ(t, flags) + READ(t, prio);
	acc += READ(t, static_prio) + READ(t, normal_prio) + READ(t, rt_priority);
	acc += READ(t, policy) + READ(t, nr_cpus_allowed) + READ(t, exit_state);
	acc += READ(t, exit_code) + READ(t, exit_signal) + READ(t, pdeath_signal);
	acc += READ(t, start_time) + READ(t, start_boottime) + READ(t, min_flt);
	acc += READ(t, maj_flt) + READ(t, utime) + READ(t, stime) + READ(t, gtime);
	acc += READ(t, nvcsw) + READ(t, nivcsw) + READ(t, comm[0]);
	acc += (u64)READ(t, real_parent) + (u64)READ(t, parent) + (u64)READ(t, group_leader);
	acc += (u64)READ(t, mm) + READ(t, on_cpu) + READ(t, recent_used_cpu);
	acc += READ(t, wake_cpu) + READ(t, on_rq);
	acc += READ(t, se.exec_start) + READ(t, se.sum_exec_runtime) + READ(t, se.vruntime);

	sum = bpf_map_lookup_elem(&sums, &key);
	if (sum)
		*sum += acc;
	return 0;
}

SEC("raw_tp/sys_enter")
int read_skb(void *ctx)
{
	struct sk_buff *skb = (void *)bpf_get_current_task();
	u64 acc = 0;
	__u32 key = 0;
	u64 *sum;

	acc += READ(skb, len) + READ(skb, data_len) + READ(skb, mac_len) + READ(skb, hdr_len);
	acc += READ(skb, protocol) + READ(skb, priority) + READ(skb, mark) + READ(skb, hash);
	acc += READ(skb, queue_mapping) + READ(skb, truesize) + READ(skb, network_header);
	acc += READ(skb, transport_header) + READ(skb, mac_header) + READ(skb, tstamp);
	acc += READ(skb, skb_iif) + READ(skb, napi_id);

	sum = bpf_map_lookup_elem(&sums, &key);
	if (sum)
		*sum += acc;
	return 0;
}
