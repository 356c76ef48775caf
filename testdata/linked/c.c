/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/* The linked fixture, file 3 of 3: see a.c. */
#include "../include/bpf_common.h"

/* Strong here, weak in a.c: the strong declaration wins. */
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_EBPF_RS_MISSING __kconfig __weak;

/* Global here, static in a.c and b.c. */
volatile int counter = 30;
int c_value = 300;

__noinline int subprog(int x)
{
	return x - counter;
}

/* a.c declares it weak. */
__noinline int c_func(int x)
{
	return x + c_value;
}

/* This file's subprog(100) = 100 - 30, plus 0 for the missing config. */
SEC("socket")
int statics_c(void *ctx)
{
	return subprog(100) + CONFIG_EBPF_RS_MISSING + (LINUX_KERNEL_VERSION == 0);
}
