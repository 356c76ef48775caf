//! `perf_event_open(2)`, the perf ioctls, and PMU discovery.
//!
//! ```no_run
//! use ebpf_syscall::perf::{perf_event_open, PerfEventAttr, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT, PERF_SAMPLE_RAW};
//! let mut attr = PerfEventAttr::new(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_BPF_OUTPUT);
//! attr.sample_type = PERF_SAMPLE_RAW;
//! attr.sample_period = 1;
//! attr.wakeup_events = 1;
//! let fd = perf_event_open(&attr, -1, 0, None, 0)?;
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```
//!
//! # Safety
//!
//! `perf_event_open` reads `attr.size` bytes of [`PerfEventAttr`] (a
//! `#[repr(C)]` struct checked against the kernel's BTF by the layout tests)
//! and, for the kprobe/uprobe PMUs, a NUL-terminated string at `config1`,
//! which [`PerfEventAttr::set_probe_target`] borrows for the attr's lifetime.
//! The ioctls take an fd and an integer argument.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use core::ffi::CStr;
use core::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use zerocopy::{FromZeros, Immutable, IntoBytes, KnownLayout};

use crate::{Errno, Error, Result};

/// `PERF_TYPE_HARDWARE`.
pub const PERF_TYPE_HARDWARE: u32 = 0;
/// `PERF_TYPE_SOFTWARE`.
pub const PERF_TYPE_SOFTWARE: u32 = 1;
/// `PERF_TYPE_TRACEPOINT`.
pub const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `PERF_COUNT_HW_CPU_CYCLES`.
pub const PERF_COUNT_HW_CPU_CYCLES: u64 = 0;
/// `PERF_COUNT_SW_CPU_CLOCK`.
pub const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;
/// `PERF_COUNT_SW_BPF_OUTPUT`: the event behind `BPF_MAP_TYPE_PERF_EVENT_ARRAY` output.
pub const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;
/// `PERF_SAMPLE_RAW` (`sample_type`).
pub const PERF_SAMPLE_RAW: u64 = 1 << 10;
/// `PERF_FLAG_FD_CLOEXEC` (`perf_event_open` flags); always added.
pub const PERF_FLAG_FD_CLOEXEC: u64 = 1 << 3;

