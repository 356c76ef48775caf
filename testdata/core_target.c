/* SPDX-License-Identifier: (MIT OR Apache-2.0) */
/*
 * The CO-RE target: its BTF plays a kernel whose types differ from what
 * core.c was compiled against. Only its BTF is used; it has no programs.
 */
#define T(x) x
#include "include/core_types.h"

enum core_enum {
	E_TWO = 20,
	E_ONE = 10,
};

enum core_e64 {
	E64_SMALL = 5,
	E64_BIG = 0xabcdef0123456789ULL,
};

/* Two layouts of one essential name: relocations against `struct amb` are ambiguous. */
struct amb___one {
	int x;
	int y;
};

struct amb___two {
	int y;
	int x;
};

/* Globals make clang emit every type into BTF. */
struct core_s g_core_s;
struct core_arr g_core_arr;
struct core_flav g_core_flav;
struct core_match g_core_match;
struct core_nomatch g_core_nomatch;
enum core_enum g_core_enum;
enum core_e64 g_core_e64;
struct amb___one g_amb_one;
struct amb___two g_amb_two;
