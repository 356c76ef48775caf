/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* The linked fixture, file 3 of 3: see a.c. */
#include "../include/bpf_common.h"

/* Strong here, weak in a.c: the strong declaration wins. */
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_EBPF_RS_MISSING __kconfig __weak;

/* Global here, static in a.c and b.c. */
volatile int counter = 30;
int c_value = 300;
/* Overrides a.c's weak var_weak. */
int var_weak = 3;

__noinline int subprog(int x)
{
	return x - counter;
}

/* a.c declares it weak. */
__noinline int c_func(int x)
{
	return x + c_value;
}

/* Weak and hidden, as libbpf's usdt.bpf.h helpers are: its BTF FUNC is made static, so
 * the verifier checks it in its caller's context; as a global function it would fail
 * on the pointer it writes through without a NULL check. */
__weak __hidden __noinline int store(long *res, long v)
{
	*res = v;
	return 0;
}

/* 5, written through store(). */
SEC("socket")
int hidden_weak(void *ctx)
{
	long v = 0;

	store(&v, 5);
	return v;
}

/* This file's subprog(100) = 100 - 30, plus 0 for the missing config. */
SEC("socket")
int statics_c(void *ctx)
{
	return subprog(100) + CONFIG_EBPF_RS_MISSING + (LINUX_KERNEL_VERSION == 0);
}
