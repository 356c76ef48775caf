//! uprobes and uretprobes (`SEC("uprobe/<binary>:<symbol>")`,
//! `SEC("uretprobe/...")`) through the uprobe PMU, or as `uprobe_events` in
//! tracefs when the kernel has no PMU ([`ProbeAttachMode`]); uprobe_multi
//! links (`SEC("uprobe.multi/...")`) and uprobe session links
//! (`SEC("uprobe.session/...")`, whose program runs at entry and, when it
//! returns 0, at return too).
//!
//! The symbol is looked up in the binary's symbol tables (`.symtab`, then
//! `.dynsym`) and its virtual address turned into a file offset through the
//! program headers; the perf event is opened with the PMU type from
//! `/sys/bus/event_source/devices/uprobe/type`, `config1` the path,
//! `config2` the offset, the retprobe bit from `.../format/retprobe` and the
//! reference counter offset in `config[63:32]`.
//!
//! ```no_run
//! use ebpf_link::uprobe::{self, UprobeOptions};
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = uprobe::attach(prog, "/usr/lib/libc.so.6", "malloc", &UprobeOptions::default())?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.17 (uprobe PMU; `uprobe_events` before); reference counters 4.20;
//! uprobe_multi 6.6; sessions 6.13.

use std::path::{Path, PathBuf};

use ebpf::features::LinkKind;
use ebpf::{AttachType, Program, ProgramType};
use ebpf_syscall as sys;

use crate::error::{Error, Result, sys as sysr};
use crate::link::{RawLink, fd_link};
pub use crate::perf_attach::ProbeAttachMode;
use crate::perf_attach::{ProbeSpec, open_probe, perf_link};
use crate::util::{cstring, expect_program_type, probe_link};

perf_link! {
    /// A uprobe or uretprobe. Dropping it detaches the program.
    ///
    /// # Minimum kernel version
    ///
    /// 4.17; a bpf_link (`BPF_LINK_TYPE_PERF_EVENT`) from 5.15.
    #[doc(alias = "BPF_LINK_TYPE_PERF_EVENT")]
    UprobeLink, "uprobe"
}

fd_link! {
    /// A uprobe_multi link: one program on many offsets of one binary.
    ///
    /// # Minimum kernel version
    ///
    /// 6.6.
    #[doc(alias = "BPF_LINK_TYPE_UPROBE_MULTI")]
    UprobeMultiLink, "uprobe_multi", [UPROBE_MULTI]
}

/// Options of a uprobe.
#[derive(Debug, Clone, Copy, Default)]
pub struct UprobeOptions {
    /// Added to the symbol's offset (or, with no symbol, the file offset itself).
    pub offset: u64,
    /// Only this process (`None`: every process mapping the binary).
    pub pid: Option<u32>,
    /// Offset of a USDT semaphore (reference counter) in the file (4.20).
    pub ref_ctr_offset: u64,
    /// The value `bpf_get_attach_cookie()` returns (5.15).
    pub cookie: u64,
    /// A uretprobe (fires when the function returns).
    pub retprobe: bool,
    /// How the uprobe is made and attached.
    pub mode: ProbeAttachMode,
}

/// Attaches a kprobe-type program to `symbol` of `binary` (a path, or a
/// name looked up in `PATH`).
///
/// # Minimum kernel version
///
/// 4.17.
pub fn attach(
    program: &Program,
    binary: impl AsRef<Path>,
    symbol: &str,
    opts: &UprobeOptions,
) -> Result<UprobeLink> {
    let binary = binary.as_ref();
    let what = || {
        format!(
            "{} {}:{symbol}",
            if opts.retprobe { "uretprobe" } else { "uprobe" },
            binary.display()
        )
    };
    (|| {
        let path = resolve_binary(binary)?;
        let off = symbol_offset(&path, symbol)?;
        attach_at(program, &path, off + opts.offset, opts)
    })()
    .map_err(Error::attach(program, what))
}

/// Attaches to file offset `opts.offset` of `binary`.
///
/// # Minimum kernel version
///
/// 4.17.
pub fn attach_offset(
    program: &Program,
    binary: impl AsRef<Path>,
    opts: &UprobeOptions,
) -> Result<UprobeLink> {
    let binary = binary.as_ref();
    (|| {
        let path = resolve_binary(binary)?;
        attach_at(program, &path, opts.offset, opts)
    })()
    .map_err(Error::attach(program, || {
        format!("uprobe {}+{:#x}", binary.display(), opts.offset)
    }))
}