/// `disabled` bit of [`PerfEventAttr::flags`].
pub const PERF_ATTR_FLAG_DISABLED: u64 = 1 << 0;
/// `inherit` bit.
pub const PERF_ATTR_FLAG_INHERIT: u64 = 1 << 1;
/// `pinned` bit.
pub const PERF_ATTR_FLAG_PINNED: u64 = 1 << 2;
/// `exclusive` bit.
pub const PERF_ATTR_FLAG_EXCLUSIVE: u64 = 1 << 3;
/// `exclude_user` bit.
pub const PERF_ATTR_FLAG_EXCLUDE_USER: u64 = 1 << 4;
/// `exclude_kernel` bit.
pub const PERF_ATTR_FLAG_EXCLUDE_KERNEL: u64 = 1 << 5;
/// `exclude_hv` bit.
pub const PERF_ATTR_FLAG_EXCLUDE_HV: u64 = 1 << 6;
/// `exclude_idle` bit.
pub const PERF_ATTR_FLAG_EXCLUDE_IDLE: u64 = 1 << 7;
/// `mmap` bit.
pub const PERF_ATTR_FLAG_MMAP: u64 = 1 << 8;
/// `comm` bit.
pub const PERF_ATTR_FLAG_COMM: u64 = 1 << 9;
/// `freq` bit: `sample_period` is a frequency.
pub const PERF_ATTR_FLAG_FREQ: u64 = 1 << 10;
/// `inherit_stat` bit.
pub const PERF_ATTR_FLAG_INHERIT_STAT: u64 = 1 << 11;
/// `enable_on_exec` bit.
pub const PERF_ATTR_FLAG_ENABLE_ON_EXEC: u64 = 1 << 12;
/// `task` bit.
pub const PERF_ATTR_FLAG_TASK: u64 = 1 << 13;
/// `watermark` bit: `wakeup_events` is a byte watermark.
pub const PERF_ATTR_FLAG_WATERMARK: u64 = 1 << 14;
/// `mmap_data` bit: non-exec mmap records.
pub const PERF_ATTR_FLAG_MMAP_DATA: u64 = 1 << 17;
/// `sample_id_all` bit: `sample_type` ids on all records.
pub const PERF_ATTR_FLAG_SAMPLE_ID_ALL: u64 = 1 << 18;
/// `exclude_host` bit.
pub const PERF_ATTR_FLAG_EXCLUDE_HOST: u64 = 1 << 19;
/// `exclude_guest` bit.
pub const PERF_ATTR_FLAG_EXCLUDE_GUEST: u64 = 1 << 20;
/// `exclude_callchain_kernel` bit.
pub const PERF_ATTR_FLAG_EXCLUDE_CALLCHAIN_KERNEL: u64 = 1 << 21;
/// `exclude_callchain_user` bit.
pub const PERF_ATTR_FLAG_EXCLUDE_CALLCHAIN_USER: u64 = 1 << 22;
/// `mmap2` bit.
pub const PERF_ATTR_FLAG_MMAP2: u64 = 1 << 23;
/// `comm_exec` bit.
pub const PERF_ATTR_FLAG_COMM_EXEC: u64 = 1 << 24;
/// `use_clockid` bit: timestamps use `clockid`.
pub const PERF_ATTR_FLAG_USE_CLOCKID: u64 = 1 << 25;
/// `context_switch` bit.
pub const PERF_ATTR_FLAG_CONTEXT_SWITCH: u64 = 1 << 26;
/// `write_backward` bit: the ring is written from its end backwards, and
/// overwritten when full (an overwritable ring; 4.7).
pub const PERF_ATTR_FLAG_WRITE_BACKWARD: u64 = 1 << 27;
/// `namespaces` bit.
pub const PERF_ATTR_FLAG_NAMESPACES: u64 = 1 << 28;
/// `ksymbol` bit.
pub const PERF_ATTR_FLAG_KSYMBOL: u64 = 1 << 29;
/// `bpf_event` bit.
pub const PERF_ATTR_FLAG_BPF_EVENT: u64 = 1 << 30;
/// `aux_output` bit.
pub const PERF_ATTR_FLAG_AUX_OUTPUT: u64 = 1 << 31;
/// `cgroup` bit.
pub const PERF_ATTR_FLAG_CGROUP: u64 = 1 << 32;
/// `text_poke` bit.
pub const PERF_ATTR_FLAG_TEXT_POKE: u64 = 1 << 33;
/// `build_id` bit.
pub const PERF_ATTR_FLAG_BUILD_ID: u64 = 1 << 34;
/// `inherit_thread` bit.
pub const PERF_ATTR_FLAG_INHERIT_THREAD: u64 = 1 << 35;
/// `remove_on_exec` bit.
pub const PERF_ATTR_FLAG_REMOVE_ON_EXEC: u64 = 1 << 36;
/// `sigtrap` bit.
pub const PERF_ATTR_FLAG_SIGTRAP: u64 = 1 << 37;
/// The lowest bit of the two-bit `precise_ip` field (skid constraint, 0-3).
pub const PERF_ATTR_PRECISE_IP_SHIFT: u32 = 15;

/// `struct perf_event_attr` (version 8, 136 bytes).
///
/// The one-bit fields are the `flags` word (`PERF_ATTR_FLAG_*`). Unions are
/// named by their most common member: `sample_period` (`sample_freq`),
/// `wakeup_events` (`wakeup_watermark`), `config1` (`kprobe_func`,
/// `uprobe_path`, `bp_addr`), `config2` (`probe_offset`, `kprobe_addr`, `bp_len`).
#[derive(Debug, Clone, Copy, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the natural layout is checked by the layout tests.
#[repr(C, packed)]
#[allow(
    missing_docs,
    reason = "fields are the kernel's, see perf_event_open(2)"
)]
pub struct PerfEventAttr<'a> {
    pub r#type: u32,
    /// Filled in by [`PerfEventAttr::new`] with `size_of::<PerfEventAttr>()`.
    pub size: u32,
    pub config: u64,
    pub sample_period: u64,
    pub sample_type: u64,
    pub read_format: u64,
    pub flags: u64,
    pub wakeup_events: u32,
    pub bp_type: u32,
    pub(crate) config1: u64,
    pub config2: u64,
    pub branch_sample_type: u64,
    pub sample_regs_user: u64,
    pub sample_stack_user: u32,
    pub clockid: i32,
    pub sample_regs_intr: u64,
    pub aux_watermark: u32,
    pub sample_max_stack: u16,
    pub __reserved_2: u16,
    pub aux_sample_size: u32,
    pub aux_action: u32,
    pub sig_data: u64,
    pub config3: u64,
    pub(crate) _borrow: PhantomData<&'a CStr>,
}

