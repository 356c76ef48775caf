/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * bashreadline: every line an interactive bash reads, from a uretprobe on
 * its `readline` function (the returned string), with the reader's pid and
 * command, through a ring buffer. The Rust side attaches it to the bash it
 * finds (/bin/bash or /usr/bin/bash), so the section names no binary.
 */
#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct line {
	__u32 pid;
	char comm[16];
	char text[240];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct line);
} lines SEC(".maps");

SEC("uretprobe")
int handle_readline(struct pt_regs *ctx)
{
	const char *ret = (const char *)PT_REGS_RC(ctx);
	struct line *l;

	if (!ret)
		return 0;
	l = bpf_ringbuf_reserve(&lines, sizeof(*l), 0);
	if (!l)
		return 0;
	l->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(l->comm, sizeof(l->comm));
	bpf_probe_read_user_str(l->text, sizeof(l->text), ret);
	bpf_ringbuf_submit(l, 0);
	return 0;
}
