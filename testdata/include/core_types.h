/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The "kernel" layouts that core_target.c compiles into its BTF and that
 * core.c uses (renamed with a tgt_ prefix, without CO-RE) to compute the
 * values every relocation must produce. T(x) names a type.
 */
struct T(core_s) {
	long long c;
	int extra;
	char b;
	unsigned short a;
	unsigned int bf2 : 9;
	int bf1 : 5;
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

struct T(core_elem) {
	int x;
	long long y;
};

struct T(core_arr) {
	int pad;
	struct T(core_elem) e[3];
};

struct T(core_flav) {
	int f2;
	int f1;
};

struct T(core_match) {
	int a;
	long b;
	char extra;
};

struct T(core_nomatch) {
	char a;
	long x;
};
