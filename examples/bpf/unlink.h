/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* What the fentry and kprobe flavours of unlinksnoop share. */
#ifndef EBPF_EXAMPLES_UNLINK_H
#define EBPF_EXAMPLES_UNLINK_H

#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct unlink_event {
	__u32 pid;
	char comm[16];
	char filename[128];
};

/* Only the field used; CO-RE finds it in the running kernel's layout. */
struct filename {
	const char *name;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct unlink_event);
} events SEC(".maps");

static __always_inline int report(struct filename *name)
{
	struct unlink_event *e;
	const char *s = 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel(&s, sizeof(s), __builtin_preserve_access_index(&name->name));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), s);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif
