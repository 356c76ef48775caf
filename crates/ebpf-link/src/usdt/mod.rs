//! USDT probes (`SEC("usdt")`, `SEC("usdt/<binary>:<provider>:<name>")`) for
//! programs written with libbpf's `usdt.bpf.h` (`BPF_USDT`, `bpf_usdt_arg`,
//! `bpf_usdt_cookie`), attached the way libbpf attaches them.
//!
//! A USDT probe (`<sys/sdt.h>`'s `STAP_PROBEn(provider, name, ...)`) is a
//! `nop` at each call site and a note in `.note.stapsdt` saying where the
//! arguments are at that site (`-4@$5 8@%rdi -4@-20(%rbp)`). Attaching:
//!
//! 1. reads the binary's notes ([`probes`]) and keeps the call sites of
//!    `provider:name`, as file offsets (with their semaphores, the uprobes'
//!    reference counters, which the kernel raises while a probe is attached);
//! 2. turns each distinct argument string into a `struct __bpf_usdt_spec`
//!    (argument locations as `usdt.bpf.h` reads them, and the USDT cookie)
//!    and writes it into the object's `__bpf_usdt_specs` map under a spec id;
//! 3. attaches the program to every call site, each with its spec id as the
//!    BPF cookie: one uprobe_multi link when the program was loaded for one
//!    ([`Collection::load`](ebpf::Collection::load) does so when the kernel
//!    has them, 6.6), else one uprobe per call site. On kernels without BPF
//!    cookies (before 5.15) `usdt.bpf.h` finds the spec id by the probed
//!    instruction's address instead, in `__bpf_usdt_ip_to_spec_id`, which
//!    attaching fills as libbpf does: with each call site's link-time
//!    address in an executable, and with where process [`UsdtTarget::pid`]
//!    mapped it in a shared library or PIE (which that process must have
//!    mapped already; a library in every process is refused, its addresses
//!    differ per process). Each call site then takes one attachment per
//!    object.
//!
//! ```no_run
//! use ebpf_link::usdt::{self, UsdtTarget};
//! # fn f(coll: &ebpf::Collection) -> ebpf_link::Result<()> {
//! let target = UsdtTarget::new("libc.so.6", "libc", "setjmp");
//! let link = usdt::attach(&coll.programs["on_setjmp"], &target)?;
//! for probe in usdt::probes("/usr/bin/python3")? {
//!     println!("{}:{} at {:#x}: {}", probe.provider, probe.name, probe.offset, probe.arguments);
//! }
//! # drop(link);
//! # Ok(()) }
//! ```
//!
//! The maps are the ones the program references, which `Collection::load`
//! keeps with it ([`ebpf::Program::attach_map`]); programs opened otherwise
//! (from a pin) find them by the program's map ids, which needs
//! `CAP_SYS_ADMIN`, or take them explicitly ([`attach_with_maps`]). Spec ids
//! are shared by every attachment of the programs using one specs map and
//! come back when an attachment is dropped.
//!
//! Argument strings of x86-64 and arm64 binaries are understood (constants,
//! registers, memory at a register plus an offset, and on x86-64 base + index
//! × scale, which needs `usdt.bpf.h` from libbpf 1.7); the layout of the specs
//! (libbpf up to 1.6, or 1.7 and later) is told by the map's value size.
//!
//! # Minimum kernel version
//!
//! 4.17 (uprobe PMU); semaphores 4.20; BPF cookies (shared libraries
//! without a pid) 5.15; one uprobe_multi link 6.6.

mod arg;
mod ids;
mod note;
mod spec;

use std::collections::HashMap;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use ebpf::{AttachType, Map, Program, ProgramType, UpdateFlags};
use ebpf_syscall::{Errno, KernelVersion, NotSupported, perf};

pub use arg::{MAX_ARGS, UsdtArch, UsdtArg, UsdtArgLocation, UsdtRegister};
pub use note::UsdtProbe;