impl<'a> PerfEventAttr<'a> {
    /// An attr for event `config` of PMU `type_`; everything else zero.
    pub fn new(type_: u32, config: u64) -> Self {
        let mut attr = Self::new_zeroed();
        attr.r#type = type_;
        attr.config = config;
        attr.size = core::mem::size_of::<Self>() as u32;
        attr
    }

    /// Sets `config1` for PMUs that take a plain number there.
    ///
    /// For the kprobe and uprobe PMUs `config1` is a string address: use
    /// [`PerfEventAttr::set_probe_target`] instead.
    pub fn set_config1(&mut self, value: u64) {
        self.config1 = value;
    }

    /// `config1`.
    pub fn config1(&self) -> u64 {
        self.config1
    }

    /// Sets `kprobe_func` or `uprobe_path` (`config1`) to `target`, and
    /// `probe_offset` (`config2`) to `offset`.
    pub fn set_probe_target(&mut self, target: &'a CStr, offset: u64) {
        self.config1 = target.as_ptr() as usize as u64;
        self.config2 = offset;
    }
}

/// `perf_event_open(2)`: opens a perf event for `pid` (-1: any) on `cpu` (-1:
/// any), in the group of `group_fd`, with `flags` (`PERF_FLAG_FD_CLOEXEC` is
/// always added).
///
/// # Minimum kernel version
///
/// 2.6.31; the kprobe and uprobe PMUs 4.17.
pub fn perf_event_open(
    attr: &PerfEventAttr<'_>,
    pid: i32,
    cpu: i32,
    group_fd: Option<BorrowedFd<'_>>,
    flags: u64,
) -> Result<OwnedFd> {
    let mut attr = *attr;
    let group = group_fd.map_or(-1, |fd| fd.as_raw_fd());
    let ptr: *mut PerfEventAttr<'_> = &mut attr;
    loop {
        // SAFETY: `ptr` is valid for reads and writes of `size_of::<PerfEventAttr>()`
        // bytes, which is `attr.size` unless the caller lowered it; the kernel
        // reads at most `attr.size` bytes and on E2BIG writes back only `size`.
        // A string at `config1` was borrowed for the attr's lifetime by
        // `set_probe_target`, or is a number the kernel only reads through.
        let ret = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_perf_event_open,
                ptr,
                pid as nix::libc::c_long,
                cpu as nix::libc::c_long,
                group as nix::libc::c_long,
                (flags | PERF_FLAG_FD_CLOEXEC) as nix::libc::c_ulong,
            )
        };
        if ret >= 0 {
            let fd = i32::try_from(ret).map_err(|_| Error::Syscall {
                call: "perf_event_open",
                errno: Errno::INVAL,
            })?;
            // SAFETY: a non-negative return of perf_event_open is a new fd that
            // the caller owns (opened with O_CLOEXEC).
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
        let errno = Errno::last();
        if errno != Errno::INTR {
            return Err(Error::Syscall {
                call: "perf_event_open",
                errno,
            });
        }
    }
}

mod ioctls {
    // _IO('$', 0), _IO('$', 1): the argument is a flag word (PERF_IOC_FLAG_GROUP).
    nix::ioctl_write_int_bad!(enable, nix::request_code_none!(b'$', 0));
    nix::ioctl_write_int_bad!(disable, nix::request_code_none!(b'$', 1));
    // _IOW('$', 8, __u32), _IOW('$', 9, __u32).
    nix::ioctl_write_int!(set_bpf, b'$', 8);
    nix::ioctl_write_int!(pause_output, b'$', 9);
}

/// `ioctl(PERF_EVENT_IOC_ENABLE)`: starts counting.
pub fn perf_event_enable(event: impl AsFd) -> Result<()> {
    // SAFETY: PERF_EVENT_IOC_ENABLE takes an integer flag word (0 here) and touches no memory.
    unsafe { ioctls::enable(event.as_fd().as_raw_fd(), 0) }
        .map(drop)
        .map_err(Error::syscall("ioctl(PERF_EVENT_IOC_ENABLE)"))
}