fn attach_at(
    program: &Program,
    path: &Path,
    offset: u64,
    opts: &UprobeOptions,
) -> Result<UprobeLink> {
    expect_program_type(program, &[ProgramType::KPROBE], "a uprobe")?;
    let cpath = cstring("binary path", &path.to_string_lossy())?;
    let probe = open_probe(
        &ProbeSpec {
            pmu: "uprobe",
            target: &cpath,
            offset,
            retprobe: opts.retprobe,
            ref_ctr_offset: opts.ref_ctr_offset,
            pid: opts.pid.map_or(-1, |p| p as i32),
        },
        opts.mode,
    )?;
    UprobeLink::from_probe(program, probe, opts.cookie)
}

/// The path of `binary`, found as libbpf finds it when it has no `/`: a
/// shared library (a name ending in `.so` or holding `.so.`) in
/// `LD_LIBRARY_PATH`, `/usr/lib64`, `/usr/lib` and the architecture's
/// multiarch directories; anything else in `PATH`, `/usr/bin` and `/usr/sbin`.
pub fn resolve_binary(binary: &Path) -> Result<PathBuf> {
    if binary.components().count() > 1 || binary.is_absolute() {
        return Ok(binary.to_owned());
    }
    let name = binary.to_string_lossy();
    let library = name.ends_with(".so") || name.contains(".so.");
    let mut dirs: Vec<PathBuf> = Vec::new();
    let env = if library { "LD_LIBRARY_PATH" } else { "PATH" };
    if let Some(list) = std::env::var_os(env) {
        dirs.extend(std::env::split_paths(&list));
    }
    if library {
        dirs.extend(["/usr/lib64", "/usr/lib"].map(PathBuf::from));
        let multiarch = if cfg!(target_arch = "x86_64") {
            Some("x86_64-linux-gnu")
        } else if cfg!(target_arch = "aarch64") {
            Some("aarch64-linux-gnu")
        } else {
            None
        };
        if let Some(m) = multiarch {
            dirs.extend([format!("/lib/{m}"), format!("/usr/lib/{m}")].map(PathBuf::from));
        }
    } else {
        dirs.extend(["/usr/bin", "/usr/sbin"].map(PathBuf::from));
    }
    dirs.iter()
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{} not found in {env} or the standard {} directories",
                binary.display(),
                if library { "library" } else { "binary" }
            ))
        })
}

/// The file offset of function `symbol` in ELF file `binary`: its address
/// from `.symtab` or `.dynsym` (an exact name, or `name@VERSION`), made a
/// file offset by the `PT_LOAD` segment that contains it.
pub fn symbol_offset(binary: &Path, symbol: &str) -> Result<u64> {
    let name = binary.display().to_string();
    let bytes = std::fs::read(binary).map_err(Error::io(format!("read {name}")))?;
    let elf = goblin::elf::Elf::parse(&bytes).map_err(|e| Error::Elf {
        binary: name.clone(),
        message: e.to_string(),
    })?;
    let matches = |s: &str| s == symbol || s.split('@').next() == Some(symbol);
    let is_func = |t: u8| t == goblin::elf::sym::STT_FUNC || t == goblin::elf::sym::STT_GNU_IFUNC;
    let mut addr = None;
    for (syms, strs) in [(&elf.syms, &elf.strtab), (&elf.dynsyms, &elf.dynstrtab)] {
        for sym in syms.iter() {
            if sym.st_value == 0 || !is_func(sym.st_type()) {
                continue;
            }
            if strs.get_at(sym.st_name).is_some_and(matches) {
                addr = Some(sym.st_value);
                break;
            }
        }
        if addr.is_some() {
            break;
        }
    }
    let addr = addr.ok_or_else(|| Error::SymbolNotFound {
        binary: name.clone(),
        symbol: symbol.to_owned(),
    })?;
    elf.program_headers
        .iter()
        .find(|ph| {
            ph.p_type == goblin::elf::program_header::PT_LOAD
                && ph.p_vaddr <= addr
                && addr < ph.p_vaddr + ph.p_memsz
        })
        .map(|ph| addr - ph.p_vaddr + ph.p_offset)
        .ok_or_else(|| Error::Elf {
            binary: name,
            message: format!("no PT_LOAD segment contains {symbol} at {addr:#x}"),
        })
}

