//! `ebpf-tool run [OBJECT.o] [--duration SECS] [--interval SECS]`: load an
//! object, auto-attach every program that can be attached from its section
//! name, and show its maps live, decoded with BTF (see [`table`]); ring buffer
//! records are printed as they arrive. Without OBJECT it runs the embedded
//! default object, a per-process syscall counter shown as a top table. An
//! object's 4-byte global `ignore_tgid` is set to the tool's pid before load,
//! so the default object does not count the tool. On a terminal the tables
//! are redrawn in place; piped, each refresh is appended. Ctrl-C detaches
//! cleanly.

mod table;

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use ebpf::{Collection, CollectionOptions};
use ebpf_spec::{CollectionSpec, MapType};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use anyhow::Context as _;
use ebpf::ErrorChain;

use crate::Result;
use crate::privileges;
use table::{MapTable, describe, is_shown};

/// The default object: `testdata/syscount.c`, built for the host's byte order.
#[cfg(target_endian = "little")]
const DEFAULT_OBJECT: &[u8] = include_bytes!("../../../../testdata/syscount-el.o");
#[cfg(target_endian = "big")]
const DEFAULT_OBJECT: &[u8] = include_bytes!("../../../../testdata/syscount-eb.o");

/// The global set to the tool's pid before load (a process the object does not count).
const IGNORE_TGID: &str = "ignore_tgid";

/// Options of `run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The object to run; `None` for the embedded default.
    pub object: Option<String>,
    /// Stop after this long; `None` runs until Ctrl-C.
    pub duration: Option<Duration>,
    /// How often the maps are printed.
    pub interval: Duration,
    /// Rows shown per map.
    pub top: usize,
}

