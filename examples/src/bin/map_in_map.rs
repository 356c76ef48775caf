//! map_in_map: a program counts getppid(2) calls in the inner map at index 0
//! of an array of maps; halfway through, user space puts the other inner map
//! there, and the counts move to it.
//!
//! `cargo run -p ebpf-examples --bin map_in_map -- [--duration S]`

use std::time::{Duration, Instant};

include!(concat!(env!("OUT_DIR"), "/map_in_map.skel.rs"));

/// Calls getppid(2) for `d`.
fn call_getppid_for(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::black_box(std::os::unix::process::parent_id());
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() -> anyhow::Result<()> {
    let args = ebpf_examples::Args::parse();
    let obj = MapInMapSkel::open()?.load()?;
    let _links = obj.attach_all()?;
    call_getppid_for(args.duration / 2);
    obj.maps.outer.set(&0, obj.maps.second.map())?;
    call_getppid_for(args.duration / 2);
    println!("first:  {} calls", obj.maps.first.get(0)?);
    println!("second: {} calls", obj.maps.second.get(0)?);
    Ok(())
}
