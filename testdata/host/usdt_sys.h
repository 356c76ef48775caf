/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * Freestanding system calls for the USDT test programs (no libc, so the
 * committed binaries are the same bytes on any machine with the same clang
 * and lld): read, write, exit_group, on x86-64 and arm64.
 */
#ifndef EBPF_RS_USDT_SYS_H
#define EBPF_RS_USDT_SYS_H

#if defined(__x86_64__)
#define SYS_READ 0
#define SYS_WRITE 1
#define SYS_EXIT_GROUP 231
static inline long sys3(long n, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#define SYS_READ 63
#define SYS_WRITE 64
#define SYS_EXIT_GROUP 94
static inline long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}
#else
#error "x86-64 and arm64 only"
#endif

#endif
