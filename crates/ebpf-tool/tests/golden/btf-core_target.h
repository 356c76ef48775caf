#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

struct core_s {
	long long c;
	int extra;
	char b;
	unsigned short a;
	unsigned int bf2: 9;
	int bf1: 5;
	int arr[6];
	union {
		int u1;
		long long u2;
	};
	struct {
		int inner0;
		int inner;
	} nested;
};

struct core_elem {
	int x;
	long long y;
};

struct core_arr {
	int pad;
	struct core_elem e[3];
};

struct core_flav {
	int f2;
	int f1;
};

struct core_match {
	int a;
	long b;
	char extra;
};

struct core_nomatch {
	char a;
	long x;
};

enum core_enum {
	E_TWO = 20,
	E_ONE = 10,
};

enum core_e64 {
	E64_SMALL = 5ULL,
	E64_BIG = 12379813738877118345ULL,
};

struct amb___one {
	int x;
	int y;
};

struct amb___two {
	int y;
	int x;
};

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
