//! kprobes and kretprobes (`SEC("kprobe/<function>")`), system call probes
//! (`SEC("ksyscall/<name>")`), kprobe_multi links (`SEC("kprobe.multi/<pattern>")`)
//! and kprobe session links (`SEC("kprobe.session/<pattern>")`).
//!
//! A kprobe is made through the kprobe PMU, or as a `kprobe_events` entry in
//! tracefs on kernels without it ([`ProbeAttachMode`]). A kernel built
//! without `CONFIG_KPROBES` has neither: attaching is then
//! [`Error::NotSupported`]. kprobe_multi and sessions need `CONFIG_FPROBE`.
//!
//! ```no_run
//! use ebpf_link::kprobe::{self, KprobeMultiOptions, KprobeOptions};
//! # fn f(prog: &ebpf::Program, multi: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = kprobe::attach(prog, "do_unlinkat", &KprobeOptions::default())?;
//! // `__x64_sys_getpid` on x86-64, `__arm64_sys_getpid` on arm64, ...
//! let sys = kprobe::attach_syscall(prog, "getpid", &KprobeOptions::default())?;
//! // Every traceable function matching the pattern.
//! let many = kprobe::attach_multi(multi, &["tcp_v4_*"], &KprobeMultiOptions::default())?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.17 (kprobe PMU; `kprobe_events` before); kprobe_multi 5.18; sessions 6.10.

use ebpf::features::LinkKind;
use ebpf::{AttachType, Program, ProgramType};
use ebpf_syscall::{self as sys, Pointer, tracefs};

use crate::error::{Error, Result, sys as sysr};
use crate::link::{RawLink, fd_link};
pub use crate::perf_attach::ProbeAttachMode;
use crate::perf_attach::{ProbeSpec, open_probe, perf_link};
use crate::util::{cstring, expect_program_type, probe_link};

perf_link! {
    /// A kprobe or kretprobe. Dropping it detaches the program.
    ///
    /// # Minimum kernel version
    ///
    /// 4.17; a bpf_link (`BPF_LINK_TYPE_PERF_EVENT`) from 5.15.
    #[doc(alias = "BPF_LINK_TYPE_PERF_EVENT")]
    KprobeLink, "kprobe"
}

fd_link! {
    /// A kprobe_multi link (or a kprobe session): one program on many kernel
    /// functions.
    ///
    /// # Minimum kernel version
    ///
    /// 5.18; sessions 6.10.
    #[doc(alias = "BPF_LINK_TYPE_KPROBE_MULTI")]
    KprobeMultiLink, "kprobe_multi", [KPROBE_MULTI]
}

/// Options of a kprobe.
#[derive(Debug, Clone, Copy, Default)]
pub struct KprobeOptions {
    /// Offset into the function.
    pub offset: u64,
    /// The value `bpf_get_attach_cookie()` returns (5.15).
    pub cookie: u64,
    /// A kretprobe.
    pub retprobe: bool,
    /// How the kprobe is made and attached.
    pub mode: ProbeAttachMode,
}

/// Attaches a kprobe program to kernel function `function`.
///
/// # Minimum kernel version
///
/// 4.17 (`kprobe_events`: 4.1).
pub fn attach(program: &Program, function: &str, opts: &KprobeOptions) -> Result<KprobeLink> {
    (|| {
        expect_program_type(program, &[ProgramType::KPROBE], "a kprobe")?;
        let func = cstring("function", function)?;
        let probe = open_probe(
            &ProbeSpec {
                pmu: "kprobe",
                target: &func,
                offset: opts.offset,
                retprobe: opts.retprobe,
                ref_ctr_offset: 0,
                pid: -1,
            },
            opts.mode,
        )?;
        KprobeLink::from_probe(program, probe, opts.cookie)
    })()
    .map_err(Error::attach(program, || {
        format!(
            "{} {function}",
            if opts.retprobe { "kretprobe" } else { "kprobe" }
        )
    }))
}

/// Attaches a kprobe program (`SEC("ksyscall/<name>")`) to the kernel
/// function of system call `syscall` on the running kernel and architecture:
/// `__x64_sys_<name>`, `__arm64_sys_<name>`, ... (or `__se_sys_<name>` on
/// kernels without syscall wrappers), as libbpf resolves it
/// ([`ebpf::features::syscall_function`]). Use libbpf's `BPF_KSYSCALL` to
/// read the arguments either way.
///
/// # Minimum kernel version
///
/// 4.17.
pub fn attach_syscall(
    program: &Program,
    syscall: &str,
    opts: &KprobeOptions,
) -> Result<KprobeLink> {
    if syscall.is_empty()
        || !syscall
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::attach(program, || format!("ksyscall {syscall}"))(
            Error::InvalidArgument(format!("system call name '{syscall}'")),
        ));
    }
    attach(program, &ebpf::features::syscall_function(syscall), opts)
}

