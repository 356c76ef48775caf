/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * unlinksnoop, kprobe flavour: the same events as unlink_fentry.bpf.c from a
 * kprobe on do_unlinkat, for kernels that refuse fentry.
 */
#include "unlink.h"

SEC("kprobe/do_unlinkat")
int unlink_entry(struct pt_regs *ctx)
{
	/* do_unlinkat(int dfd, struct filename *name) */
	return report((struct filename *)PT_REGS_PARM2(ctx));
}
