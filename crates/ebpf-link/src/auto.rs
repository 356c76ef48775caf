//! Auto-attach: the attach point a program's section name implies (like
//! libbpf's skeleton auto-attach), for every kind that needs no extra
//! argument: tracepoint, raw_tp, tp_btf, fentry/fexit/fmod_ret, LSM,
//! freplace, iter, uprobe with a `binary:symbol` target, kprobe, ksyscall,
//! kprobe_multi (names or patterns) and kprobe sessions, uprobe_multi and
//! uprobe sessions, and USDT (`usdt/<binary>:<provider>:<name>`).
//!
//! ```no_run
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = ebpf_link::attach(prog)?; // e.g. SEC("tracepoint/syscalls/sys_enter_getpid")
//! # Ok(()) }
//! ```
//!
//! [`attach`] reads the section name a [`Program`] was loaded from (a
//! program opened from a pin or an id has none: kprobes and uprobes are then
//! entry probes); [`attach_spec`] reads the [`ProgramSpec`]'s.

use ebpf::{AttachType, Program, ProgramSpec, ProgramType};

use crate::error::{Error, Result};
use crate::link::Link;

/// Where a program attaches, as its section name says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachPoint {
    /// `tracepoint/<group>/<name>`.
    Tracepoint {
        /// The group (`syscalls`).
        group: String,
        /// The event (`sys_enter_getpid`).
        name: String,
    },
    /// `raw_tp/<name>`, `raw_tracepoint.w/<name>`, or `tp_btf/<name>`.
    RawTracepoint {
        /// The tracepoint.
        name: String,
    },
    /// fentry/fexit/fmod_ret/LSM/freplace: the load-time target.
    Tracing,
    /// `iter/<target>`.
    Iter,
    /// `uprobe/<binary>:<symbol>[+offset]` or `uretprobe/...`.
    Uprobe {
        /// The binary.
        binary: String,
        /// The symbol (empty: `offset` is a file offset).
        symbol: String,
        /// The offset after the symbol.
        offset: u64,
        /// A uretprobe.
        retprobe: bool,
    },
    /// `kprobe/<function>[+offset]` or `kretprobe/...`.
    Kprobe {
        /// The function.
        function: String,
        /// The offset.
        offset: u64,
        /// A kretprobe.
        retprobe: bool,
    },
    /// `ksyscall/<name>` or `kretsyscall/<name>`: the kernel function of a
    /// system call on the running kernel (see [`crate::kprobe::attach_syscall`]).
    Ksyscall {
        /// The system call (`getpid`).
        syscall: String,
        /// A kretprobe.
        retprobe: bool,
    },
    /// `kprobe.multi/<pattern>` or `kretprobe.multi/...`: functions or glob
    /// patterns (`tcp_v4_*`), comma-separated.
    KprobeMulti {
        /// The functions or patterns.
        functions: Vec<String>,
        /// kretprobes.
        retprobe: bool,
    },
    /// `kprobe.session/<pattern>`: the program runs at entry and, when it
    /// returns 0, at return.
    KprobeSession {
        /// The functions or patterns.
        functions: Vec<String>,
    },
    /// `usdt/<binary>:<provider>:<name>`: a program written with libbpf's
    /// `usdt.bpf.h` (see [`crate::usdt`]).
    Usdt {
        /// The binary.
        binary: String,
        /// The provider.
        provider: String,
        /// The probe's name.
        name: String,
    },
    /// `uprobe.multi/<binary>:<symbol>`.
    UprobeMulti {
        /// The binary.
        binary: String,
        /// The symbols.
        symbols: Vec<String>,
        /// uretprobes.
        retprobe: bool,
    },
    /// `uprobe.session/<binary>:<symbol>`.
    UprobeSession {
        /// The binary.
        binary: String,
        /// The symbols.
        symbols: Vec<String>,
    },
}

/// `binary:sym1,sym2` of a uprobe.multi or uprobe.session section.
fn binary_symbols(kind: &str, t: &str) -> Result<(String, Vec<String>)> {
    let (binary, syms) = t.rsplit_once(':').ok_or_else(|| {
        Error::InvalidArgument(format!("{kind} target '{t}' is not binary:symbol"))
    })?;
    Ok((
        binary.to_owned(),
        syms.split(',').map(str::to_owned).collect(),
    ))
}