/// Options of [`attach_multi`] and [`attach_multi_addresses`].
#[derive(Debug, Clone, Default)]
pub struct KprobeMultiOptions {
    /// kretprobes (not for session programs, which run at both ends).
    pub retprobe: bool,
    /// Per-function cookies (empty: none); not with patterns.
    pub cookies: Vec<u64>,
}

/// The traceable kernel functions matching glob `pattern` (`*` any run,
/// `?` any one character), with their addresses, as libbpf resolves
/// `kprobe.multi` patterns: the entries of tracefs
/// `available_filter_functions_addrs` (6.5), else (older, or locked down) the
/// names of `available_filter_functions`, which the kernel looks up. The
/// placeholders of functions ftrace dropped (`__ftrace_invalid_address__*`)
/// are skipped. No match is an error.
pub fn resolve_pattern(pattern: &str) -> Result<Vec<(String, Option<u64>)>> {
    let mut out = Vec::new();
    // Locked-down kernels refuse the addresses, not the names.
    let addrs = match tracefs::read("available_filter_functions_addrs") {
        Err(e) if matches!(e.errno(), Some(sys::Errno::PERM | sys::Errno::ACCES)) => None,
        other => sysr(other)?,
    };
    if let Some(text) = addrs {
        // "ffffffff81000000 name [module]"
        for line in text.lines() {
            let mut f = line.split_whitespace();
            let (Some(addr), Some(name)) = (f.next(), f.next()) else {
                continue;
            };
            if valid_entry(name) && glob_match(name, pattern) {
                let addr = u64::from_str_radix(addr, 16).map_err(|_| {
                    Error::InvalidArgument(format!("available_filter_functions_addrs: '{line}'"))
                })?;
                out.push((name.to_owned(), Some(addr)));
            }
        }
    } else if let Some(text) = sysr(tracefs::read("available_filter_functions"))? {
        // "name [module]"; a name listed twice (static functions) once.
        let mut seen = std::collections::BTreeSet::new();
        for name in text.lines().filter_map(|l| l.split_whitespace().next()) {
            if valid_entry(name) && glob_match(name, pattern) && seen.insert(name) {
                out.push((name.to_owned(), None));
            }
        }
    } else {
        return Err(sys::NotSupported::new(
            "tracefs available_filter_functions (kprobe_multi patterns)",
            sys::KernelVersion::new(5, 18, 0),
        )
        .requires_config("CONFIG_FUNCTION_TRACER")
        .into());
    }
    if out.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "no traceable kernel function matches '{pattern}'"
        )));
    }
    Ok(out)
}

fn valid_entry(name: &str) -> bool {
    !name.starts_with("__ftrace_invalid_address__")
}

/// Glob matching as libbpf's `glob_match` (from perf): `*` matches any run of
/// characters, `?` any one.
pub fn glob_match(s: &str, pattern: &str) -> bool {
    let (s, p) = (s.as_bytes(), pattern.as_bytes());
    let (mut si, mut pi) = (0, 0);
    // Where the last `*` was, and the text position it now covers up to.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == s[si] => {
                si += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn multi_kind(program: &Program, retprobe: bool) -> Result<(LinkKind, sys::AttachType)> {
    expect_program_type(program, &[ProgramType::KPROBE], "kprobe_multi")?;
    match program.attach_type() {
        Some(AttachType::TRACE_KPROBE_MULTI) => {
            Ok((LinkKind::KprobeMulti, sys::AttachType::TRACE_KPROBE_MULTI))
        }
        // Opened from a pin or an id: the kernel does not say which attach
        // type it was loaded for; it refuses the link if not this one.
        None if program.section_name().is_none() => {
            Ok((LinkKind::KprobeMulti, sys::AttachType::TRACE_KPROBE_MULTI))
        }
        Some(AttachType::TRACE_KPROBE_SESSION) if !retprobe => Ok((
            LinkKind::KprobeSession,
            sys::AttachType::TRACE_KPROBE_SESSION,
        )),
        Some(AttachType::TRACE_KPROBE_SESSION) => Err(Error::InvalidArgument(
            "a kprobe session program runs at entry and return: it cannot be a kretprobe".into(),
        )),
        _ => Err(Error::InvalidArgument(
            "the program was not loaded for BPF_TRACE_KPROBE_MULTI or _SESSION \
             (SEC(\"kprobe.multi\") or SEC(\"kprobe.session\"))"
                .into(),
        )),
    }
}

/// The targets of a kprobe_multi link: names or addresses.
enum Targets<'a> {
    Names(&'a [Pointer<'a>]),
    Addresses(&'a [u64]),
}

