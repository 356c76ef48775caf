//! The CPU lists of `/sys/devices/system/cpu/{possible,online}` (`0-3,5,7-8`).

use std::sync::OnceLock;

use crate::{Error, Result};

/// Parses a kernel CPU list such as `0-3,5,7-8` (a trailing newline
/// allowed; empty means no CPU). `None` for anything else: a range that runs
/// backwards, an empty item, a non-number.
///
/// ```
/// use ebpf_syscall::parse_cpu_list;
/// assert_eq!(parse_cpu_list("0-1,4,6-7\n"), Some(vec![0, 1, 4, 6, 7]));
/// assert_eq!(parse_cpu_list("3-1"), None);
/// ```
pub fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let text = text.trim();
    if text.is_empty() {
        return Some(out);
    }
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.trim().parse().ok()?),
        }
    }
    Some(out)
}

/// Reads and parses `/sys/devices/system/cpu/<which>` (`possible`, `online`,
/// `present`, ...).
pub fn read_cpu_list(which: &str) -> Result<Vec<u32>> {
    let path = format!("/sys/devices/system/cpu/{which}");
    let text = std::fs::read_to_string(&path).map_err(Error::io(format!("read {path}")))?;
    parse_cpu_list(&text).ok_or_else(|| Error::Io {
        what: format!("parse {path}"),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("'{}' is not a CPU list", text.trim()),
        ),
    })
}

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`): the
/// highest possible CPU + 1, the number of values of a per-CPU map and the
/// default size of a perf event array. Read once per process.
///
/// ```no_run
/// assert!(ebpf_syscall::possible_cpus()? >= 1);
/// # Ok::<(), ebpf_syscall::Error>(())
/// ```
pub fn possible_cpus() -> Result<usize> {
    static CPUS: OnceLock<usize> = OnceLock::new();
    if let Some(&n) = CPUS.get() {
        return Ok(n);
    }
    let highest = read_cpu_list("possible")?
        .into_iter()
        .max()
        .ok_or_else(|| Error::InvalidArgument("/sys/devices/system/cpu/possible: no CPU".into()))?;
    Ok(*CPUS.get_or_init(|| highest as usize + 1))
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0\n"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0-3"), Some(vec![0, 1, 2, 3]));
        assert_eq!(parse_cpu_list("0-1,4,6-7\n"), Some(vec![0, 1, 4, 6, 7]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a"), None);
        assert_eq!(parse_cpu_list("x"), None);
        assert_eq!(parse_cpu_list("1,,2"), None);
    }

    #[test]
    fn possible_cpus_is_the_highest_plus_one() {
        let n = super::possible_cpus().expect("/sys/devices/system/cpu/possible");
        let list = super::read_cpu_list("possible").expect("possible");
        assert_eq!(Some(n), list.iter().max().map(|&m| m as usize + 1));
    }
}