use crate::error::{Error, Result};
use crate::info::LinkInfo;
use crate::uprobe::{self, UprobeLink, UprobeMultiLink, UprobeMultiOptions, UprobeOptions};
use crate::util::expect_program_type;
use ids::SpecIds;
use spec::SpecLayout;

/// The map of argument specs `usdt.bpf.h` declares (`int` spec id to
/// `struct __bpf_usdt_spec`).
pub const SPECS_MAP: &str = "__bpf_usdt_specs";
/// The map from instruction address to spec id `usdt.bpf.h` declares, used
/// on kernels without BPF cookies (`long` to `__u32`).
pub const IP_MAP: &str = "__bpf_usdt_ip_to_spec_id";

/// What a USDT program attaches to: `provider:name` in `binary`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsdtTarget {
    /// The executable or shared library holding the probe: a path, or a
    /// name found like [`uprobe::resolve_binary`] finds one (`libc.so.6`).
    pub binary: PathBuf,
    /// The provider.
    pub provider: String,
    /// The probe's name.
    pub name: String,
    /// Only this process (`None`: every process mapping the binary).
    pub pid: Option<u32>,
    /// The value `bpf_usdt_cookie()` returns (the BPF cookie itself carries
    /// the spec id).
    pub cookie: u64,
}

impl UsdtTarget {
    /// Probe `provider:name` of `binary`, in every process, cookie 0.
    pub fn new(
        binary: impl Into<PathBuf>,
        provider: impl Into<String>,
        name: impl Into<String>,
    ) -> UsdtTarget {
        UsdtTarget {
            binary: binary.into(),
            provider: provider.into(),
            name: name.into(),
            pid: None,
            cookie: 0,
        }
    }
}

/// Every USDT call site of ELF executable or shared library `binary` (a
/// path, or a name resolved like [`uprobe::resolve_binary`]), in note order.
pub fn probes(binary: impl AsRef<Path>) -> Result<Vec<UsdtProbe>> {
    let path = uprobe::resolve_binary(binary.as_ref())?;
    Ok(read_notes(&path)?.probes)
}

/// Every USDT call site of the ELF file `elf` (its bytes), in note order.
pub fn probes_in(elf: &[u8]) -> Result<Vec<UsdtProbe>> {
    Ok(note::parse(elf, "ELF data")?.probes)
}

fn read_notes(path: &Path) -> Result<note::UsdtNotes> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(Error::io(format!("read {name}")))?;
    note::parse(&bytes, &name)
}

/// Attaches a USDT program (written with libbpf's `usdt.bpf.h`) to every
/// call site of `target`, with the `usdt.bpf.h` maps the program references.
///
/// # Minimum kernel version
///
/// 4.17; see the [module](self) for what needs more.
pub fn attach(program: &Program, target: &UsdtTarget) -> Result<UsdtLink> {
    (|| {
        let maps = UsdtMaps::of(program)?;
        attach_inner(program, target, maps)
    })()
    .map_err(Error::attach(program, || describe(target)))
}

/// [`attach`] with the `usdt.bpf.h` maps given: `specs` is the object's
/// `__bpf_usdt_specs`, `ip_to_spec_id` its `__bpf_usdt_ip_to_spec_id`.
///
/// # Minimum kernel version
///
/// 4.17; see the [module](self) for what needs more.
pub fn attach_with_maps(
    program: &Program,
    target: &UsdtTarget,
    specs: &Map,
    ip_to_spec_id: &Map,
) -> Result<UsdtLink> {
    (|| {
        let maps = UsdtMaps {
            specs: specs.try_clone()?,
            ips: ip_to_spec_id.try_clone()?,
        };
        attach_inner(program, target, maps)
    })()
    .map_err(Error::attach(program, || describe(target)))
}

fn describe(target: &UsdtTarget) -> String {
    let pid = target
        .pid
        .map(|p| format!(" (pid {p})"))
        .unwrap_or_default();
    format!(
        "usdt {}:{}:{}{pid}",
        target.binary.display(),
        target.provider,
        target.name
    )
}

