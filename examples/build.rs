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
    ] {
        ebpf_gen::Builder::new(format!("bpf/{name}.bpf.c"))
            .build()
            .with_context(|| format!("bpf/{name}.bpf.c"))?;
    }
    // The perf event array's records have no map type to come from: name it.
    ebpf_gen::Builder::new("bpf/perf_events.bpf.c")
        .type_name("sample")
        .build()
        .context("bpf/perf_events.bpf.c")?;
    Ok(())
}