fn parse_offset(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// `func+off` → (func, off).
fn split_plus(s: &str) -> Result<(&str, u64)> {
    match s.rsplit_once('+') {
        Some((f, off)) => parse_offset(off)
            .map(|o| (f, o))
            .ok_or_else(|| Error::InvalidArgument(format!("bad offset in '{s}'"))),
        None => Ok((s, 0)),
    }
}

impl AttachPoint {
    /// The attach point of a program with these attributes; `section` (the
    /// section name, if known) tells return probes apart.
    pub fn resolve(
        program_type: ProgramType,
        attach_type: Option<AttachType>,
        target: Option<&str>,
        section: Option<&str>,
    ) -> Result<AttachPoint> {
        let section = section.map(|s| s.trim_start_matches('?'));
        let ret = |prefix: &str| section.is_some_and(|s| s.starts_with(prefix));
        let need_target = || {
            target.filter(|t| !t.is_empty()).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "the section name of this {program_type} program names no attach target"
                ))
            })
        };
        let usdt = section.is_some_and(|s| {
            s == "usdt" || s == "usdt.s" || s.starts_with("usdt/") || s.starts_with("usdt.s/")
        });
        Ok(match (program_type, attach_type) {
            (ProgramType::KPROBE, _) if usdt => {
                let t = target.filter(|t| !t.is_empty()).ok_or_else(|| {
                    Error::InvalidArgument(
                        "the section names no USDT probe (usdt/<binary>:<provider>:<name>): \
                         attach it with ebpf_link::usdt::attach"
                            .into(),
                    )
                })?;
                match t.split(':').collect::<Vec<_>>().as_slice() {
                    [binary, provider, name]
                        if !binary.is_empty() && !provider.is_empty() && !name.is_empty() =>
                    {
                        AttachPoint::Usdt {
                            binary: (*binary).to_owned(),
                            provider: (*provider).to_owned(),
                            name: (*name).to_owned(),
                        }
                    }
                    _ => {
                        return Err(Error::InvalidArgument(format!(
                            "USDT target '{t}' is not <binary>:<provider>:<name>"
                        )));
                    }
                }
            }
            (ProgramType::TRACEPOINT, _) => {
                let (g, n) = crate::tracepoint::split_target(need_target()?)?;
                AttachPoint::Tracepoint {
                    group: g.to_owned(),
                    name: n.to_owned(),
                }
            }
            (ProgramType::RAW_TRACEPOINT | ProgramType::RAW_TRACEPOINT_WRITABLE, _) => {
                AttachPoint::RawTracepoint {
                    name: need_target()?.to_owned(),
                }
            }
            (ProgramType::TRACING, Some(AttachType::TRACE_RAW_TP)) => AttachPoint::RawTracepoint {
                name: target.unwrap_or_default().to_owned(),
            },
            (ProgramType::TRACING, Some(AttachType::TRACE_ITER)) => AttachPoint::Iter,
            (ProgramType::TRACING | ProgramType::LSM | ProgramType::EXT, _) => AttachPoint::Tracing,
            (ProgramType::KPROBE, Some(AttachType::TRACE_KPROBE_MULTI)) => {
                AttachPoint::KprobeMulti {
                    functions: need_target()?.split(',').map(str::to_owned).collect(),
                    retprobe: ret("kretprobe"),
                }
            }
            (ProgramType::KPROBE, Some(AttachType::TRACE_KPROBE_SESSION)) => {
                AttachPoint::KprobeSession {
                    functions: need_target()?.split(',').map(str::to_owned).collect(),
                }
            }
            (ProgramType::KPROBE, Some(AttachType::TRACE_UPROBE_MULTI)) => {
                let (binary, symbols) = binary_symbols("uprobe.multi", need_target()?)?;
                AttachPoint::UprobeMulti {
                    binary,
                    symbols,
                    retprobe: ret("uretprobe"),
                }
            }
            (ProgramType::KPROBE, Some(AttachType::TRACE_UPROBE_SESSION)) => {
                let (binary, symbols) = binary_symbols("uprobe.session", need_target()?)?;
                AttachPoint::UprobeSession { binary, symbols }
            }
            (ProgramType::KPROBE, _) if ret("ksyscall") || ret("kretsyscall") => {
                AttachPoint::Ksyscall {
                    syscall: need_target()?.to_owned(),
                    retprobe: ret("kretsyscall"),
                }
            }
            (ProgramType::KPROBE, _) => {
                let t = need_target()?;
                let uprobe = section.map_or(t.contains(':') || t.contains('/'), |s| {
                    s.starts_with("uprobe") || s.starts_with("uretprobe")
                });
                if uprobe {
                    let (binary, sym) = t.rsplit_once(':').ok_or_else(|| {
                        Error::InvalidArgument(format!("uprobe target '{t}' is not binary:symbol"))
                    })?;
                    let (symbol, offset) = match parse_offset(sym) {
                        Some(off) if sym.starts_with("0x") => ("", off),
                        _ => split_plus(sym)?,
                    };
                    AttachPoint::Uprobe {
                        binary: binary.to_owned(),
                        symbol: symbol.to_owned(),
                        offset,
                        retprobe: ret("uretprobe"),
                    }
                } else {
                    let (function, offset) = split_plus(t)?;
                    AttachPoint::Kprobe {
                        function: function.to_owned(),
                        offset,
                        retprobe: ret("kretprobe"),
                    }
                }
            }
            (t, a) => {
                return Err(Error::InvalidArgument(format!(
                    "a {t} program ({}) needs an attach point (a cgroup, an interface, a \
                     namespace, a map, ...): use its module",
                    a.map_or_else(|| "no attach type".to_owned(), |a| a.to_string())
                )));
            }
        })
    }

    /// The attach point of `program`, from the section it was loaded from
    /// (without one, kprobes and uprobes are entry probes).
    pub fn of(program: &Program) -> Result<AttachPoint> {
        Self::resolve(
            program.program_type(),
            program.attach_type(),
            program.attach_target(),
            program.section_name(),
        )
    }

    /// The attach point of a program loaded from `spec`.
    pub fn from_spec(spec: &ProgramSpec) -> Result<AttachPoint> {
        Self::resolve(
            spec.program_type,
            spec.attach_type,
            spec.attach_target.as_deref(),
            Some(&spec.section_name),
        )
    }

    /// Attaches `program` here.
    pub fn attach(&self, program: &Program) -> Result<Box<dyn Link>> {
        Ok(match self {
            AttachPoint::Tracepoint { group, name } => {
                Box::new(crate::tracepoint::attach(program, group, name)?)
            }
            AttachPoint::RawTracepoint { name } => {
                Box::new(crate::raw_tracepoint::attach(program, name)?)
            }
            AttachPoint::Tracing => Box::new(crate::tracing::attach(program)?),
            AttachPoint::Iter => Box::new(crate::iter::attach(program)?),
            AttachPoint::Uprobe {
                binary,
                symbol,
                offset,
                retprobe,
            } => {
                let opts = crate::uprobe::UprobeOptions {
                    offset: *offset,
                    retprobe: *retprobe,
                    ..Default::default()
                };
                if symbol.is_empty() {
                    Box::new(crate::uprobe::attach_offset(program, binary, &opts)?)
                } else {
                    Box::new(crate::uprobe::attach(program, binary, symbol, &opts)?)
                }
            }
            AttachPoint::Kprobe {
                function,
                offset,
                retprobe,
            } => {
                let opts = crate::kprobe::KprobeOptions {
                    offset: *offset,
                    retprobe: *retprobe,
                    ..Default::default()
                };
                Box::new(crate::kprobe::attach(program, function, &opts)?)
            }
            AttachPoint::KprobeMulti {
                functions,
                retprobe,
            } => {
                let f: Vec<&str> = functions.iter().map(String::as_str).collect();
                let opts = crate::kprobe::KprobeMultiOptions {
                    retprobe: *retprobe,
                    ..Default::default()
                };
                Box::new(crate::kprobe::attach_multi(program, &f, &opts)?)
            }
            AttachPoint::KprobeSession { functions } => {
                let f: Vec<&str> = functions.iter().map(String::as_str).collect();
                let opts = crate::kprobe::KprobeMultiOptions::default();
                Box::new(crate::kprobe::attach_multi(program, &f, &opts)?)
            }
            AttachPoint::UprobeSession { binary, symbols } => {
                let s: Vec<&str> = symbols.iter().map(String::as_str).collect();
                let opts = crate::uprobe::UprobeMultiOptions::default();
                Box::new(crate::uprobe::attach_multi(program, binary, &s, &opts)?)
            }
            AttachPoint::Ksyscall { syscall, retprobe } => {
                let opts = crate::kprobe::KprobeOptions {
                    retprobe: *retprobe,
                    ..Default::default()
                };
                Box::new(crate::kprobe::attach_syscall(program, syscall, &opts)?)
            }
            AttachPoint::Usdt {
                binary,
                provider,
                name,
            } => {
                let target = crate::usdt::UsdtTarget::new(binary, provider, name);
                Box::new(crate::usdt::attach(program, &target)?)
            }
            AttachPoint::UprobeMulti {
                binary,
                symbols,
                retprobe,
            } => {
                let s: Vec<&str> = symbols.iter().map(String::as_str).collect();
                let opts = crate::uprobe::UprobeMultiOptions {
                    retprobe: *retprobe,
                    ..Default::default()
                };
                Box::new(crate::uprobe::attach_multi(program, binary, &s, &opts)?)
            }
        })
    }
}

