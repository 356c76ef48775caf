#include <bpf/libbpf.h>
#include <stdio.h>
int main(int argc, char **argv) {
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) { perror("open"); return 1; }
	struct bpf_program *p; struct bpf_map *m;
	bpf_object__for_each_program(p, obj) printf("prog %s sec=%s type=%d\n", bpf_program__name(p), bpf_program__section_name(p), bpf_program__type(p));
	bpf_object__for_each_map(m, obj) printf("map %s type=%d\n", bpf_map__name(m), bpf_map__type(m));
	return 0;
}