/// The `usdt.bpf.h` maps of a program.
#[derive(Debug)]
struct UsdtMaps {
    specs: Map,
    ips: Map,
}

impl UsdtMaps {
    fn of(program: &Program) -> Result<UsdtMaps> {
        if let (Some(specs), Some(ips)) =
            (program.attach_map(SPECS_MAP), program.attach_map(IP_MAP))
        {
            return Ok(UsdtMaps {
                specs: specs.try_clone()?,
                ips: ips.try_clone()?,
            });
        }
        // Not from a collection: by the program's map ids (kernel names are
        // cut to 15 bytes).
        let (mut specs, mut ips) = (None, None);
        for id in program.map_ids()? {
            let map = Map::from_id(id)?;
            if SPECS_MAP.starts_with(map.name()) && map.name().len() >= 15 {
                specs = Some(map);
            } else if IP_MAP.starts_with(map.name()) && map.name().len() >= 15 {
                ips = Some(map);
            }
        }
        match (specs, ips) {
            (Some(specs), Some(ips)) => Ok(UsdtMaps { specs, ips }),
            _ => Err(Error::InvalidArgument(format!(
                "program '{}' does not use {SPECS_MAP} and {IP_MAP}: was it written with \
                 libbpf's <bpf/usdt.bpf.h>?",
                program.name()
            ))),
        }
    }
}

/// Whether the kernel passes BPF cookies to kprobe programs (what
/// `LINUX_HAS_BPF_COOKIE` said when the object was loaded).
fn have_cookies() -> bool {
    !matches!(
        ebpf::features::have_bpf_cookie(),
        Err(ebpf::features::FeatureError::NotSupported(_))
    )
}

