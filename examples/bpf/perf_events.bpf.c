/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* A perf event array: one sample per getppid(2), with the caller's pid and command. */
#include "common.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct sample {
	__u32 pid;
	__u32 cpu_hint;
	char comm[16];
};

/* Puts `struct sample` into the object's BTF (a local variable's type is not),
 * so that ebpf-gen can generate it (`.type_name("sample")` in build.rs). */
struct sample *unused_sample __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} samples SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	struct sample s = {};

	s.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	bpf_perf_event_output(ctx, &samples, BPF_F_CURRENT_CPU, &s, sizeof(s));
	return 0;
}