/// `ioctl(PERF_EVENT_IOC_DISABLE)`: stops counting.
pub fn perf_event_disable(event: impl AsFd) -> Result<()> {
    // SAFETY: PERF_EVENT_IOC_DISABLE takes an integer flag word (0 here) and touches no memory.
    unsafe { ioctls::disable(event.as_fd().as_raw_fd(), 0) }
        .map(drop)
        .map_err(Error::syscall("ioctl(PERF_EVENT_IOC_DISABLE)"))
}

/// `ioctl(PERF_EVENT_IOC_SET_BPF)`: attaches a program to a tracepoint,
/// kprobe or uprobe event (the pre-link way; see `BPF_LINK_CREATE` with
/// `BPF_PERF_EVENT` since 5.15).
///
/// # Minimum kernel version
///
/// 4.1.
pub fn perf_event_set_bpf(event: impl AsFd, prog: impl AsFd) -> Result<()> {
    // SAFETY: PERF_EVENT_IOC_SET_BPF takes a program fd by value and touches no memory.
    unsafe { ioctls::set_bpf(event.as_fd().as_raw_fd(), prog.as_fd().as_raw_fd() as _) }
        .map(drop)
        .map_err(Error::syscall("ioctl(PERF_EVENT_IOC_SET_BPF)"))
}

/// `ioctl(PERF_EVENT_IOC_PAUSE_OUTPUT)`: pauses (`true`) or resumes writing to the ring buffer.
///
/// # Minimum kernel version
///
/// 4.7.
pub fn perf_event_pause_output(event: impl AsFd, pause: bool) -> Result<()> {
    // SAFETY: PERF_EVENT_IOC_PAUSE_OUTPUT takes an integer by value and touches no memory.
    unsafe { ioctls::pause_output(event.as_fd().as_raw_fd(), i32::from(pause) as _) }
        .map(drop)
        .map_err(Error::syscall("ioctl(PERF_EVENT_IOC_PAUSE_OUTPUT)"))
}

const EVENT_SOURCE: &str = "/sys/bus/event_source/devices";

/// The `type` of a dynamic PMU (`"kprobe"`, `"uprobe"`, ...) from
/// `/sys/bus/event_source/devices/<pmu>/type`.
///
/// A missing PMU is [`NotSupported`](crate::NotSupported) for `kprobe` and
/// `uprobe` (4.17), and [`Error::Io`] otherwise.
pub fn pmu_type(pmu: &str) -> Result<u32> {
    if pmu.contains('/') || pmu.starts_with('.') {
        return Err(Error::InvalidArgument(format!("PMU name '{pmu}'")));
    }
    let path = format!("{EVENT_SOURCE}/{pmu}/type");
    match std::fs::read_to_string(&path) {
        Ok(s) => s
            .trim()
            .parse()
            .map_err(|_| Error::InvalidArgument(format!("{path}: '{}' is not a number", s.trim()))),
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound && matches!(pmu, "kprobe" | "uprobe") =>
        {
            let config = if pmu == "kprobe" {
                "CONFIG_KPROBE_EVENTS"
            } else {
                "CONFIG_UPROBE_EVENTS"
            };
            Err(crate::NotSupported::new(
                format!("perf PMU '{pmu}'"),
                crate::KernelVersion::new(4, 17, 0),
            )
            .requires_config(config)
            .into())
        }
        Err(e) => Err(Error::io(format!("read {path}"))(e)),
    }
}

/// The `config` bit that makes a kprobe/uprobe PMU event a return probe, from
/// `/sys/bus/event_source/devices/<pmu>/format/retprobe` (`config:0`).
pub fn pmu_retprobe_bit(pmu: &str) -> Result<u32> {
    let path = format!("{EVENT_SOURCE}/{pmu}/format/retprobe");
    let s = std::fs::read_to_string(&path).map_err(Error::io(format!("read {path}")))?;
    s.trim()
        .strip_prefix("config:")
        .and_then(|b| b.parse().ok())
        .ok_or_else(|| Error::InvalidArgument(format!("{path}: unexpected '{}'", s.trim())))
}

/// Whether PMU `pmu` has the format field `field`
/// (`/sys/bus/event_source/devices/<pmu>/format/<field>`): the uprobe PMU's
/// `ref_ctr_offset` says the kernel counts USDT semaphores (4.20).
pub fn pmu_has_format(pmu: &str, field: &str) -> bool {
    let ok = |s: &str| !s.is_empty() && !s.contains('/') && !s.starts_with('.');
    ok(pmu)
        && ok(field)
        && std::path::Path::new(&format!("{EVENT_SOURCE}/{pmu}/format/{field}")).exists()
}
