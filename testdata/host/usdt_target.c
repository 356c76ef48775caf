/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The executable of the USDT test (usdt_target-ARCH): freestanding, no libc,
 * linked to libebpf_rs_usdt-ARCH.so (found next to it through $ORIGIN).
 *
 * It reads one byte at a time from stdin. For a byte B other than 'q' it
 * fires every probe once with values derived from B, then writes one line
 * "fired B SEMA_ARGS SEMA_SEMA\n" (the byte and two semaphore counters, in
 * decimal); 'q' or the end of stdin exits.
 *
 * Probes (provider ebpf_rs; every probe of this file has a semaphore):
 *   ebpf_rs:args(42, B * 1000 + 7, (short)-B, (unsigned char)(B + 100),
 *                (signed char)-B, 0xfeedface00000000 + B)
 *     constant, register, memory, register, memory, register
 *   ebpf_rs:natural(1, B, -B)   and   ebpf_rs:natural(2, B * 2, -B * 2)
 *     two call sites, arguments where clang puts them ("nor")
 *   ebpf_rs:sema(1, SEMA_SEMA)
 *     fired only while its semaphore is set (someone is attached)
 *   ebpf_rs:indexed(1, TABLE[B & 3], B & 3)   with TABLE = { 10, 20, 30, 40 }
 *     constant, base + index * 8 + offset (x86-64 SIB), register
 * and, in the library, ebpf_rs_lib:lib_args(-7, B * 3, -(int)B).
 */
#define _SDT_HAS_SEMAPHORES 1
#include "usdt_probe.h"
#include "usdt_sys.h"

#define SEMAPHORE(name)                                                                    \
	__attribute__((section(".probes"), used)) volatile unsigned short                  \
		ebpf_rs_##name##_semaphore

SEMAPHORE(args);
SEMAPHORE(natural);
SEMAPHORE(sema);
SEMAPHORE(indexed);

long ebpf_rs_usdt_lib_fire(unsigned long value);

static __attribute__((noinline)) void fire_args(long b)
{
	long wide = b * 1000 + 7;
	volatile short small = (short)-b;
	unsigned char byte = (unsigned char)(b + 100);
	volatile signed char tiny = (signed char)-b;
	unsigned long big = 0xfeedface00000000ul + (unsigned long)b;

	EBPF_RS_PROBE6(ebpf_rs, args, "n", 42, "r", wide, "m", small, "r", byte, "m", tiny, "r",
		       big);
}

static __attribute__((noinline)) void fire_natural(long b)
{
	STAP_PROBE3(ebpf_rs, natural, 1, b, -b);
	__asm__ __volatile__("" ::: "memory");
	STAP_PROBE3(ebpf_rs, natural, 2, b * 2, -b * 2);
}

static __attribute__((noinline)) void fire_sema(void)
{
	if (ebpf_rs_sema_semaphore) {
		unsigned short count = ebpf_rs_sema_semaphore;
		STAP_PROBE2(ebpf_rs, sema, 1, count);
	}
}

static __attribute__((noinline)) void fire_indexed(long b)
{
	volatile long table[4] = { 10, 20, 30, 40 };
	long i = b & 3;

	EBPF_RS_PROBE3(ebpf_rs, indexed, "n", 1, "m", table[i], "r", i);
}

static char *decimal(char *out, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*out++ = tmp[--n];
	return out;
}

__attribute__((used)) void ebpf_rs_usdt_main(void)
{
	char b;

	while (sys3(SYS_READ, 0, (long)&b, 1) == 1 && b != 'q') {
		char line[96], *p = line;

		fire_args(b);
		fire_natural(b);
		fire_sema();
		fire_indexed(b);
		ebpf_rs_usdt_lib_fire((unsigned long)b);
		for (const char *s = "fired "; *s; s++)
			*p++ = *s;
		p = decimal(p, (unsigned char)b);
		*p++ = ' ';
		p = decimal(p, ebpf_rs_args_semaphore);
		*p++ = ' ';
		p = decimal(p, ebpf_rs_sema_semaphore);
		*p++ = '\n';
		sys3(SYS_WRITE, 1, (long)line, p - line);
	}
	sys3(SYS_EXIT_GROUP, 0, 0, 0);
}

/* The entry point: a 16-byte aligned stack, then C. */
#if defined(__x86_64__)
__asm__(".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call ebpf_rs_usdt_main\n"
	"	hlt\n");
#elif defined(__aarch64__)
__asm__(".globl _start\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	bl ebpf_rs_usdt_main\n"
	"	brk #0\n");
#endif
