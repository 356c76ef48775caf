/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * A minimal, self-contained stand-in for libbpf's bpf_helpers.h and
 * bpf_core_read.h, written for ebpf-rs fixtures. It depends on no installed
 * header, so `cargo xtask build-fixtures` gives identical bytes on any machine
 * with the same clang.
 */
#ifndef EBPF_RS_BPF_COMMON_H
#define EBPF_RS_BPF_COMMON_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

/* Placement and BTF map definition helpers, as libbpf spells them. */
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define __ulong(name, val) enum { ___bpf_concat(__unique_value, __COUNTER__) = val } name
#define ___bpf_concat(a, b) a##b
#define __weak __attribute__((weak))
#define __hidden __attribute__((visibility("hidden")))
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig")))
#define __always_inline inline __attribute__((always_inline))
#define __noinline __attribute__((noinline))

/* Map types, flags and pinning (values from include/uapi/linux/bpf.h). */
enum {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PROG_ARRAY = 3,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LPM_TRIE = 11,
	BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
	BPF_MAP_TYPE_HASH_OF_MAPS = 13,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_USER_RINGBUF = 31,
};
#define BPF_F_NO_PREALLOC (1U << 0)
#define BPF_F_NO_COMMON_LRU (1U << 1)
#define BPF_F_RDONLY_PROG (1U << 7)
#define BPF_F_CURRENT_CPU 0xffffffffULL
enum { LIBBPF_PIN_NONE = 0, LIBBPF_PIN_BY_NAME = 1 };

/* Helpers, by id. */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static long (*bpf_probe_read)(void *dst, __u32 size, const void *src) = (void *)4;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;
static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*bpf_get_current_comm)(void *buf, __u32 size_of_buf) = (void *)16;
static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *)25;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)113;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static void (*bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)133;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;
static void *(*bpf_this_cpu_ptr)(const void *percpu_ptr) = (void *)154;
static long (*bpf_user_ringbuf_drain)(void *map, void *callback_fn, void *ctx, __u64 flags) = (void *)209;

/* CO-RE relocation kinds, as clang's builtins take them. */
enum bpf_field_info_kind {
	BPF_FIELD_BYTE_OFFSET = 0,
	BPF_FIELD_BYTE_SIZE = 1,
	BPF_FIELD_EXISTS = 2,
	BPF_FIELD_SIGNED = 3,
	BPF_FIELD_LSHIFT_U64 = 4,
	BPF_FIELD_RSHIFT_U64 = 5,
};
enum bpf_type_id_kind { BPF_TYPE_ID_LOCAL = 0, BPF_TYPE_ID_TARGET = 1 };
enum bpf_type_info_kind { BPF_TYPE_EXISTS = 0, BPF_TYPE_SIZE = 1, BPF_TYPE_MATCHES = 2 };
enum bpf_enum_value_kind { BPF_ENUMVAL_EXISTS = 0, BPF_ENUMVAL_VALUE = 1 };

#define core_field_offset(field) __builtin_preserve_field_info(field, BPF_FIELD_BYTE_OFFSET)
#define core_field_size(field) __builtin_preserve_field_info(field, BPF_FIELD_BYTE_SIZE)
#define core_field_exists(field) __builtin_preserve_field_info(field, BPF_FIELD_EXISTS)
#define core_field_signed(field) __builtin_preserve_field_info(field, BPF_FIELD_SIGNED)
#define core_field_lshift(field) __builtin_preserve_field_info(field, BPF_FIELD_LSHIFT_U64)
#define core_field_rshift(field) __builtin_preserve_field_info(field, BPF_FIELD_RSHIFT_U64)
#define core_type_id_local(type) __builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_LOCAL)
#define core_type_id_target(type) __builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_TARGET)
#define core_type_exists(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_EXISTS)
#define core_type_size(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_SIZE)
#define core_type_matches(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_MATCHES)
#define core_enumval_exists(enum_type, val) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)val, BPF_ENUMVAL_EXISTS)
#define core_enumval_value(enum_type, val) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)val, BPF_ENUMVAL_VALUE)

/*
 * Reads a bitfield through its CO-RE byte offset, size and shifts, the way
 * libbpf's BPF_CORE_READ_BITFIELD does with direct loads.
 */
#define core_read_bitfield(s, field)                                          \
	({                                                                    \
		const void *p = (const void *)s + core_field_offset((s)->field); \
		unsigned long long val;                                       \
		switch (core_field_size((s)->field)) {                        \
		case 1: val = *(const unsigned char *)p; break;               \
		case 2: val = *(const unsigned short *)p; break;              \
		case 4: val = *(const unsigned int *)p; break;                \
		case 8: val = *(const unsigned long long *)p; break;          \
		default: val = 0; break;                                      \
		}                                                             \
		val <<= core_field_lshift((s)->field);                        \
		if (core_field_signed((s)->field))                            \
			val = ((long long)val) >> core_field_rshift((s)->field); \
		else                                                          \
			val = val >> core_field_rshift((s)->field);           \
		val;                                                          \
	})

/*
 * Publishes p to the compiler, so stores through one type that are read back
 * through another (CO-RE local vs target layout) are not dropped.
 */
#define publish(p) asm volatile("" : : "r"(p) : "memory")

/* Fails the calling program with the line of the failed check. */
#define check(cond)                   \
	do {                              \
		if (!(cond))                  \
			return __LINE__;          \
	} while (0)

#endif
