//! unlinksnoop: every file removal (the kernel's `do_unlinkat`) — pid,
//! command, file — through a ring buffer, from an fentry program where the
//! kernel allows it, else from a kprobe. fentry needs the kernel's BTF and is
//! refused under lockdown; kprobes need `CONFIG_KPROBES`. Where neither
//! works, it says why and exits with status 1.
//!
//! `cargo run -p ebpf-examples --bin unlinksnoop -- [--duration S]`

use std::time::{Duration, Instant};

use ebpf::ringbuf::RingBuf;

// Two skeletons with the same type names: one module each.
mod fentry {
    include!(concat!(env!("OUT_DIR"), "/unlink_fentry.skel.rs"));
}
mod kprobe {
    include!(concat!(env!("OUT_DIR"), "/unlink_kprobe.skel.rs"));
}

/// Whether the kernel refused the program type or attach method (rather
/// than the example being wrong).
fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(e) = e.downcast_ref::<ebpf::Error>() {
        return e.not_supported().is_some() || e.is_permission_denied();
    }
    if let Some(e) = e.downcast_ref::<ebpf_link::Error>() {
        return e.not_supported().is_some() || e.is_permission_denied();
    }
    false
}

/// Prints the events of `events` until `deadline`.
fn print_events<T: ebpf::zerocopy::FromBytes>(
    events: &mut RingBuf<T>,
    deadline: Instant,
    line: impl Fn(&T) -> String,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("{:<8} {:<16} FILE", "PID", "COMM");
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match events.read_timeout(left.min(Duration::from_millis(200))) {
            Ok(e) => println!("{}", line(&e)),
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn with_fentry(deadline: Instant) -> Result<(), Box<dyn std::error::Error>> {
    let mut obj = fentry::UnlinkFentrySkel::open()?.load()?;
    let _links = obj.attach_all()?;
    eprintln!("tracing do_unlinkat with fentry");
    print_events(&mut obj.maps.events, deadline, |e| {
        format!("{:<8} {:<16} {}", e.pid, e.comm_str(), e.filename_str())
    })
}

fn with_kprobe(deadline: Instant) -> Result<(), Box<dyn std::error::Error>> {
    let mut obj = kprobe::UnlinkKprobeSkel::open()?.load()?;
    let _links = obj.attach_all()?;
    eprintln!("tracing do_unlinkat with a kprobe");
    print_events(&mut obj.maps.events, deadline, |e| {
        format!("{:<8} {:<16} {}", e.pid, e.comm_str(), e.filename_str())
    })
}

fn main() {
    let args = ebpf_examples::Args::parse();
    let deadline = Instant::now() + args.duration;
    let fentry = match with_fentry(deadline) {
        Ok(()) => return,
        Err(e) if refused(e.as_ref()) => e,
        Err(e) => {
            eprintln!("unlinksnoop: fentry: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("unlinksnoop: fentry refused ({fentry}); falling back to a kprobe");
    match with_kprobe(deadline) {
        Ok(()) => {}
        Err(kprobe) if refused(kprobe.as_ref()) => {
            eprintln!(
                "unlinksnoop: not supported by this kernel: fentry: {fentry}; kprobe: {kprobe}"
            );
            std::process::exit(1);
        }
        Err(kprobe) => {
            eprintln!("unlinksnoop: kprobe: {kprobe}");
            std::process::exit(1);
        }
    }
}
