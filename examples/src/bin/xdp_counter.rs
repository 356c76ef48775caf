//! xdp_counter: packets and bytes per IPv4 source address, counted by an XDP
//! program (generic mode, so any interface works), printed every second.
//!
//! `cargo run -p ebpf-examples --bin xdp_counter -- [--iface NAME] [--duration S]`

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ebpf_link::xdp::{self, XdpMode};

include!(concat!(env!("OUT_DIR"), "/xdp_counter.skel.rs"));

fn main() -> anyhow::Result<()> {
    let args = ebpf_examples::Args::parse();
    let obj = XdpCounterSkel::open()?.load()?;
    let _link = xdp::attach(
        &obj.progs.count_sources,
        args.iface.as_str(),
        XdpMode::Generic,
    )?;
    let deadline = Instant::now() + args.duration;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1).min(deadline - Instant::now()));
        println!("{:<16} {:>10} {:>12}", "SOURCE", "PACKETS", "BYTES");
        for entry in obj.maps.by_source.iter() {
            // The key is the address as the packet holds it: network order.
            let (addr, c) = entry?;
            let addr = Ipv4Addr::from(addr.to_ne_bytes());
            println!("{addr:<16} {:>10} {:>12}", c.packets, c.bytes);
        }
    }
    Ok(())
}
