//! Objects built by clang-19 with different flags (`-mcpu=v1`..`v4`, both byte orders,
//! with and without `-g`) all open. Skipped, with a line saying so, when clang-19 is not
//! installed; the committed `testdata/isa_v*` fixtures cover the same ground without it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use ebpf_spec::{CollectionSpec, ProgramType};

const SOURCE: &str = r#"
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(n) __attribute__((section(n), used))
struct { int (*type)[2]; int (*max_entries)[4]; __u32 *key; __u64 *value; } counts SEC(".maps");
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
char LICENSE[] SEC("license") = "GPL";
volatile const __u32 limit = 3;
__u64 total;
static __attribute__((noinline)) __u64 twice(__u64 x) { return x * 2 + limit; }
SEC("xdp") int count(void *ctx)
{
	__u32 k = 1;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);
	if (v) { *v = twice(*v); total += (short)*v; }
	return v ? 2 : 1;
}
"#;

fn clang() -> Option<&'static str> {
    let ok = Command::new("clang-19")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some("clang-19")
}

#[test]
fn mcpu_variants_open() {
    let Some(clang) = clang() else {
        common::skip("clang-19 not found; mcpu variants not built");
        return;
    };
    let dir = std::env::temp_dir().join(format!("ebpf-spec-clang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join("variant.c");
    std::fs::write(&src, SOURCE).expect("write source");
    let mut opened = 0;
    for target in ["bpfel", "bpfeb"] {
        for cpu in ["v1", "v2", "v3", "v4"] {
            for debug in ["-g", "-g0"] {
                let obj: PathBuf = dir.join(format!("variant-{target}-{cpu}{debug}.o"));
                let status = Command::new(clang)
                    .args([
                        "-O2",
                        debug,
                        "-target",
                        target,
                        &format!("-mcpu={cpu}"),
                        "-c",
                    ])
                    .arg(&src)
                    .arg("-o")
                    .arg(&obj)
                    .status()
                    .expect("run clang");
                assert!(status.success(), "clang failed for {target} {cpu} {debug}");
                let what = format!("{target} -mcpu={cpu} {debug}");
                match CollectionSpec::from_file(&obj) {
                    Ok(spec) => {
                        let p = &spec.programs["count"];
                        assert_eq!(p.program_type, ProgramType::XDP, "{what}");
                        assert_eq!(p.subprograms(), ["twice"], "{what}");
                        assert!(spec.maps.contains_key(".rodata"), "{what}");
                        assert_eq!(
                            spec.variable_bytes("limit").map(<[u8]>::len).ok(),
                            Some(4),
                            "{what}"
                        );
                        assert!(spec.maps.contains_key("counts"), "{what}");
                        opened += 1;
                    }
                    // Without BTF a `.maps` section cannot be read; the error says so.
                    Err(e) if debug == "-g0" => {
                        assert_eq!(e.to_string(), ".maps: section needs .BTF", "{what}");
                    }
                    Err(e) => panic!("{what}: {e}"),
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(opened, 8);
}
