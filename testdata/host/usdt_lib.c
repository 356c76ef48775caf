/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The shared library of the USDT test (libebpf_rs_usdt-ARCH.so): a probe in
 * position-independent code, without a semaphore.
 *
 *   ebpf_rs_lib:lib_args(-7, value * 3, -(int)value)
 *     a constant, a register, and an int in memory (register+offset)
 */
#include "usdt_probe.h"

__attribute__((visibility("default"))) long ebpf_rs_usdt_lib_fire(unsigned long value)
{
	unsigned long tripled = value * 3;
	volatile int negated = -(int)value;

	EBPF_RS_PROBE3(ebpf_rs_lib, lib_args, "n", -7, "r", tripled, "m", negated);
	return (long)tripled + negated;
}