fn create_multi(
    program: &Program,
    targets: Targets<'_>,
    opts: &KprobeMultiOptions,
) -> Result<KprobeMultiLink> {
    let (kind, attach) = multi_kind(program, opts.retprobe)?;
    probe_link(kind)?;
    let cookies = (!opts.cookies.is_empty()).then_some(opts.cookies.as_slice());
    let mut attr = sys::LinkCreateKprobeMultiAttr::with_target(program, 0, attach);
    match targets {
        Targets::Names(n) => sysr(attr.set_targets(Some(n), None, cookies))?,
        Targets::Addresses(a) => sysr(attr.set_targets(None, Some(a), cookies))?,
    }
    attr.kprobe_flags = u32::from(opts.retprobe);
    let fd = sys::link_create(&attr).map_err(|e| crate::util::link_create_error(e, kind))?;
    Ok(KprobeMultiLink {
        link: RawLink::from_fd(fd),
    })
}

/// Attaches a `kprobe.multi` program (loaded with `BPF_TRACE_KPROBE_MULTI`),
/// or a `kprobe.session` one (`BPF_TRACE_KPROBE_SESSION`), to every function
/// of `functions`. An entry with `*` or `?` is a pattern, resolved by
/// [`resolve_pattern`] (then `opts.cookies` must be empty).
///
/// # Minimum kernel version
///
/// 5.18; sessions 6.10.
#[doc(alias = "BPF_TRACE_KPROBE_MULTI")]
#[doc(alias = "BPF_TRACE_KPROBE_SESSION")]
pub fn attach_multi(
    program: &Program,
    functions: &[&str],
    opts: &KprobeMultiOptions,
) -> Result<KprobeMultiLink> {
    (|| {
        multi_kind(program, opts.retprobe)?;
        let patterns = functions.iter().any(|f| f.contains(['*', '?']));
        if !patterns {
            let names = functions
                .iter()
                .map(|f| cstring("function", f))
                .collect::<Result<Vec<_>>>()?;
            let ptrs: Vec<Pointer<'_>> = names.iter().map(|c| Pointer::from_cstr(c)).collect();
            return create_multi(program, Targets::Names(&ptrs), opts);
        }
        if !opts.cookies.is_empty() {
            return Err(Error::InvalidArgument(
                "cookies are per function: not with patterns".into(),
            ));
        }
        let mut resolved = Vec::new();
        for f in functions {
            if f.contains(['*', '?']) {
                resolved.extend(resolve_pattern(f)?);
            } else {
                resolved.push(((*f).to_owned(), None));
            }
        }
        if resolved.iter().all(|(_, a)| a.is_some()) {
            let mut addrs: Vec<u64> = resolved.iter().filter_map(|(_, a)| *a).collect();
            addrs.sort_unstable();
            addrs.dedup();
            create_multi(program, Targets::Addresses(&addrs), opts)
        } else {
            let mut names: Vec<String> = resolved.into_iter().map(|(n, _)| n).collect();
            names.sort();
            names.dedup();
            let names = names
                .iter()
                .map(|f| cstring("function", f))
                .collect::<Result<Vec<_>>>()?;
            let ptrs: Vec<Pointer<'_>> = names.iter().map(|c| Pointer::from_cstr(c)).collect();
            create_multi(program, Targets::Names(&ptrs), opts)
        }
    })()
    .map_err(Error::attach(program, || {
        format!("kprobe_multi {}", functions.join(","))
    }))
}

/// Attaches a `kprobe.multi` (or `kprobe.session`) program to the kernel
/// functions at `addresses` (from `/proc/kallsyms` or
/// `available_filter_functions_addrs`).
///
/// # Minimum kernel version
///
/// 5.18; sessions 6.10.
pub fn attach_multi_addresses(
    program: &Program,
    addresses: &[u64],
    opts: &KprobeMultiOptions,
) -> Result<KprobeMultiLink> {
    create_multi(program, Targets::Addresses(addresses), opts)
        .map_err(Error::attach(program, || {
            format!("kprobe_multi ({} addresses)", addresses.len())
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_libbpf() {
        assert!(glob_match("tcp_v4_connect", "tcp_v4_*"));
        assert!(glob_match("tcp_v4_connect", "*connect"));
        assert!(glob_match("tcp_v4_connect", "tcp_v?_connect"));
        assert!(glob_match("tcp_v4_connect", "*"));
        assert!(glob_match("a", "a**"));
        assert!(glob_match("abcabd", "*abd"));
        assert!(!glob_match("tcp_v4_connect", "tcp_v6_*"));
        assert!(!glob_match("tcp", "tcp?"));
        assert!(!glob_match("tcpx", "tcp"));
        assert!(glob_match("", "*"));
        assert!(!glob_match("", "?"));
    }
}
