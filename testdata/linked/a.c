/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The linked fixture, file 1 of 3. `cargo xtask build-fixtures` compiles a.c,
 * b.c and c.c and links them with `bpftool gen object` (libbpf's static
 * linker) into testdata/linked-el.o and linked-eb.o. Together they hold what
 * multi-file projects bring:
 *
 * - a weak map, defined weak here and in b.c, used from both;
 * - a weak subprogram (`pick`) that b.c overrides with a strong one, and one
 *   no file overrides (`only_weak`);
 * - static functions (`subprog`) and static variables (`counter`) of the same
 *   name in a.c and b.c, and a global function and variable of that name in c.c;
 * - externs resolved by the linker (`b_func`, the weak `c_func`) and weak
 *   externs the loader resolves or zeroes (kconfig, ksym);
 * - a weak hidden subprogram (c.c's `store`), verified as a static one;
 * - a weak variable (`var_weak`) that c.c overrides with a strong one: the linker
 *   leaves this file's datasec entry where the weak definition was.
 *
 * Every program returns a value that says which definitions it reached; the
 * kernel tests run them.
 */
#include "../include/bpf_common.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4);
} map_weak SEC(".maps") __weak;

static volatile int counter = 10;

static __noinline int subprog(int x)
{
	return x + counter;
}

/* b.c has the strong definition, which wins. */
__weak __noinline int pick(int x)
{
	return x + 1000;
}

__weak __noinline int only_weak(int x)
{
	return x + 7;
}

/* c.c's strong definition (3) wins. */
__weak int var_weak SEC(".data");

extern int b_func(int x);
extern int c_func(int x) __weak;

extern unsigned int LINUX_KERNEL_VERSION __kconfig __weak;
extern int CONFIG_EBPF_RS_MISSING __kconfig __weak;
extern const void ebpf_rs_missing_ksym __ksym __weak;

/* Writes 42 at key 0 of the map b.c reads. */
SEC("socket")
int weak_map_write(void *ctx)
{
	__u32 key = 0, value = 42;

	bpf_map_update_elem(&map_weak, &key, &value, 0);
	return 1;
}

/* 2001 (b.c's pick) + 7 (only_weak); 1008 if the weak pick ran. */
SEC("socket")
int strong_wins(void *ctx)
{
	return pick(1) + only_weak(0);
}

/* This file's subprog(1) = 1 + 10, b.c's through b_func(2) = 2 * 20: 51. */
SEC("socket")
int statics(void *ctx)
{
	return subprog(1) + b_func(2);
}

/* 1: the kernel version is set, the missing config and ksym are zero. */
SEC("socket")
int weak_externs(void *ctx)
{
	return (LINUX_KERNEL_VERSION != 0) + CONFIG_EBPF_RS_MISSING * 2 +
	       (&ebpf_rs_missing_ksym != NULL) * 4;
}

/* c.c's c_func(3) = 3 + 300. */
SEC("socket")
int weak_extern_func(void *ctx)
{
	return c_func(3);
}

/* 3: c.c's strong var_weak. */
SEC("socket")
int weak_var(void *ctx)
{
	return var_weak;
}
