/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The error numbers libbpf's usdt.bpf.h uses, for <linux/errno.h> under
 * `-target bpf`: Debian keeps <asm/errno.h> in the host's multiarch include
 * directory, which clang does not search for BPF. Found through
 * `-idirafter include` (testdata/usdt.c), so a real <asm/errno.h> wins.
 */
#ifndef EBPF_RS_ASM_ERRNO_H
#define EBPF_RS_ASM_ERRNO_H

#define ENOENT 2
#define ESRCH 3
#define EINVAL 22

#endif
