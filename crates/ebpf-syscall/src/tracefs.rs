//! Finding tracefs, reading tracepoint ids, and kprobe and uprobe events made
//! through `kprobe_events`/`uprobe_events` (for kernels without the perf PMUs).
//!
//! ```no_run
//! use ebpf_syscall::tracefs::{self, ProbeEvent};
//! let id = tracefs::tracepoint_id("syscalls", "sys_enter_openat")?;
//! // A uprobe event, removed when dropped; `id()` is a PERF_TYPE_TRACEPOINT config.
//! let event = ProbeEvent::uprobe("/usr/bin/bash".as_ref(), 0x1234, 0, false)?;
//! println!("{}/{} is event {}", event.group(), event.name(), event.id());
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use nix::mount::{MsFlags, mount};

use crate::{Error, Result};

/// Where tracefs is mounted when this crate mounts it.
pub const DEFAULT_TRACEFS: &str = "/sys/kernel/tracing";

/// The mount point of the first filesystem of type `fstype` in `/proc/self/mountinfo`.
pub fn find_mount(fstype: &str) -> Result<Option<PathBuf>> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(Error::io("read /proc/self/mountinfo"))?;
    Ok(find_mount_in(&info, fstype))
}

fn unescape(s: &str) -> String {
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            if let Some(v) = s
                .get(i + 1..i + 4)
                .and_then(|o| u8::from_str_radix(o, 8).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find_mount_in(info: &str, fstype: &str) -> Option<PathBuf> {
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != fstype {
            return None;
        }
        left.split_whitespace()
            .nth(4)
            .map(|mp| PathBuf::from(unescape(mp)))
    })
}

static TRACEFS: OnceLock<PathBuf> = OnceLock::new();

/// The tracefs directory: a mounted tracefs, else `<debugfs>/tracing`, else a
/// tracefs this function mounts at [`DEFAULT_TRACEFS`] (needs `CAP_SYS_ADMIN`).
/// Found once per process.
pub fn tracefs_path() -> Result<&'static Path> {
    if let Some(p) = TRACEFS.get() {
        return Ok(p);
    }
    let found = discover()?;
    Ok(TRACEFS.get_or_init(|| found))
}

fn discover() -> Result<PathBuf> {
    if let Some(p) = find_mount("tracefs")? {
        return Ok(p);
    }
    if let Some(debugfs) = find_mount("debugfs")? {
        let p = debugfs.join("tracing");
        if p.join("events").is_dir() {
            return Ok(p);
        }
    }
    let target = Path::new(DEFAULT_TRACEFS);
    mount(
        Some("tracefs"),
        target,
        Some("tracefs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| Error::Io {
        what: format!(
            "no tracefs or debugfs is mounted, and mounting tracefs at {DEFAULT_TRACEFS} failed"
        ),
        source: e.into(),
    })?;
    Ok(target.to_owned())
}

fn check_component(kind: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!("tracepoint {kind} '{s}'")))
    }
}

/// The event id of tracepoint `group:name`, from `<tracefs>/events/<group>/<name>/id`
/// (the `config` of a `PERF_TYPE_TRACEPOINT` perf event).
pub fn tracepoint_id(group: &str, name: &str) -> Result<u64> {
    check_component("group", group)?;
    check_component("name", name)?;
    let path = tracefs_path()?
        .join("events")
        .join(group)
        .join(name)
        .join("id");
    let s =
        std::fs::read_to_string(&path).map_err(Error::io(format!("read {}", path.display())))?;
    s.trim().parse().map_err(|_| {
        Error::InvalidArgument(format!(
            "{}: '{}' is not a number",
            path.display(),
            s.trim()
        ))
    })
}

/// Reads file `name` of tracefs (`available_filter_functions`, ...), or
/// `None` when it does not exist.
pub fn read(name: &str) -> Result<Option<String>> {
    if name.contains("..") || name.starts_with('/') {
        return Err(Error::InvalidArgument(format!("tracefs file '{name}'")));
    }
    let path = tracefs_path()?.join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("read {}", path.display()))(e)),
    }
}

/// The group of the events [`ProbeEvent`] makes.
pub const PROBE_EVENT_GROUP: &str = "ebpf_rs";

/// Which dynamic event file a [`ProbeEvent`] lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeEventKind {
    /// `kprobe_events`.
    Kprobe,
    /// `uprobe_events`.
    Uprobe,
}

impl ProbeEventKind {
    fn file(self) -> &'static str {
        match self {
            ProbeEventKind::Kprobe => "kprobe_events",
            ProbeEventKind::Uprobe => "uprobe_events",
        }
    }

    fn config(self) -> &'static str {
        match self {
            ProbeEventKind::Kprobe => "CONFIG_KPROBE_EVENTS",
            ProbeEventKind::Uprobe => "CONFIG_UPROBE_EVENTS",
        }
    }
}

/// A kprobe or uprobe event defined in tracefs (`p:ebpf_rs/NAME TARGET` in
/// `kprobe_events` or `uprobe_events`): what perf attaches programs to on
/// kernels without the kprobe and uprobe PMUs. The event is removed when
/// this value is dropped (the kernel refuses while a perf event still uses
/// it, so drop those first).
///
/// # Minimum kernel version
///
/// 4.1 (BPF programs on trace events of kprobes); uprobes 4.3.
#[derive(Debug)]
pub struct ProbeEvent {
    kind: ProbeEventKind,
    name: String,
    id: u64,
}

