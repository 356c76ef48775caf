//! perf_events: one sample per getppid(2) through a perf event array, read
//! per CPU with `ebpf::perf::PerfReader` and decoded as the generated `Sample`
//! (a type named in `build.rs`, since perf event arrays carry no value type).
//!
//! `cargo run -p ebpf-examples --bin perf_events -- [--duration S]`

use std::time::{Duration, Instant};

use ebpf::perf::PerfReader;
use ebpf::zerocopy::FromBytes;

include!(concat!(env!("OUT_DIR"), "/perf_events.skel.rs"));

fn main() -> anyhow::Result<()> {
    let args = ebpf_examples::Args::parse();
    let obj = PerfEventsSkel::open()?.load()?;
    let _links = obj.attach_all()?;
    let mut reader = PerfReader::new(&obj.maps.samples)?;
    let deadline = Instant::now() + args.duration;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match reader.read_timeout(left.min(Duration::from_millis(200))) {
            Ok(record) => {
                let cpu = record.cpu();
                if let Some(Ok((s, _))) = record.sample().map(Sample::read_from_prefix) {
                    println!("cpu {cpu}: pid {} ({}) called getppid", s.pid, s.comm_str());
                }
            }
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(e.into()),
        }
    }
    println!("lost samples: {}", reader.lost_samples());
    Ok(())
}
