//! opensnoop: prints every openat(2) — pid, parent pid, command, file — from a
//! tracepoint through a ring buffer, then the processes that opened the most.
//!
//! `cargo run -p ebpf-examples --bin opensnoop -- [--pid PID] [--duration S]`

use std::time::{Duration, Instant};

include!(concat!(env!("OUT_DIR"), "/opensnoop.skel.rs"));

fn main() -> anyhow::Result<()> {
    let args = ebpf_examples::Args::parse();
    let mut skel = OpensnoopSkel::open()?;
    // A `volatile const`: the verifier sees the value, dead branches go away.
    skel.rodata_mut().target_pid = args.pid.unwrap_or(0);
    let mut obj = skel.load()?;
    let _links = obj.attach_all()?;

    println!("{:<8} {:<8} {:<16} FILE", "PID", "PPID", "COMM");
    let deadline = Instant::now() + args.duration;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match obj
            .maps
            .events
            .read_timeout(left.min(Duration::from_millis(200)))
        {
            Ok(e) => println!(
                "{:<8} {:<8} {:<16} {}",
                e.pid,
                e.ppid,
                e.comm_str(),
                e.filename_str()
            ),
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(e.into()),
        }
    }

    let mut counts = obj.maps.counts.iter().collect::<Result<Vec<_>, _>>()?;
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    println!("\n{:<8} OPENS", "PID");
    for (pid, n) in counts.iter().take(10) {
        println!("{pid:<8} {n}");
    }
    Ok(())
}