/// Event names are unique in the process: pid, a counter and the target.
fn event_name(target: &str, offset: u64) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("ebpf_rs_{}_{n}_{target}_{offset:#x}", std::process::id());
    name = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    // The kernel takes at most 64 bytes (MAX_EVENT_NAME_LEN).
    name.truncate(63);
    name
}

impl ProbeEvent {
    /// A kprobe (or kretprobe) event on kernel function `function` plus `offset`.
    pub fn kprobe(function: &str, offset: u64, retprobe: bool) -> Result<ProbeEvent> {
        if function.is_empty()
            || !function
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return Err(Error::InvalidArgument(format!(
                "kernel function name '{function}'"
            )));
        }
        let name = event_name(function, offset);
        let def = format!(
            "{}:{PROBE_EVENT_GROUP}/{name} {function}+{offset:#x}",
            if retprobe { 'r' } else { 'p' }
        );
        Self::create(ProbeEventKind::Kprobe, name, &def)
    }

    /// A uprobe (or uretprobe) event at file offset `offset` of `binary`, with
    /// the reference counter (USDT semaphore) at file offset `ref_ctr_offset`
    /// (0: none; 4.20).
    pub fn uprobe(
        binary: &Path,
        offset: u64,
        ref_ctr_offset: u64,
        retprobe: bool,
    ) -> Result<ProbeEvent> {
        let path = binary.to_str().filter(|p| {
            p.starts_with('/') && !p.contains(|c: char| c.is_whitespace() || c.is_control())
        });
        let Some(path) = path else {
            return Err(Error::InvalidArgument(format!(
                "uprobe event binary '{}' (an absolute path without spaces)",
                binary.display()
            )));
        };
        let base = binary
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let name = event_name(&base, offset);
        let mut def = format!(
            "{}:{PROBE_EVENT_GROUP}/{name} {path}:{offset:#x}",
            if retprobe { 'r' } else { 'p' }
        );
        if ref_ctr_offset != 0 {
            def.push_str(&format!("({ref_ctr_offset:#x})"));
        }
        Self::create(ProbeEventKind::Uprobe, name, &def)
    }

    fn create(kind: ProbeEventKind, name: String, def: &str) -> Result<ProbeEvent> {
        let file = tracefs_path()?.join(kind.file());
        if !file.exists() {
            return Err(crate::NotSupported::new(
                format!("tracefs {}", kind.file()),
                crate::KernelVersion::new(4, 1, 0),
            )
            .requires_config(kind.config())
            .into());
        }
        append(&file, def)?;
        // From here on the event exists: `Drop` removes it.
        let mut event = ProbeEvent { kind, name, id: 0 };
        event.id = tracepoint_id(PROBE_EVENT_GROUP, &event.name)?;
        Ok(event)
    }

    /// The event's id: the `config` of a `PERF_TYPE_TRACEPOINT` perf event.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Its group ([`PROBE_EVENT_GROUP`]).
    pub fn group(&self) -> &str {
        PROBE_EVENT_GROUP
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Which event file it lives in.
    pub fn kind(&self) -> ProbeEventKind {
        self.kind
    }
}

impl Drop for ProbeEvent {
    fn drop(&mut self) {
        let Ok(dir) = tracefs_path() else { return };
        let def = format!("-:{PROBE_EVENT_GROUP}/{}", self.name);
        if let Err(e) = append(&dir.join(self.kind.file()), &def) {
            log::debug!("remove {}: {}", self.name, crate::ErrorChain(&e));
        }
    }
}

/// Appends `line` to tracefs file `file` in one write.
fn append(file: &Path, line: &str) -> Result<()> {
    use std::io::Write;
    let what = || format!("write '{line}' to {}", file.display());
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .map_err(|e| Error::io(what())(e))?;
    f.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| Error::io(what())(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_safe_and_short() {
        let a = event_name("libc.so.6", 0x10);
        let b = event_name("libc.so.6", 0x10);
        assert_ne!(a, b);
        assert!(
            a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'),
            "{a}"
        );
        assert!(event_name(&"x".repeat(100), 0).len() <= 63);
        assert!(ProbeEvent::kprobe("a b", 0, false).is_err());
        assert!(ProbeEvent::uprobe(Path::new("rel/path"), 0, 0, false).is_err());
    }

    #[test]
    fn parses_mountinfo() {
        let info = "22 1 0:21 / /sys rw - sysfs sysfs rw\n\
                    40 22 0:12 / /sys/kernel/my\\040tracing rw,nosuid - tracefs tracefs rw\n";
        assert_eq!(
            find_mount_in(info, "tracefs"),
            Some(PathBuf::from("/sys/kernel/my tracing"))
        );
        assert_eq!(find_mount_in(info, "debugfs"), None);
    }

    #[test]
    fn rejects_path_tricks() {
        assert!(check_component("group", "..").is_err());
        assert!(check_component("name", "a/b").is_err());
        assert!(check_component("name", "sys_enter").is_ok());
    }
}
