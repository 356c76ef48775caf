//! unlinksnoop: every file removal (the kernel's `do_unlinkat`, `filename_unlinkat` since
//! 7.x) — pid, command, file — through a ring buffer, from an fentry program where the
//! kernel allows it, else from a kprobe. fentry needs the kernel's BTF and is
//! refused under lockdown; kprobes need `CONFIG_KPROBES`. Where neither
//! works, it says why and exits with status 1.
//!
//! `cargo run -p ebpf-examples --bin unlinksnoop -- [--duration S] [--probe fentry|kprobe]`
//! (`--probe`: that kind only, no fallback)

use std::time::{Duration, Instant};

use ebpf::ErrorChain;
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

/// The kernel function that removes a file by name: `do_unlinkat`, renamed
/// `filename_unlinkat` in Linux 7.x with the same arguments (`int dfd, struct
/// filename *name`). From `/proc/kallsyms`, which lists names to everyone.
fn unlink_function() -> &'static str {
    let names = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
    let has = |f: &str| {
        names
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some(f))
    };
    if !has("do_unlinkat") && has("filename_unlinkat") {
        "filename_unlinkat"
    } else {
        "do_unlinkat"
    }
}

fn with_fentry(deadline: Instant) -> Result<(), Box<dyn std::error::Error>> {
    let function = unlink_function();
    let mut skel = fentry::UnlinkFentrySkel::open()?;
    // The section names do_unlinkat; the target is the running kernel's name for it.
    if let Some(p) = skel.spec.programs.get_mut("unlink_entry") {
        p.attach_target = Some(function.into());
    }
    let mut obj = skel.load()?;
    let _links = obj.attach_all()?;
    eprintln!("tracing {function} with fentry");
    print_events(&mut obj.maps.events, deadline, |e| {
        format!("{:<8} {:<16} {}", e.pid, e.comm_str(), e.filename_str())
    })
}

fn with_kprobe(deadline: Instant) -> Result<(), Box<dyn std::error::Error>> {
    let function = unlink_function();
    let mut obj = kprobe::UnlinkKprobeSkel::open()?.load()?;
    let _link = ebpf_link::kprobe::attach(&obj.progs.unlink_entry, function, &Default::default())?;
    eprintln!("tracing {function} with a kprobe");
    print_events(&mut obj.maps.events, deadline, |e| {
        format!("{:<8} {:<16} {}", e.pid, e.comm_str(), e.filename_str())
    })
}

fn main() {
    let args = ebpf_examples::Args::parse();
    let deadline = Instant::now() + args.duration;
    let result = match args.probe.as_deref() {
        None => None,
        Some("fentry") => Some(("fentry", with_fentry(deadline))),
        Some("kprobe") => Some(("kprobe", with_kprobe(deadline))),
        Some(other) => {
            eprintln!("unlinksnoop: --probe {other}: want fentry or kprobe");
            std::process::exit(2);
        }
    };
    // A probe kind asked for: no fallback.
    if let Some((kind, result)) = result {
        match result {
            Ok(()) => return,
            Err(e) if refused(e.as_ref()) => {
                eprintln!(
                    "unlinksnoop: the kernel refuses {kind}: {}",
                    ErrorChain(&*e)
                );
            }
            Err(e) => eprintln!("unlinksnoop: {kind}: {}", ErrorChain(&*e)),
        }
        std::process::exit(1);
    }
    let fentry = match with_fentry(deadline) {
        Ok(()) => return,
        Err(e) if refused(e.as_ref()) => e,
        Err(e) => {
            eprintln!("unlinksnoop: fentry: {}", ErrorChain(&*e));
            std::process::exit(1);
        }
    };
    eprintln!(
        "unlinksnoop: fentry refused ({}); falling back to a kprobe",
        ErrorChain(&*fentry)
    );
    match with_kprobe(deadline) {
        Ok(()) => {}
        Err(kprobe) if refused(kprobe.as_ref()) => {
            eprintln!(
                "unlinksnoop: the kernel refuses both: fentry: {}; kprobe: {}",
                ErrorChain(&*fentry),
                ErrorChain(&*kprobe)
            );
            std::process::exit(1);
        }
        Err(kprobe) => {
            eprintln!("unlinksnoop: kprobe: {}", ErrorChain(&*kprobe));
            std::process::exit(1);
        }
    }
}
