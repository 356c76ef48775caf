//! Finding tracefs and reading tracepoint ids.
//!
//! ```no_run
//! let id = ebpf_syscall::tracefs::tracepoint_id("syscalls", "sys_enter_openat")?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
