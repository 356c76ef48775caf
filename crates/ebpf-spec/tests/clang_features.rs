//! Relocation kinds the committed fixtures do not have, built by clang-19 at test time:
//! kfunc calls (strong and weak, and a weak kfunc's address), a callback passed by address
//! (`BPF_PSEUDO_FUNC`), static data reached through section symbols, a `?` section,
//! `__ulong` attributes and a plain `.struct_ops` map. Skipped, with a line saying so, when
//! clang-19 is not installed.

mod common;

use ebpf_asm::{PseudoCall, PseudoLoad};
use ebpf_spec::{KfuncRef, MapType, ProgramType};

const SOURCE: &str = r#"
#include "include/bpf_common.h"
char LICENSE[] SEC("license") = "GPL";
static long (*bpf_loop)(__u32 nr, void *cb, void *ctx, __u64 flags) = (void *)181;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym __weak;
static __u32 static_counter = 5;
static const char msg[] = "hello %d";
struct {
	__uint(type, 30);
	__type(value, __u32);
	__uint(max_entries, 16);
	__ulong(map_extra, 3);
} bloom SEC(".maps");
static int cb(__u32 i, void *ctx) { static_counter += i; return 0; }
SEC("?tc") int opt_prog(void *ctx)
{
	bpf_rcu_read_lock();
	bpf_loop(4, cb, 0, 0);
	if (bpf_rcu_read_unlock) bpf_rcu_read_unlock();
	bpf_trace_printk(msg, sizeof(msg), static_counter);
	return static_counter;
}
struct tcp_congestion_ops { void (*init)(void *sk); char name[16]; } __attribute__((preserve_access_index));
SEC("struct_ops/my_init") void my_init(void *sk) {}
SEC(".struct_ops") struct tcp_congestion_ops my_cc = { .init = (void *)my_init, .name = "my_cc" };
"#;

#[test]
fn features_beyond_the_fixtures() {
    if !common::clang_found("feature objects") {
        return;
    }
    let mut dumps = Vec::new();
    for target in ["bpfel", "bpfeb"] {
        let spec = common::compile("features", SOURCE, target, &["-g", "-mcpu=v3"])
            .unwrap_or_else(|e| panic!("{target}: {e}"));

        let p = &spec.programs["opt_prog"];
        assert_eq!(p.program_type, ProgramType::SCHED_CLS);
        assert!(!p.autoload, "SEC(\"?tc\") is not loaded automatically");
        assert_eq!(p.subprograms(), ["cb"]);
        let kfuncs: Vec<(&str, bool, bool)> = p
            .instructions
            .iter()
            .filter_map(|i| {
                i.metadata
                    .get::<KfuncRef>()
                    .map(|k| (k.name.as_str(), k.weak, i.is_kfunc_call()))
            })
            .collect();
        assert_eq!(
            kfuncs,
            [
                ("bpf_rcu_read_lock", false, true),
                ("bpf_rcu_read_unlock", true, false),
                ("bpf_rcu_read_unlock", true, true)
            ]
        );
        let callback = p
            .instructions
            .iter()
            .find(|i| i.pseudo_load() == Some(PseudoLoad::Func))
            .expect("callback");
        assert_eq!((callback.reference(), callback.constant), (Some("cb"), -1));
        assert!(
            p.instructions
                .iter()
                .any(|i| i.pseudo_call() == Some(PseudoCall::Kfunc))
        );
        let data_refs: Vec<&str> = p
            .instructions
            .iter()
            .filter(|i| i.pseudo_load() == Some(PseudoLoad::MapValue))
            .filter_map(|i| i.reference())
            .collect();
        assert_eq!(data_refs, [".data", ".rodata", ".data"]);

        let bloom = &spec.maps["bloom"];
        assert_eq!(
            (bloom.map_type, bloom.map_extra, bloom.value_size),
            (MapType::BLOOM_FILTER, 3, 4)
        );
        let ops = spec.maps["my_cc"].struct_ops.as_ref().expect("struct_ops");
        assert!(!ops.link);
        assert_eq!(ops.type_name, "tcp_congestion_ops");
        assert_eq!(ops.programs.values().collect::<Vec<_>>(), ["my_init"]);
        assert_eq!(&ops.data[8..13], b"my_cc");
        assert_eq!(
            spec.programs["my_init"].program_type,
            ProgramType::STRUCT_OPS
        );
        dumps.push(spec.dump_layout());
    }
    assert_eq!(dumps[0], dumps[1], "el and eb differ");
}

const LEGACY: &str = r#"
#include "include/bpf_common.h"
char LICENSE[] SEC("license") = "GPL";
/* iproute2's larger definition: the fields after map_flags are zero here. */
struct bpf_elf_map {
	unsigned int type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx;
};
struct bpf_elf_map SEC("maps") big_a = { .type = 1, .size_key = 4, .size_value = 8, .max_elem = 3 };
struct bpf_elf_map SEC("maps") big_b = { .type = 2, .size_key = 4, .size_value = 4, .max_elem = 9, .flags = 1 };
SEC("xdp.frags") int frags(void *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&big_a, &k) && bpf_map_lookup_elem(&big_b, &k) ? 2 : 1;
}
"#;

#[test]
fn legacy_maps_with_larger_definitions() {
    if !common::clang_found("legacy map objects") {
        return;
    }
    for target in ["bpfel", "bpfeb"] {
        let spec = common::compile("legacy", LEGACY, target, &["-g0"])
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        let a = &spec.maps["big_a"];
        assert_eq!(
            (a.map_type, a.key_size, a.value_size, a.max_entries, a.flags),
            (MapType::HASH, 4, 8, 3, 0)
        );
        let b = &spec.maps["big_b"];
        assert_eq!(
            (b.map_type, b.key_size, b.value_size, b.max_entries, b.flags),
            (MapType::ARRAY, 4, 4, 9, 1)
        );
        let p = &spec.programs["frags"];
        assert_eq!(p.flags, ebpf_spec::PROG_FLAG_XDP_HAS_FRAGS);
        let maps: Vec<&str> = p
            .instructions
            .iter()
            .filter_map(|i| i.reference())
            .collect();
        assert_eq!(maps, ["big_a", "big_b"]);
    }
}
