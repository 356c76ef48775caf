//! kprobes and kretprobes (`SEC("kprobe/<function>")`) through the kprobe
//! PMU, and kprobe_multi links (`SEC("kprobe.multi/<pattern>")`).
//!
//! A kernel built without `CONFIG_KPROBES` has no kprobe PMU
//! (`/sys/bus/event_source/devices/kprobe`): attaching is then
//! [`Error::NotSupported`]; kprobe_multi needs
//! `CONFIG_FPROBE` and is probed with a real `BPF_LINK_CREATE`.
//!
//! ```no_run
//! use ebpf_link::kprobe::{self, KprobeOptions};
//! # fn f(prog: &ebpf::Program) -> ebpf_link::Result<()> {
//! let link = kprobe::attach(prog, "do_unlinkat", &KprobeOptions::default())?;
//! # Ok(()) }
//! ```
//!
//! # Minimum kernel version
//!
//! 4.17 (kprobe PMU); kprobe_multi 5.18.

use ebpf::features::LinkKind;
use ebpf::{AttachType, Program, ProgramType};
use ebpf_syscall::{self as sys, Pointer, perf};

use crate::error::{Error, Result, sys as sysr};
use crate::link::{RawLink, fd_link};
use crate::perf_attach::{PerfAttachment, open_event, perf_link, probe_attr};
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
    /// A kprobe_multi link: one program on many kernel functions.
    ///
    /// # Minimum kernel version
    ///
    /// 5.18.
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
}

/// Attaches a kprobe program to kernel function `function`.
///
/// # Minimum kernel version
///
/// 4.17.
pub fn attach(program: &Program, function: &str, opts: &KprobeOptions) -> Result<KprobeLink> {
    (|| {
        expect_program_type(program, &[ProgramType::Kprobe], "a kprobe")?;
        let pmu = sysr(perf::pmu_type("kprobe"))?;
        let mut config = 0u64;
        if opts.retprobe {
            config |= 1u64 << sysr(perf::pmu_retprobe_bit("kprobe"))?;
        }
        let func = cstring("function", function)?;
        let mut attr = probe_attr(pmu, config);
        attr.set_probe_target(&func, opts.offset);
        let event = open_event(&attr, -1)?;
        Ok(KprobeLink {
            inner: PerfAttachment::attach(program, event, opts.cookie)?,
        })
    })()
    .map_err(Error::attach(program, || {
        format!(
            "{} {function}",
            if opts.retprobe { "kretprobe" } else { "kprobe" }
        )
    }))
}

/// Options of [`attach_multi`].
#[derive(Debug, Clone, Default)]
pub struct KprobeMultiOptions {
    /// kretprobes.
    pub retprobe: bool,
    /// Per-function cookies (empty: none).
    pub cookies: Vec<u64>,
}

/// Attaches a `kprobe.multi` program (loaded with `BPF_TRACE_KPROBE_MULTI`)
/// to every function of `functions`.
///
/// # Minimum kernel version
///
/// 5.18.
#[doc(alias = "BPF_TRACE_KPROBE_MULTI")]
pub fn attach_multi(
    program: &Program,
    functions: &[&str],
    opts: &KprobeMultiOptions,
) -> Result<KprobeMultiLink> {
    (|| {
        expect_program_type(program, &[ProgramType::Kprobe], "kprobe_multi")?;
        probe_link(LinkKind::KprobeMulti)?;
        if program.attach_type() != Some(AttachType::TraceKprobeMulti) {
            return Err(Error::InvalidArgument(
                "the program was not loaded for BPF_TRACE_KPROBE_MULTI (SEC(\"kprobe.multi\"))"
                    .into(),
            ));
        }
        let names = functions
            .iter()
            .map(|f| cstring("function", f))
            .collect::<Result<Vec<_>>>()?;
        let ptrs: Vec<Pointer<'_>> = names.iter().map(|c| Pointer::from_cstr(c)).collect();
        let cookies = (!opts.cookies.is_empty()).then_some(opts.cookies.as_slice());
        let mut attr = sys::LinkCreateKprobeMultiAttr::with_target(
            program,
            0,
            sys::AttachType::TRACE_KPROBE_MULTI,
        );
        sysr(attr.set_targets(Some(&ptrs), None, cookies))?;
        attr.kprobe_flags = u32::from(opts.retprobe);
        let fd = sys::link_create(&attr)
            .map_err(|e| crate::util::link_create_error(e, LinkKind::KprobeMulti))?;
        Ok(KprobeMultiLink {
            link: RawLink::from_fd(fd),
        })
    })()
    .map_err(Error::attach(program, || {
        format!("kprobe_multi {}", functions.join(","))
    }))
}
