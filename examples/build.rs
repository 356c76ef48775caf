//! Compiles every `bpf/*.bpf.c` with clang and writes its object and skeleton
//! (`NAME.skel.rs`) into `OUT_DIR`: what a user's `build.rs` does.

use anyhow::Context as _;

// An error fails the build with its context and each cause once.
fn main() -> anyhow::Result<()> {
    for name in [
        "opensnoop",
        "xdp_counter",
        "tcx_counter",
        "cgroup_egress",
        "map_in_map",
        "bashreadline",
        "unlink_fentry",
        "unlink_kprobe",
    ] {
        ebpf_gen::Builder::new(format!("bpf/{name}.bpf.c"))
            .build()
            .with_context(|| format!("bpf/{name}.bpf.c"))?;
    }
    // Both byte orders, like bpf2go: the skeleton embeds both objects and
    // picks one by `target_endian`.
    ebpf_gen::Builder::new("bpf/comm_filter.bpf.c")
        .target(ebpf_gen::Target::BpfEl)
        .target(ebpf_gen::Target::BpfEb)
        .build()
        .unwrap_or_else(|e| panic!("bpf/comm_filter.bpf.c: {e}"));
    // The perf event array's records have no map type to come from: name it.
    ebpf_gen::Builder::new("bpf/perf_events.bpf.c")
        .type_name("sample")
        .build()
        .context("bpf/perf_events.bpf.c")?;
    Ok(())
}
