/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The loader fixture: BTF maps of many kinds, global data in every kind of
 * data section, .kconfig and .ksyms externs, bpf-to-bpf calls and programs
 * under many section names. Parsed by the spec tests; loaded piecewise by the
 * loader tests.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "Dual MIT/GPL";

struct key {
	__u32 a;
	__u16 b;
	__u8 c;
};

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct event {
	__u32 pid;
	__u32 seq;
	__u64 ts;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct key);
	__type(value, __u64);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct event);
	__uint(max_entries, 4);
} array_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__uint(max_entries, 16);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} percpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u64);
	__type(value, __u32);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
} lru_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(max_entries, 32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm_trie SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} array_of_maps SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__type(key, __u32);
		__type(value, __u64);
		__uint(max_entries, 8);
	});
} hash_of_maps SEC(".maps");

int tail_target(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(void *));
} jump_table SEC(".maps") = {
	.values = { [1] = (void *)&tail_target },
};

/* Global data: .data, .rodata, .bss and a custom .data.foo section. */
__u32 counter = 1;
volatile const __u32 const_limit = 42;
const char greeting[] = "hello";
__u64 bss_total;
struct event last_event;
__u32 foo_value SEC(".data.foo") = 7;
static __u32 hidden_static = 3;
__hidden __u32 hidden_global = 4;

/* .kconfig externs. */
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig __weak;

/* .ksyms: typed, typeless and weak. */
extern const int bpf_prog_active __ksym;
extern const void bpf_link_put __ksym;
extern const void ebpf_rs_missing_symbol __ksym __weak;

static __noinline int static_helper(int x)
{
	return x * 2 + hidden_static;
}

__noinline int global_helper(int x)
{
	return static_helper(x) + (int)const_limit;
}

static __noinline int nested_helper(int x)
{
	return global_helper(x) + 1;
}

SEC("socket")
int socket_prog(void *ctx)
{
	__u32 key = 0;
	struct event *e = bpf_map_lookup_elem(&array_map, &key);
	if (e)
		e->seq++;
	counter++;
	bss_total += foo_value + hidden_global;
	return nested_helper(greeting[1]) > 0 ? 0 : 1;
}

/* Two programs in one section. */
SEC("socket")
int socket_prog_two(void *ctx)
{
	return static_helper(counter) & 0;
}

/* A tail call target must have the caller's program type (xdp). */
SEC("xdp")
int tail_target(void *ctx)
{
	return 2; /* XDP_PASS */
}

SEC("xdp")
int xdp_prog(void *ctx)
{
	bpf_tail_call(ctx, &jump_table, 1);
	return 2; /* XDP_PASS */
}

SEC("tc")
int tc_prog(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx)
{
	struct key k;
	__u64 one = 1, *v;

	/* Zero the padding byte too: it is part of the hash key. */
	__builtin_memset(&k, 0, sizeof(k));
	k.a = bpf_get_current_pid_tgid() >> 32;
	v = bpf_map_lookup_elem(&hash_map, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&hash_map, &k, &one, 0);
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &k, sizeof(k));
	return 0;
}

SEC("raw_tp/sys_enter")
int raw_tp_prog(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ts = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

int fentry_busy;

SEC("fentry/security_file_open")
int fentry_prog(unsigned long long *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	/* fentry programs must return 0 (enforced by newer verifiers). */
	if (*active > 100)
		fentry_busy = 1;
	return 0;
}

SEC("fexit/security_file_open")
int fexit_prog(unsigned long long *ctx)
{
	return 0;
}

SEC("lsm/file_open")
int lsm_prog(unsigned long long *ctx)
{
	return 0;
}

SEC("uprobe//proc/self/exe:ebpf_rs_uprobe_target")
int uprobe_prog(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&percpu_array, &key);
	if (v)
		*v += 1;
	return 0;
}

SEC("cgroup_skb/egress")
int cgroup_skb_prog(void *ctx)
{
	return 1;
}

SEC("cgroup/connect4")
int connect4_prog(void *ctx)
{
	return 1;
}

SEC("sk_lookup")
int sk_lookup_prog(void *ctx)
{
	return 1; /* SK_PASS */
}

struct bpf_iter_meta {
	void *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

SEC("iter/task")
int iter_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	if (!task)
		return 0;
	bss_total += task->pid;
	return 0;
}

SEC("syscall")
int syscall_prog(void *ctx)
{
	/* Sleepable: ring buffers are allowed, perf event arrays are not. */
	bpf_ringbuf_output(&events, &counter, sizeof(counter), 0);
	return LINUX_KERNEL_VERSION > 0 && CONFIG_BPF_SYSCALL && CONFIG_HZ >= 0 ? 0 : 1;
}

SEC("syscall")
int ksym_prog(void *ctx)
{
	if (&ebpf_rs_missing_symbol)
		return 1;
	return (unsigned long)&bpf_link_put > 1 ? 0 : 2;
}

/*
 * A struct_ops map: a TCP congestion control with its three mandatory
 * callbacks. Registering it (through its link) adds "ebpf_rs_cc" to the
 * kernel's congestion controls until the link is closed.
 */
struct tcp_congestion_ops {
	__u32 (*ssthresh)(void *sk);
	void (*cong_avoid)(void *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(void *sk);
	char name[16];
};

SEC("struct_ops/ebpf_rs_ssthresh")
__u32 ebpf_rs_ssthresh(unsigned long long *ctx)
{
	return 2;
}

SEC("struct_ops/ebpf_rs_cong_avoid")
void ebpf_rs_cong_avoid(unsigned long long *ctx)
{
}

SEC("struct_ops/ebpf_rs_undo_cwnd")
__u32 ebpf_rs_undo_cwnd(unsigned long long *ctx)
{
	return 10;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops ebpf_rs_cc = {
	.ssthresh = (void *)ebpf_rs_ssthresh,
	.cong_avoid = (void *)ebpf_rs_cong_avoid,
	.undo_cwnd = (void *)ebpf_rs_undo_cwnd,
	.name = "ebpf_rs_cc",
};
