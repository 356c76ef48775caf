//! bashreadline: prints every line an interactive bash reads — pid, command,
//! the line — from a uretprobe on bash's `readline`, through a ring buffer.
//!
//! `cargo run -p ebpf-examples --bin bashreadline -- [--pid PID] [--duration S]`

use std::path::Path;
use std::time::{Duration, Instant};

use ebpf_link::uprobe::{self, UprobeOptions};

include!(concat!(env!("OUT_DIR"), "/bashreadline.skel.rs"));

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ebpf_examples::Args::parse();
    let bash = ["/bin/bash", "/usr/bin/bash"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or("no bash at /bin/bash or /usr/bin/bash")?;
    let mut obj = BashreadlineSkel::open()?.load()?;
    // The section (`uretprobe`) names no binary: attach to the bash found.
    let opts = UprobeOptions {
        retprobe: true,
        pid: args.pid,
        ..UprobeOptions::default()
    };
    let _link = uprobe::attach(&obj.progs.handle_readline, bash, "readline", &opts)?;
    eprintln!("tracing readline in {bash}");

    println!("{:<8} {:<16} LINE", "PID", "COMM");
    let deadline = Instant::now() + args.duration;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match obj
            .maps
            .lines
            .read_timeout(left.min(Duration::from_millis(200)))
        {
            Ok(l) => println!("{:<8} {:<16} {}", l.pid, l.comm_str(), l.text_str()),
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