fn attach_inner(program: &Program, target: &UsdtTarget, maps: UsdtMaps) -> Result<UsdtLink> {
    expect_program_type(program, &[ProgramType::KPROBE], "a USDT probe")?;
    let path = uprobe::resolve_binary(&target.binary)?;
    let notes = read_notes(&path)?;
    let sites: Vec<&UsdtProbe> = notes
        .probes
        .iter()
        .filter(|p| p.provider == target.provider && p.name == target.name)
        .collect();
    if sites.is_empty() {
        return Err(Error::UsdtNotFound {
            binary: path.display().to_string(),
            provider: target.provider.clone(),
            name: target.name.clone(),
        });
    }
    if let (Some(first), Some(host)) = (sites.first(), UsdtArch::host()) {
        if first.arch != host {
            return Err(Error::InvalidArgument(format!(
                "{} is an {} binary, this is {host}",
                path.display(),
                first.arch
            )));
        }
    }
    let layout = SpecLayout::from_value_size(maps.specs.value_size()).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{SPECS_MAP} has values of {} bytes, neither libbpf's struct __bpf_usdt_spec up to \
             1.6 (208) nor from 1.7 (304)",
            maps.specs.value_size()
        ))
    })?;
    let cookies = have_cookies();
    if !cookies && notes.shared && target.pid.is_none() {
        return Err(NotSupported::new(
            "USDT probes in shared objects for every process (BPF cookies)",
            KernelVersion::new(5, 15, 0),
        )
        .into());
    }
    if sites.iter().any(|s| s.semaphore != 0) && !perf::pmu_has_format("uprobe", "ref_ctr_offset") {
        return Err(NotSupported::new(
            "USDT semaphores (uprobe reference counters)",
            KernelVersion::new(4, 20, 0),
        )
        .into());
    }
    let mut link = UsdtLink {
        uprobes: Vec::new(),
        multi: None,
        ips: Vec::new(),
        ids: SpecIds::new(maps.specs.id()?, maps.specs.max_entries()),
        maps,
        sites: sites.len(),
    };
    // One spec per distinct argument string.
    let mut spec_of: HashMap<&str, u32> = HashMap::new();
    let mut site_ids = Vec::with_capacity(sites.len());
    for site in &sites {
        let id = match spec_of.get(site.arguments.as_str()) {
            Some(&id) => id,
            None => {
                let bytes = spec::encode(&site.args()?, target.cookie, layout).map_err(|m| {
                    Error::InvalidArgument(format!(
                        "USDT {}:{} arguments '{}': {m}",
                        site.provider, site.name, site.arguments
                    ))
                })?;
                let id = link.ids.take().ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "{SPECS_MAP} is full ({} specs): raise BPF_USDT_MAX_SPEC_CNT",
                        link.maps.specs.max_entries()
                    ))
                })?;
                link.maps
                    .specs
                    .update(&id.to_ne_bytes(), &bytes, UpdateFlags::ANY)?;
                spec_of.insert(&site.arguments, id);
                id
            }
        };
        site_ids.push(id);
    }
    if !cookies {
        link.map_addresses(&path, &notes, &sites, &site_ids, target.pid)?;
    }
    let pid = target.pid;
    let multi_opts = || UprobeMultiOptions {
        pid: pid.unwrap_or(0),
        retprobe: false,
        ref_ctr_offsets: sites.iter().map(|s| s.semaphore_offset).collect(),
        cookies: site_ids.iter().map(|&id| u64::from(id)).collect(),
    };
    let offsets: Vec<u64> = sites.iter().map(|s| s.offset).collect();
    match program.attach_type() {
        Some(AttachType::TRACE_UPROBE_MULTI) => {
            link.multi = Some(uprobe::attach_multi_offsets(
                program,
                &path,
                &offsets,
                &multi_opts(),
            )?);
            return Ok(link);
        }
        // Opened from a pin or an id: the kernel does not say which attach
        // type the program was loaded for. A uprobe_multi program refuses
        // perf event uprobes, a plain one uprobe_multi links (EINVAL).
        None if program.section_name().is_none()
            && ebpf::features::have_link_kind(ebpf::features::LinkKind::UprobeMulti).is_ok() =>
        {
            match uprobe::attach_multi_offsets(program, &path, &offsets, &multi_opts()) {
                Ok(m) => {
                    link.multi = Some(m);
                    return Ok(link);
                }
                Err(e) if e.errno() == Some(Errno::INVAL) => {
                    log::debug!("{e}: attaching one uprobe per call site");
                }
                Err(e) => return Err(e),
            }
        }
        _ => {}
    }
    for (site, &id) in sites.iter().zip(&site_ids) {
        let opts = UprobeOptions {
            offset: site.offset,
            pid,
            ref_ctr_offset: site.semaphore_offset,
            cookie: if cookies { u64::from(id) } else { 0 },
            retprobe: false,
            mode: uprobe::ProbeAttachMode::Default,
        };
        link.uprobes
            .push(uprobe::attach_offset(program, &path, &opts)?);
    }
    Ok(link)
}

