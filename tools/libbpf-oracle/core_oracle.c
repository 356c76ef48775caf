#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
static int pr(enum libbpf_print_level l, const char *f, va_list a){ return vfprintf(stderr, f, a);} 
int main(int argc, char **argv) { libbpf_set_print(pr);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = argv[2]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) { perror("open"); return 1; }
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		if (!strncmp(bpf_program__name(p), "err_", 4)) bpf_program__set_autoload(p, false);
	}
	if (bpf_object__load(obj)) { fprintf(stderr, "load failed\n"); return 1; }
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p)) continue;
		char data[64] = {0};
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = data, .data_size_in = sizeof(data));
		int err = bpf_prog_test_run_opts(bpf_program__fd(p), &t);
		printf("%s: err=%d retval=%u\n", bpf_program__name(p), err, t.retval);
	}
	return 0;
}