/// Attaches `program` where its section name says (see the module docs for
/// the kinds; kprobe/uprobe programs are attached as entry probes).
pub fn attach(program: &Program) -> Result<Box<dyn Link>> {
    AttachPoint::of(program)
        .map_err(Error::attach(program, || {
            "its section's attach point".to_owned()
        }))?
        .attach(program)
}

/// Attaches `program`, loaded from `spec`, where the spec's section name says.
pub fn attach_spec(spec: &ProgramSpec, program: &Program) -> Result<Box<dyn Link>> {
    AttachPoint::from_spec(spec)
        .map_err(Error::attach(program, || {
            format!("section {}", spec.section_name)
        }))?
        .attach(program)
}

/// Attaches `program`, loaded from `spec`, where its section name says, or
/// returns `None` when the section names no attach point the program can be
/// attached to without more arguments (XDP, tc, cgroups, struct_ops, ...):
/// what a skeleton's `attach_all()` does for each program.
pub fn attach_auto(spec: &ProgramSpec, program: &Program) -> Result<Option<Box<dyn Link>>> {
    match AttachPoint::from_spec(spec) {
        Ok(point) => point.attach(program).map(Some),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(section: &str) -> Result<AttachPoint> {
        AttachPoint::from_spec(&ProgramSpec::new("p", section, Default::default()))
    }

    #[test]
    fn resolves_sections() {
        assert_eq!(
            spec("tracepoint/syscalls/sys_enter_getpid").unwrap(),
            AttachPoint::Tracepoint {
                group: "syscalls".into(),
                name: "sys_enter_getpid".into()
            }
        );
        assert_eq!(
            spec("raw_tp/sys_enter").unwrap(),
            AttachPoint::RawTracepoint {
                name: "sys_enter".into()
            }
        );
        assert_eq!(spec("fentry/do_unlinkat").unwrap(), AttachPoint::Tracing);
        assert_eq!(spec("lsm/file_open").unwrap(), AttachPoint::Tracing);
        assert_eq!(spec("iter/task").unwrap(), AttachPoint::Iter);
        assert_eq!(
            spec("uprobe//proc/self/exe:ebpf_rs_uprobe_target").unwrap(),
            AttachPoint::Uprobe {
                binary: "/proc/self/exe".into(),
                symbol: "ebpf_rs_uprobe_target".into(),
                offset: 0,
                retprobe: false
            }
        );
        assert_eq!(
            spec("uretprobe/libc.so.6:malloc+0x10").unwrap(),
            AttachPoint::Uprobe {
                binary: "libc.so.6".into(),
                symbol: "malloc".into(),
                offset: 16,
                retprobe: true
            }
        );
        assert_eq!(
            spec("kretprobe/do_unlinkat").unwrap(),
            AttachPoint::Kprobe {
                function: "do_unlinkat".into(),
                offset: 0,
                retprobe: true
            }
        );
        assert_eq!(
            spec("usdt/libc.so.6:libc:setjmp").unwrap(),
            AttachPoint::Usdt {
                binary: "libc.so.6".into(),
                provider: "libc".into(),
                name: "setjmp".into()
            }
        );
        assert_eq!(
            spec("usdt.s//usr/bin/python3:python:function__entry").unwrap(),
            AttachPoint::Usdt {
                binary: "/usr/bin/python3".into(),
                provider: "python".into(),
                name: "function__entry".into()
            }
        );
        assert!(spec("usdt").is_err());
        assert!(spec("usdt/a:b").is_err());
        assert!(spec("xdp").is_err());
        assert!(spec("cgroup_skb/egress").is_err());
        assert_eq!(
            spec("kprobe.multi/tcp_v4_*").unwrap(),
            AttachPoint::KprobeMulti {
                functions: vec!["tcp_v4_*".into()],
                retprobe: false
            }
        );
        assert_eq!(
            spec("kretprobe.multi/do_unlinkat").unwrap(),
            AttachPoint::KprobeMulti {
                functions: vec!["do_unlinkat".into()],
                retprobe: true
            }
        );
        assert_eq!(
            spec("kprobe.session/vfs_*").unwrap(),
            AttachPoint::KprobeSession {
                functions: vec!["vfs_*".into()]
            }
        );
        assert_eq!(
            spec("uprobe.session//proc/self/exe:f,g").unwrap(),
            AttachPoint::UprobeSession {
                binary: "/proc/self/exe".into(),
                symbols: vec!["f".into(), "g".into()]
            }
        );
        assert_eq!(
            spec("ksyscall/getpid").unwrap(),
            AttachPoint::Ksyscall {
                syscall: "getpid".into(),
                retprobe: false
            }
        );
        assert_eq!(
            spec("kretsyscall/openat").unwrap(),
            AttachPoint::Ksyscall {
                syscall: "openat".into(),
                retprobe: true
            }
        );
        assert!(spec("ksyscall").is_err());
    }
}