impl UsdtLink {
    /// Without BPF cookies: records each call site's address in the process
    /// in `__bpf_usdt_ip_to_spec_id` (the link removes them when dropped).
    fn map_addresses(
        &mut self,
        path: &Path,
        notes: &note::UsdtNotes,
        sites: &[&UsdtProbe],
        ids: &[u32],
        pid: Option<u32>,
    ) -> Result<()> {
        let ips = call_site_addresses(path, notes.shared, sites, pid)?;
        for (&ip, &id) in ips.iter().zip(ids) {
            match self
                .maps
                .ips
                .update(&ip.to_ne_bytes(), &id.to_ne_bytes(), UpdateFlags::NO_EXIST)
            {
                Ok(()) => self.ips.push(ip),
                Err(e) if e.errno() == Some(Errno::EXIST) => {
                    return Err(Error::InvalidArgument(format!(
                        "another USDT attachment of this object already probes address {ip:#x}"
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Where each call site is in memory: its link-time address in an
/// executable, or (shared objects, with `pid`) where process `pid` mapped it.
fn call_site_addresses(
    path: &Path,
    shared: bool,
    sites: &[&UsdtProbe],
    pid: Option<u32>,
) -> Result<Vec<u64>> {
    let segments = match (shared, pid) {
        (true, Some(pid)) => exec_mappings(pid, path)?,
        _ => return Ok(sites.iter().map(|s| s.address).collect()),
    };
    sites
        .iter()
        .map(|site| {
            segments
                .iter()
                .find(|(start, end, off)| *off <= site.offset && site.offset < off + (end - start))
                .map(|(start, _, off)| start - off + site.offset)
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "no executable mapping of {} in process {} holds offset {:#x}",
                        path.display(),
                        pid.unwrap_or(0),
                        site.offset
                    ))
                })
        })
        .collect()
}

/// The executable mappings of `path` in process `pid`: (start, end, file offset).
fn exec_mappings(pid: u32, path: &Path) -> Result<Vec<(u64, u64, u64)>> {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let maps_path = format!("/proc/{pid}/maps");
    let text =
        std::fs::read_to_string(&maps_path).map_err(Error::io(format!("read {maps_path}")))?;
    let out: Vec<_> = text
        .lines()
        .filter_map(|line| {
            let mut f = line.splitn(6, ' ');
            let (range, perms, off) = (f.next()?, f.next()?, f.next()?);
            let file = f.nth(2)?.trim_start();
            if perms.as_bytes().get(2) != Some(&b'x') || Path::new(file) != real {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some((
                u64::from_str_radix(start, 16).ok()?,
                u64::from_str_radix(end, 16).ok()?,
                u64::from_str_radix(off, 16).ok()?,
            ))
        })
        .collect();
    if out.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "process {pid} has no executable mapping of {}",
            real.display()
        )));
    }
    Ok(out)
}

/// A USDT program attached to every call site of a probe. Dropping it
/// detaches the program and gives its specs back to the object.
///
/// # Minimum kernel version
///
/// 4.17; one uprobe_multi link 6.6.
#[derive(Debug)]
#[must_use = "dropping it detaches the program"]
pub struct UsdtLink {
    uprobes: Vec<UprobeLink>,
    multi: Option<UprobeMultiLink>,
    /// Addresses this link recorded in `__bpf_usdt_ip_to_spec_id`.
    ips: Vec<u64>,
    /// Spec ids held (returned to the pool after the uprobes are gone).
    ids: SpecIds,
    maps: UsdtMaps,
    sites: usize,
}

impl UsdtLink {
    /// How many call sites the program is attached to.
    pub fn call_sites(&self) -> usize {
        self.sites
    }

    /// How many distinct argument specs it wrote.
    pub fn specs(&self) -> usize {
        self.ids.len()
    }

    /// The uprobe_multi link, when the program was attached with one.
    pub fn multi(&self) -> Option<&UprobeMultiLink> {
        self.multi.as_ref()
    }

    /// The uprobes, one per call site, when attached without uprobe_multi.
    pub fn uprobes(&self) -> &[UprobeLink] {
        &self.uprobes
    }