/// Options of [`attach_multi`].
#[derive(Debug, Clone, Default)]
pub struct UprobeMultiOptions {
    /// Only this process (0: all).
    pub pid: u32,
    /// Uretprobes (not for session programs, which run at both ends).
    pub retprobe: bool,
    /// Per-offset reference counter offsets (empty: none).
    pub ref_ctr_offsets: Vec<u64>,
    /// Per-offset cookies (empty: none).
    pub cookies: Vec<u64>,
}

/// Attaches a `uprobe.multi` program (loaded with `BPF_TRACE_UPROBE_MULTI`),
/// or a `uprobe.session` one (`BPF_TRACE_UPROBE_SESSION`), to `symbols` of
/// `binary`.
///
/// # Minimum kernel version
///
/// 6.6; sessions 6.13.
#[doc(alias = "BPF_TRACE_UPROBE_MULTI")]
pub fn attach_multi(
    program: &Program,
    binary: impl AsRef<Path>,
    symbols: &[&str],
    opts: &UprobeMultiOptions,
) -> Result<UprobeMultiLink> {
    let binary = binary.as_ref();
    (|| {
        let path = resolve_binary(binary)?;
        let offsets = symbols
            .iter()
            .map(|s| symbol_offset(&path, s))
            .collect::<Result<Vec<_>>>()?;
        multi_at(program, &path, &offsets, opts)
    })()
    .map_err(Error::attach(program, || {
        format!("uprobe_multi {}:{}", binary.display(), symbols.join(","))
    }))
}

/// Attaches a `uprobe.multi` program to file offsets `offsets` of `binary`
/// (with `opts.ref_ctr_offsets` and `opts.cookies`, when given, one per offset).
///
/// # Minimum kernel version
///
/// 6.6.
#[doc(alias = "BPF_TRACE_UPROBE_MULTI")]
pub fn attach_multi_offsets(
    program: &Program,
    binary: impl AsRef<Path>,
    offsets: &[u64],
    opts: &UprobeMultiOptions,
) -> Result<UprobeMultiLink> {
    let binary = binary.as_ref();
    (|| {
        let path = resolve_binary(binary)?;
        multi_at(program, &path, offsets, opts)
    })()
    .map_err(Error::attach(program, || {
        format!(
            "uprobe_multi {} ({} offsets)",
            binary.display(),
            offsets.len()
        )
    }))
}

fn multi_at(
    program: &Program,
    path: &Path,
    offsets: &[u64],
    opts: &UprobeMultiOptions,
) -> Result<UprobeMultiLink> {
    expect_program_type(program, &[ProgramType::KPROBE], "uprobe_multi")?;
    let (kind, attach) = match program.attach_type() {
        Some(AttachType::TRACE_UPROBE_MULTI) => {
            (LinkKind::UprobeMulti, sys::AttachType::TRACE_UPROBE_MULTI)
        }
        // Opened from a pin or an id: the kernel does not say which attach
        // type it was loaded for; it refuses the link if not this one.
        None if program.section_name().is_none() => {
            (LinkKind::UprobeMulti, sys::AttachType::TRACE_UPROBE_MULTI)
        }
        Some(AttachType::TRACE_UPROBE_SESSION) if !opts.retprobe => (
            LinkKind::UprobeSession,
            sys::AttachType::TRACE_UPROBE_SESSION,
        ),
        Some(AttachType::TRACE_UPROBE_SESSION) => {
            return Err(Error::InvalidArgument(
                "a uprobe session program runs at entry and return: it cannot be a uretprobe"
                    .into(),
            ));
        }
        _ => {
            return Err(Error::InvalidArgument(
                "the program was not loaded for BPF_TRACE_UPROBE_MULTI or _SESSION \
                 (SEC(\"uprobe.multi\") or SEC(\"uprobe.session\"))"
                    .into(),
            ));
        }
    };
    probe_link(kind)?;
    let cpath = cstring("binary path", &path.to_string_lossy())?;
    let mut attr = sys::LinkCreateUprobeMultiAttr::with_target(program, 0, attach);
    let refs = (!opts.ref_ctr_offsets.is_empty()).then_some(opts.ref_ctr_offsets.as_slice());
    let cookies = (!opts.cookies.is_empty()).then_some(opts.cookies.as_slice());
    sysr(attr.set_targets(&cpath, offsets, refs, cookies))?;
    attr.pid = opts.pid;
    attr.uprobe_flags = u32::from(opts.retprobe);
    let fd = sys::link_create(&attr).map_err(|e| crate::util::link_create_error(e, kind))?;
    Ok(UprobeMultiLink {
        link: RawLink::from_fd(fd),
    })
}
