/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * opensnoop: every openat(2), with the opener's pid, parent pid (read with
 * CO-RE from task_struct), command and file name, sent through a ring
 * buffer; opens counted per process. `target_pid` (set from the command line
 * before load) limits it to one process.
 */
#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct event {
	__u32 pid;
	__u32 ppid;
	char comm[16];
	char filename[128];
};

/* Only the fields used; CO-RE finds them in the running kernel's task_struct. */
struct task_struct {
	struct task_struct *real_parent;
	int tgid;
} __attribute__((preserve_access_index));

/* 0: every process. */
volatile const __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int handle_openat(struct syscall_enter_ctx *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task, *parent;
	struct event *e;
	__u64 one = 1, *count;

	if (target_pid && pid != target_pid)
		return 0;
	count = bpf_map_lookup_elem(&counts, &pid);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	task = (void *)bpf_get_current_task();
	bpf_probe_read_kernel(&parent, sizeof(parent), __builtin_preserve_access_index(&task->real_parent));
	bpf_probe_read_kernel(&e->ppid, sizeof(e->ppid), __builtin_preserve_access_index(&parent->tgid));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), (void *)ctx->args[1]);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