    fn release(&mut self) {
        // The probes first, then the addresses they looked up.
        self.uprobes.clear();
        self.multi = None;
        self.sites = 0;
        for ip in self.ips.drain(..) {
            let _ = self.maps.ips.delete(&ip.to_ne_bytes());
        }
    }
}

impl Drop for UsdtLink {
    fn drop(&mut self) {
        self.release();
    }
}

const WHY_NOT_PINNED: &str = "a USDT attachment is also entries in the object's USDT maps, which \
     this process owns: it cannot outlive it";

impl crate::link::sealed::Sealed for UsdtLink {}

impl crate::Link for UsdtLink {
    fn kind(&self) -> &'static str {
        "usdt"
    }
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.multi.as_ref().and_then(crate::Link::fd)
    }
    fn pin(&mut self, _path: &Path) -> Result<()> {
        Err(Error::Unsupported {
            op: "pin",
            kind: "usdt",
            why: WHY_NOT_PINNED,
        })
    }
    fn unpin(&mut self) -> Result<()> {
        Ok(())
    }
    fn pinned_path(&self) -> Option<&Path> {
        None
    }
    fn update(&mut self, _program: &Program) -> Result<()> {
        Err(Error::Unsupported {
            op: "update",
            kind: "usdt",
            why: "its specs belong to the attached program's maps: attach the new program instead",
        })
    }
    fn detach(&mut self) -> Result<()> {
        self.release();
        Ok(())
    }
    fn info(&self) -> Result<LinkInfo> {
        match &self.multi {
            Some(m) => crate::Link::info(m),
            None => Err(Error::Unsupported {
                op: "info",
                kind: "usdt",
                why: "it is one uprobe per call site: see UsdtLink::uprobes",
            }),
        }
    }
}

#[cfg(test)]
mod fuzz_like {
    use super::*;

    /// Mutated binaries and argument strings are errors, never panics (a
    /// deterministic stand-in for the `usdt` fuzz target).
    #[test]
    fn mutations_do_not_panic() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/host");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for name in ["usdt_target-x86_64", "libebpf_rs_usdt-aarch64.so"] {
            let clean = std::fs::read(dir.join(name)).unwrap();
            // Where the notes are: mutate there most.
            let at = clean.windows(7).position(|w| w == b"stapsdt").unwrap_or(0);
            for round in 0..400 {
                let mut bytes = clean.clone();
                for _ in 0..1 + round % 8 {
                    let r = next() as usize;
                    let i = if r % 3 == 0 {
                        r % bytes.len()
                    } else {
                        (at + r % 256).min(bytes.len() - 1)
                    };
                    bytes[i] = (next() >> 8) as u8;
                }
                if let Ok(probes) = probes_in(&bytes) {
                    for p in probes {
                        let _ = p.args();
                    }
                }
            }
        }
        for arch in [UsdtArch::X86_64, UsdtArch::Aarch64] {
            for s in [
                "",
                "@",
                "-@",
                "4@",
                "4@$",
                "4@%",
                "4@(",
                "4@()",
                "4@-(%rax",
                "8@[",
                "8@[x1,",
                "4@(%rax,%rbx,",
                "-9223372036854775808@$1",
                "4@$99999999999999999999999",
                "4@0x",
                "1@[sp, #-]",
                "(((( ))))",
                "\u{fffd}@\u{fffd}",
            ] {
                let _ = arg::parse_args(arch, s);
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};

    /// The addresses kernels without BPF cookies key specs by are the `nop`s
    /// of the call sites in the running process: in the executable (its
    /// link-time address) and in its library (where the process mapped it).
    #[test]
    fn call_site_addresses_hold_the_nops() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/host");
        let (exe, lib) = (
            dir.join("usdt_target-x86_64"),
            dir.join("libebpf_rs_usdt-x86_64.so"),
        );
        let mut child = std::process::Command::new(&exe)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // One round: the library is mapped by then.
        child.stdin.as_mut().unwrap().write_all(b"a").unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pid = child.id();
        let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
        for binary in [&exe, &lib] {
            let notes = read_notes(binary).unwrap();
            let sites: Vec<&UsdtProbe> = notes.probes.iter().collect();
            let ips = call_site_addresses(binary, notes.shared, &sites, Some(pid)).unwrap();
            for (site, ip) in sites.iter().zip(ips) {
                let mut byte = [0u8];
                mem.seek(SeekFrom::Start(ip)).unwrap();
                mem.read_exact(&mut byte).unwrap();
                assert_eq!(byte[0], 0x90, "{}:{} at {ip:#x}", site.provider, site.name);
            }
        }
        assert!(call_site_addresses(&lib, true, &[], Some(u32::MAX)).is_err());
        drop(child.stdin.take());
        child.wait().unwrap();
    }
}
