//! cgroup_egress: packets and bytes a cgroup sends, counted by a cgroup_skb
//! egress program into `.bss` and read through the skeleton's `bss()`.
//!
//! `cargo run -p ebpf-examples --bin cgroup_egress -- [--cgroup PATH] [--duration S]`

use std::time::{Duration, Instant};

include!(concat!(env!("OUT_DIR"), "/cgroup_egress.skel.rs"));

fn main() -> anyhow::Result<()> {
    let args = ebpf_examples::Args::parse();
    let obj = CgroupEgressSkel::open()?.load()?;
    let _link = ebpf_link::cgroup::attach_path(&obj.progs.count_egress, &args.cgroup)?;
    let deadline = Instant::now() + args.duration;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1).min(deadline - Instant::now()));
        let totals = obj.bss().get()?.egress;
        println!("egress: {} packets, {} bytes", totals.packets, totals.bytes);
    }
    Ok(())
}
