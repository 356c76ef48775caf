//! Attach targets in section names, split the way libbpf's auto-attach reads them:
//! `tracepoint/CATEGORY/NAME`, `kprobe/FUNCTION[+OFFSET]`, `uprobe/PATH:FUNCTION[+OFFSET]`
//! (or `uprobe/PATH:OFFSET`), and a plain name for everything else (fentry, lsm, iter ...).
//!
//! ```
//! use ebpf_spec::AttachTarget;
//! assert_eq!(
//!     AttachTarget::parse("uprobe//usr/lib/libc.so.6:malloc+16"),
//!     Some(AttachTarget::Uprobe { path: "/usr/lib/libc.so.6", function: Some("malloc"), offset: 16 })
//! );
//! assert_eq!(
//!     AttachTarget::parse("tp/syscalls/sys_enter_getpid"),
//!     Some(AttachTarget::Tracepoint { category: "syscalls", name: "sys_enter_getpid" })
//! );
//! assert_eq!(AttachTarget::parse("fentry/do_unlinkat"), Some(AttachTarget::Name("do_unlinkat")));
//! assert_eq!(AttachTarget::parse("xdp"), None);
//! ```

use crate::section_def::SectionPattern;
use crate::section_name::SectionInfo;

/// The attach target of a section name, split by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttachTarget<'a> {
    /// `tracepoint/` and `tp/` (and their sleepable forms): category and event name.
    Tracepoint {
        /// The category (`syscalls`).
        category: &'a str,
        /// The event (`sys_enter_getpid`).
        name: &'a str,
    },
    /// `kprobe/` and `kretprobe/`: a kernel function and an offset into it.
    Kprobe {
        /// The function.
        function: &'a str,
        /// The offset (0 when not given).
        offset: u64,
    },
    /// `uprobe/` and `uretprobe/` (and sleepable forms): a binary and a function or offset.
    Uprobe {
        /// The binary's path.
        path: &'a str,
        /// The function, or `None` when the target is a plain offset.
        function: Option<&'a str>,
        /// The offset (from the function, or from the start of the binary).
        offset: u64,
    },
    /// Any other target, as written (fentry/fexit/lsm function, iter name, raw tracepoint,
    /// ksyscall, multi-probe patterns, USDT specs ...).
    Name(&'a str),
}

/// A decimal or `0x` hexadecimal number, as `%li` reads it.
fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Splits a trailing `+OFFSET` off `s`.
fn with_offset(s: &str) -> (&str, u64) {
    match s.rsplit_once('+') {
        Some((f, off)) => match number(off) {
            Some(o) => (f, o),
            None => (s, 0),
        },
        None => (s, 0),
    }
}

impl<'a> AttachTarget<'a> {
    /// The attach target of `section_name`, or `None` if the name has none (or is unknown).
    pub fn parse(section_name: &'a str) -> Option<AttachTarget<'a>> {
        let name = section_name.strip_prefix('?').unwrap_or(section_name);
        let info = SectionInfo::parse(name);
        let stem = match info.pattern? {
            SectionPattern::StemOrTarget(stem) => stem,
            SectionPattern::Prefix(p) => p.trim_end_matches('/'),
            SectionPattern::Exact(_) => return None,
        };
        let target = name.get(stem.len() + 1..).filter(|t| !t.is_empty())?;
        Some(match stem {
            "tracepoint" | "tp" | "tracepoint.s" | "tp.s" => match target.split_once('/') {
                Some((category, name)) => AttachTarget::Tracepoint { category, name },
                None => AttachTarget::Name(target),
            },
            "kprobe" | "kretprobe" => {
                let (function, offset) = with_offset(target);
                AttachTarget::Kprobe { function, offset }
            }
            "uprobe" | "uretprobe" | "uprobe.s" | "uretprobe.s" => match target.split_once(':') {
                Some((path, rest)) => match number(rest) {
                    Some(offset) => AttachTarget::Uprobe {
                        path,
                        function: None,
                        offset,
                    },
                    None => {
                        let (function, offset) = with_offset(rest);
                        AttachTarget::Uprobe {
                            path,
                            function: Some(function),
                            offset,
                        }
                    }
                },
                None => AttachTarget::Name(target),
            },
            _ => AttachTarget::Name(target),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        use AttachTarget as T;
        assert_eq!(
            T::parse("kprobe/do_sys_open+0x10"),
            Some(T::Kprobe {
                function: "do_sys_open",
                offset: 16
            })
        );
        assert_eq!(
            T::parse("kretprobe/f"),
            Some(T::Kprobe {
                function: "f",
                offset: 0
            })
        );
        assert_eq!(
            T::parse("?uretprobe.s//bin/sh:0x1234"),
            Some(T::Uprobe {
                path: "/bin/sh",
                function: None,
                offset: 0x1234
            })
        );
        assert_eq!(
            T::parse("uprobe/./a.out:f+x"),
            Some(T::Uprobe {
                path: "./a.out",
                function: Some("f+x"),
                offset: 0
            })
        );
        assert_eq!(T::parse("uprobe/nopath"), Some(T::Name("nopath")));
        assert_eq!(T::parse("tracepoint/sched"), Some(T::Name("sched")));
        assert_eq!(T::parse("iter/task"), Some(T::Name("task")));
        assert_eq!(
            T::parse("uprobe.multi//bin/*:f*"),
            Some(T::Name("/bin/*:f*"))
        );
        assert_eq!(T::parse("kprobe"), None);
        assert_eq!(T::parse("kprobe/"), None);
        assert_eq!(T::parse("socket"), None);
        assert_eq!(T::parse("unknown/thing"), None);
    }
}
