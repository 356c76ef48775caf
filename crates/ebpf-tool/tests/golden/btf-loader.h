#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

typedef unsigned int __u32;

struct inner_map {
	int (*type)[2];
	__u32 *key;
	__u32 *value;
	int (*max_entries)[1];
};

typedef unsigned long long __u64;

struct event {
	__u32 pid;
	__u32 seq;
	__u64 ts;
	char comm[16];
};

typedef unsigned short __u16;

typedef unsigned char __u8;

struct key {
	__u32 a;
	__u16 b;
	__u8 c;
};

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct bpf_iter_meta;

struct task_struct;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

struct task_struct {
	int pid;
};

struct tcp_congestion_ops {
	__u32 (*ssthresh)(void *);
	void (*cong_avoid)(void *, __u32, __u32);
	__u32 (*undo_cwnd)(void *);
	char name[16];
};

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
