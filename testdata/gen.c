/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The code generation fixture: types of every shape ebpf-gen maps to Rust
 * (bitfields, unions, enums, anonymous members, Rust keywords as names, a
 * packed struct, a flexible array member), a ring buffer of typed records,
 * maps with struct keys and values, and global variables in .rodata, .data
 * and .bss. A test run of `compute` reads its configuration from .rodata,
 * counts in .bss, writes .data and submits one event to the ring buffer.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "Dual MIT/GPL";

enum color {
	RED = 0,
	GREEN = 1,
	BLUE = 2,
	NEGATIVE = -1,
};

enum wide {
	WIDE_ONE = 1,
	WIDE_BIG = 1ULL << 40,
};

struct flags {
	unsigned int kind : 3;
	int delta : 5;
	enum color color : 4;
	unsigned long long big : 40;
};

union value {
	__u64 u;
	__s32 i;
	unsigned char bytes[8];
	struct {
		__u32 lo;
		__u32 hi;
	} halves;
};

struct event {
	__u32 pid;
	__u8 type;
	struct flags flags;
	union value value;
	struct {
		__u16 a;
		__u16 b;
	};
	union {
		__u32 as_u32;
		float as_float;
	} num;
	enum color color;
	enum wide wide;
	char comm[16];
	__u64 ts;
};

struct packed_rec {
	__u8 tag;
	__u32 len;
} __attribute__((packed));

struct flex {
	__u32 n;
	__u32 items[];
};

struct config {
	__u32 multiplier;
	__u8 enabled;
	char label[7];
};

/* .rodata: set before load through the skeleton's rodata_mut(). */
volatile const struct config cfg = { .multiplier = 1, .enabled = 0, .label = "none" };
volatile const __u32 offset_value = 10;
/* .bss and .data: read after a run through bss() and data(). */
__u64 runs;
struct packed_rec rec;
__u32 last_result = 7;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct packed_rec);
	__type(value, union value);
	__uint(max_entries, 16);
} by_rec SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct flex);
	__uint(max_entries, 2);
} flexes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct flags);
	__uint(max_entries, 1);
} per_cpu_flags SEC(".maps");

SEC("socket")
int compute(void *ctx)
{
	struct event *e;
	__u32 result;

	runs++;
	result = cfg.enabled ? offset_value * cfg.multiplier : 1;
	last_result = result;
	rec.tag = 9;
	rec.len = result;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = 42;
	e->type = 3;
	e->flags.kind = 5;
	e->flags.delta = -3;
	e->flags.color = BLUE;
	e->flags.big = 0x12345678abULL;
	e->value.halves.lo = 0x11223344;
	e->value.halves.hi = 0x55667788;
	e->a = 1;
	e->b = 2;
	e->num.as_u32 = result;
	e->color = GREEN;
	e->wide = WIDE_BIG;
	e->comm[0] = 'g';
	e->comm[1] = 'e';
	e->comm[2] = 'n';
	e->ts = runs;
	bpf_ringbuf_submit(e, 0);
	return result;
}
