//! tcx_counter: packets and bytes per protocol arriving on an interface,
//! counted by a TCX ingress program (Linux 6.6+), printed every second.
//!
//! `cargo run -p ebpf-examples --bin tcx_counter -- [--iface NAME] [--duration S]`

use std::time::{Duration, Instant};

use ebpf_link::tcx::{self, TcxDirection, TcxOptions};

include!(concat!(env!("OUT_DIR"), "/tcx_counter.skel.rs"));

fn main() -> anyhow::Result<()> {
    let args = ebpf_examples::Args::parse();
    let obj = TcxCounterSkel::open()?.load()?;
    let ifindex = ebpf_link::ifindex(&args.iface)?;
    let _link = tcx::attach(
        &obj.progs.count_ingress,
        ifindex,
        TcxDirection::Ingress,
        &TcxOptions::default(),
    )?;
    let deadline = Instant::now() + args.duration;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1).min(deadline - Instant::now()));
        println!("{:<10} {:>10} {:>12}", "ETHERTYPE", "PACKETS", "BYTES");
        for entry in obj.maps.by_protocol.iter() {
            let (proto, c) = entry?;
            println!("{proto:<#10x} {:>10} {:>12}", c.packets, c.bytes);
        }
    }
    Ok(())
}
