/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * unlinksnoop, fentry flavour: every file removal (the kernel's do_unlinkat),
 * with pid, command and file name, through a ring buffer. fentry is cheaper
 * than a kprobe (a direct call, arguments typed by BTF) but needs BTF for
 * the kernel and is refused under lockdown; unlink_kprobe.bpf.c is the
 * fallback.
 */
#include "unlink.h"

SEC("fentry/do_unlinkat")
int unlink_entry(__u64 *ctx)
{
	/* do_unlinkat(int dfd, struct filename *name) */
	return report((struct filename *)ctx[1]);
}