/// Runs the command, printing as it goes.
pub fn run(opts: &RunOptions) -> Result<String> {
    // Ctrl-C and SIGTERM arrive through a signalfd, so the loop can wait on
    // them together with ring buffers. Blocked before anything spawns threads.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGTERM);
    mask.thread_block().context("block signals")?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .context("signalfd")?;

    let (label, mut spec) = match &opts.object {
        Some(path) => (path.clone(), super::open_object(path)?),
        None => (
            "default object (syscall counts per process)".to_owned(),
            CollectionSpec::from_elf(DEFAULT_OBJECT).context("default object")?,
        ),
    };
    // The tool's own syscalls would top the table: the object leaves them out.
    let mut notes = String::new();
    if spec.variables.get(IGNORE_TGID).is_some_and(|v| v.size == 4) {
        spec.set_variable(IGNORE_TGID, &std::process::id().to_ne_bytes())
            .with_context(|| format!("{label}: set {IGNORE_TGID}"))?;
        let _ = writeln!(notes, "{IGNORE_TGID} = {} (this tool)", std::process::id());
    }
    let spec = spec;
    // Programs the kernel refuses by policy (lockdown) or lacks support for are
    // skipped with a note; the rest of the object still runs.
    let mut skipped = std::collections::BTreeSet::new();
    // A freplace program replaces a function of another loaded program, which
    // `run` has no way to name.
    for (name, p) in &spec.programs {
        if p.program_type == ebpf::ProgramType::EXT {
            let _ = writeln!(
                notes,
                "not loaded {name}: a freplace program needs its target program \
                 (ebpf-tool load --attach-prog {name}=TARGET)"
            );
            skipped.insert(name.clone());
        }
    }
    let mut coll = loop {
        let opts = CollectionOptions {
            skip_programs: skipped.clone(),
            ..CollectionOptions::default()
        };
        match Collection::load(&spec, opts) {
            Ok(c) => break c,
            Err(e) => {
                let skippable = e.is_permission_denied() || e.not_supported().is_some();
                match &e {
                    ebpf::Error::Program { name, .. } if skippable && !skipped.contains(name) => {
                        let _ = writeln!(notes, "not loaded {name}: {}", ErrorChain(&e));
                        skipped.insert(name.clone());
                    }
                    _ => return Err(anyhow::Error::new(e).context(format!("load {label}"))),
                }
            }
        }
    };

    let mut stdout = std::io::stdout().lock();
    let mut say = |text: &str| -> bool {
        // A closed stdout (`| head`) ends the run like Ctrl-C would.
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .is_ok()
    };

    let mut links: Vec<Box<dyn ebpf_link::Link>> = Vec::new();
    let mut attached = String::new();
    for (name, program) in &coll.programs {
        // struct_ops programs run through their map, registered below.
        if program.program_type() == ebpf::ProgramType::STRUCT_OPS {
            continue;
        }
        match ebpf_link::attach_spec(&spec.programs[name], program) {
            Ok(link) => {
                let _ = writeln!(
                    attached,
                    "attached {name} ({})",
                    spec.programs[name].section_name
                );
                links.push(link);
            }
            Err(e) => {
                let _ = writeln!(
                    attached,
                    "not attached {name}: {}",
                    privileges::hint(&ErrorChain(&e))
                );
            }
        }
    }
    // struct_ops maps are registered by attaching them (their programs are
    // not attached one by one).
    for (name, map) in &coll.struct_ops {
        match ebpf_link::struct_ops::attach(map) {
            Ok(link) => {
                let _ = writeln!(attached, "registered {name} ({})", map.type_name());
                links.push(Box::new(link));
            }
            Err(e) => {
                let _ = writeln!(
                    attached,
                    "not registered {name}: {}",
                    privileges::hint(&ErrorChain(&e))
                );
            }
        }
    }
    if links.is_empty() && !coll.programs.is_empty() {
        anyhow::bail!("{label}: no program could be attached\n{attached}");
    }
    say(&format!("running {label}\n{notes}{attached}"));

    // Ring buffers: one reader over all of them.
    let mut ring_names = Vec::new();
    let mut reader: Option<ebpf::ringbuf::RingBufReader> = None;
    for (name, map_spec) in &spec.maps {
        if map_spec.map_type != MapType::RINGBUF {
            continue;
        }
        let Some(map) = coll.maps.get(name) else {
            continue;
        };
        let added = match &mut reader {
            Some(r) => r.add(map).map(|_| ()),
            None => ebpf::ringbuf::RingBufReader::new(map).map(|r| reader = Some(r)),
        };
        match added {
            Ok(()) => ring_names.push(name.clone()),
            Err(e) => {
                say(&format!(
                    "ring buffer {name}: not read: {}\n",
                    ErrorChain(&e)
                ));
            }
        }
    }

    // Perf event arrays: one reader each (rings on every CPU).
    let mut perf_readers: Vec<(String, ebpf::perf::PerfReader)> = Vec::new();
    for (name, map_spec) in &spec.maps {
        if map_spec.map_type != MapType::PERF_EVENT_ARRAY {
            continue;
        }
        let Some(map) = coll.maps.get(name) else {
            continue;
        };
        match ebpf::perf::PerfReader::new(map) {
            Ok(r) => perf_readers.push((name.clone(), r)),
            Err(e) => {
                say(&format!(
                    "perf event array {name}: not read: {}\n",
                    ErrorChain(&e)
                ));
            }
        }
    }

    // Events printed per refresh interval; the rest are counted, so a busy
    // ring cannot flood the terminal.
    const EVENTS_PER_INTERVAL: usize = 20;
    let mut printed = 0usize;
    let mut suppressed = 0usize;
    let start = Instant::now();
    let end = opts.duration.map(|d| start + d);
    let value_label = if opts.object.is_none() {
        "CALLS"
    } else {
        "VALUE"
    };
    let mut tables: Vec<(MapTable<'_>, &ebpf::Map)> = spec
        .maps
        .iter()
        .filter(|(_, ms)| is_shown(ms))
        .filter_map(|(name, ms)| {
            let map = coll.maps.get(name)?;
            Some((MapTable::new(&spec, ms, value_label, start), map))
        })
        .collect();
    let tty = std::io::stdout().is_terminal();
    let mut next_tick = start + opts.interval;
    loop {
        let now = Instant::now();
        let wake = end.map_or(next_tick, |e| e.min(next_tick));
        let timeout = wake.saturating_duration_since(now);
        let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        if let Some(r) = &reader {
            fds.push(PollFd::new(r.as_fd(), PollFlags::POLLIN));
        }
        let perf_base = fds.len();
        for (_, r) in &perf_readers {
            fds.push(PollFd::new(r.as_fd(), PollFlags::POLLIN));
        }
        let ms = u16::try_from(timeout.as_millis().max(1)).unwrap_or(u16::MAX);
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(anyhow::Error::new(e).context("poll")),
        }
        let interrupted = fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLIN));
        let ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| r.contains(PollFlags::POLLIN));
        let ring_ready = reader.is_some() && fds.get(1).is_some_and(ready);
        let perf_ready: Vec<bool> = fds[perf_base..].iter().map(ready).collect();
        drop(fds);
        for ((name, r), is_ready) in perf_readers.iter_mut().zip(perf_ready) {
            if !is_ready {
                continue;
            }
            let map_spec = &spec.maps[name.as_str()];
            let mut text = String::new();
            let _ = r.consume(|cpu, event| match event {
                ebpf::perf::PerfEvent::Sample(bytes) => {
                    if printed >= EVENTS_PER_INTERVAL {
                        suppressed += 1;
                        return;
                    }
                    printed += 1;
                    let _ = writeln!(
                        text,
                        "event {name} cpu {cpu}: {}",
                        describe(&spec, map_spec, map_spec.value_type, bytes)
                    );
                }
                ebpf::perf::PerfEvent::Lost(n) => {
                    let _ = writeln!(text, "event {name} cpu {cpu}: {n} samples lost");
                }
            });
            if !say(&text) {
                break;
            }
        }
        if ring_ready {
            if let Some(r) = &mut reader {
                let mut text = String::new();
                let _ = r.consume(|ring, bytes| {
                    if printed >= EVENTS_PER_INTERVAL {
                        suppressed += 1;
                        return;
                    }
                    printed += 1;
                    let name = ring_names.get(ring).map_or("?", String::as_str);
                    let map_spec = &spec.maps[name];
                    let _ = writeln!(
                        text,
                        "event {name}: {}",
                        describe(&spec, map_spec, map_spec.value_type, bytes)
                    );
                });
                if !say(&text) {
                    break;
                }
            }
        }
        if interrupted {
            say("\ninterrupted, detaching\n");
            break;
        }
        let now = Instant::now();
        if now >= next_tick || end.is_some_and(|e| now >= e) {
            next_tick = now + opts.interval;
            let mut text = String::new();
            // A terminal shows the latest tables in place; a pipe gets each refresh.
            if tty {
                text.push_str("\x1b[H\x1b[2J");
            }
            let _ = writeln!(
                text,
                "--- {:.1}s ---",
                now.duration_since(start).as_secs_f64()
            );
            if suppressed > 0 {
                let _ = writeln!(
                    text,
                    "({suppressed} more events not shown; at most {EVENTS_PER_INTERVAL} per interval)"
                );
            }
            printed = 0;
            suppressed = 0;
            for (table, map) in &mut tables {
                let (shown, full) = table.render(map, opts.top, now);
                text.push_str(&shown);
                if let Some(warning) = full {
                    log::warn!("{warning}");
                }
            }
            if !say(&text) {
                break;
            }
        }
        if end.is_some_and(|e| Instant::now() >= e) {
            break;
        }
    }
    drop(tables);
    drop(links);
    coll.programs.clear();
    Ok("detached\n".to_owned())
}
