/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * CO-RE relocations of every kind. Relocated against core_target.c's BTF,
 * each program returns 0, or the __LINE__ of the first check that failed.
 * Programs named err_* must fail to relocate.
 */
#include "include/bpf_common.h"

char __license[] SEC("license") = "Dual MIT/GPL";

/* The target's layouts, for expected values (not relocated). */
#define T(x) tgt_##x
#include "include/core_types.h"
#undef T

/* What this program was "compiled against". */
struct core_s {
	unsigned int a;
	char b;
	long long c;
	int bf1 : 3;
	unsigned int bf2 : 9;
	int arr[4];
	union {
		int u1;
		long long u2;
	};
	struct {
		int inner;
	} nested;
	int gone;
} __attribute__((preserve_access_index));

struct core_elem {
	long long y;
	int x;
} __attribute__((preserve_access_index));

struct core_arr {
	struct core_elem e[3];
} __attribute__((preserve_access_index));

struct core_flav___v1 {
	int f1;
	int f2;
} __attribute__((preserve_access_index));

struct core_match {
	int a;
	long b;
};

struct core_nomatch {
	int a;
};

struct core_missing {
	int x;
};

enum core_enum {
	E_ONE = 1,
	E_TWO = 2,
	E_GONE = 3,
};

enum core_e64 {
	E64_BIG = 0x100000000ULL,
	E64_SMALL = 1,
};

struct amb {
	int x;
	int y;
} __attribute__((preserve_access_index));

#define OFF(type, field) __builtin_offsetof(struct tgt_##type, field)

SEC("socket")
int reloc_field_offsets(void *ctx)
{
	struct core_s *s = 0;
	struct core_arr *arr = 0;
	struct core_flav___v1 *flav = 0;

	check(core_field_offset(s->a) == OFF(core_s, a));
	check(core_field_offset(s->b) == OFF(core_s, b));
	check(core_field_offset(s->c) == OFF(core_s, c));
	check(core_field_offset(s->arr) == OFF(core_s, arr));
	check(core_field_offset(s->arr[3]) == OFF(core_s, arr) + 3 * sizeof(int));
	check(core_field_offset(s->u1) == OFF(core_s, u1));
	check(core_field_offset(s->u2) == OFF(core_s, u2));
	check(core_field_offset(s->nested.inner) == OFF(core_s, nested.inner));
	check(core_field_offset(arr->e[2].x) == OFF(core_arr, e[2].x));
	check(core_field_offset(arr->e[1].y) == OFF(core_arr, e[1].y));
	check(core_field_offset(flav->f1) == OFF(core_flav, f1));
	return 0;
}

SEC("socket")
int reloc_field_sizes(void *ctx)
{
	struct core_s *s = 0;

	check(core_field_size(s->a) == sizeof(unsigned short));
	check(core_field_size(s->b) == 1);
	check(core_field_size(s->c) == 8);
	check(core_field_size(s->arr) == sizeof(int[6]));
	check(core_field_size(s->u2) == 8);
	check(core_field_size(s->nested) == 8);
	return 0;
}

SEC("socket")
int reloc_field_exists(void *ctx)
{
	struct core_s *s = 0;

	check(core_field_exists(s->a));
	check(core_field_exists(s->nested.inner));
	check(!core_field_exists(s->gone));
	/* Guarded by the existence check: the poisoned offset is never executed. */
	if (core_field_exists(s->gone))
		return core_field_offset(s->gone) + 1000;
	return 0;
}

SEC("socket")
int reloc_field_signed(void *ctx)
{
	struct core_s *s = 0;

	check(!core_field_signed(s->a));
	check(core_field_signed(s->bf1));
	check(!core_field_signed(s->bf2));
	check(core_field_signed(s->c));
	return 0;
}

SEC("socket")
int reloc_bitfields(void *ctx)
{
	struct tgt_core_s t = {};
	struct core_s *s = (void *)&t;
	long long v1;
	unsigned long long v2;

	t.bf1 = -3;
	t.bf2 = 300;
	publish(&t);
	v1 = core_read_bitfield(s, bf1);
	v2 = core_read_bitfield(s, bf2);
	check(v1 == -3);
	check(v2 == 300);
	return 0;
}

SEC("socket")
int reloc_reads(void *ctx)
{
	struct tgt_core_s t = {};
	struct tgt_core_arr ta = {};
	struct tgt_core_flav tf = {};
	struct core_s *s = (void *)&t;
	struct core_arr *a = (void *)&ta;
	struct core_flav___v1 *f = (void *)&tf;

	t.a = 1234;
	t.b = 'x';
	t.c = 0x1122334455667788LL;
	t.arr[2] = 77;
	t.u2 = 0x0102030405060708LL;
	t.nested.inner = 99;
	ta.e[2].x = 55;
	ta.e[1].y = 66;
	tf.f1 = 11;
	tf.f2 = 22;
	publish(&t);
	publish(&ta);
	publish(&tf);

	/* Loads of a narrower unsigned target field get their size patched (u32 -> u16). */
	check(s->a == 1234);
	check(s->b == 'x');
	check(s->c == 0x1122334455667788LL);
	check(s->arr[2] == 77);
	check(s->u2 == 0x0102030405060708LL);
	check(s->nested.inner == 99);
	check(a->e[2].x == 55);
	check(a->e[1].y == 66);
	check(f->f1 == 11);
	check(f->f2 == 22);
	return 0;
}

SEC("socket")
int reloc_types(void *ctx)
{
	check(core_type_exists(struct core_s));
	check(core_type_exists(struct core_flav___v1));
	check(!core_type_exists(struct core_missing));
	check(core_type_size(struct core_s) == sizeof(struct tgt_core_s));
	check(core_type_size(struct core_arr) == sizeof(struct tgt_core_arr));
	check(core_type_matches(struct core_match));
	check(!core_type_matches(struct core_nomatch));
	check(core_type_id_local(struct core_s) != 0);
	check(core_type_id_target(struct core_s) != 0);
	check(core_type_id_target(struct core_missing) == 0);
	return 0;
}

SEC("socket")
int reloc_enums(void *ctx)
{
	check(core_enumval_exists(enum core_enum, E_ONE));
	check(core_enumval_exists(enum core_enum, E_TWO));
	check(!core_enumval_exists(enum core_enum, E_GONE));
	check(core_enumval_value(enum core_enum, E_ONE) == 10);
	check(core_enumval_value(enum core_enum, E_TWO) == 20);
	check(core_enumval_exists(enum core_e64, E64_BIG));
	check(core_enumval_value(enum core_e64, E64_BIG) == 0xabcdef0123456789ULL);
	check(core_enumval_value(enum core_e64, E64_SMALL) == 5);
	return 0;
}

SEC("socket")
int err_ambiguous(void *ctx)
{
	struct amb *a = 0;

	return core_field_offset(a->y);
}
