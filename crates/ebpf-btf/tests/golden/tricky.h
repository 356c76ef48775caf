#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

struct opaque;

struct foo {
	int a;
	unsigned int b: 3;
	unsigned int c: 5;
	int arr[4];
	struct opaque *next;
};

enum color {
	RED = 0,
	NEG = -5,
};

enum big {
	HUGE = 1099511627776ULL,
};

typedef struct foo foo_t;

union u {
	union {
		int i;
		_Bool flag;
	} x;
};

struct foo___v2 {
	int a;
};

enum flags {
	F1 = 255,
} __attribute__((mode(byte)));

struct packed {
	char c;
	int i;
} __attribute__((packed));

struct list {
	struct list *next;
};

struct outer {
	int (* (*fns[2])(void))[3];
	int m[5][3];
	struct {
		int x;
		enum {
			A_ONE = 1,
		} e;
	} in;
	int bf1: 3;
	char: 5;
	int bf2: 7;
	long: 64;
};

enum {
	LONE = 7,
};

struct list___2 {
	int v;
};

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
