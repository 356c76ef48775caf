//! Program commands: `BPF_PROG_LOAD`, `BPF_PROG_TEST_RUN`, `BPF_PROG_ATTACH`,
//! `BPF_PROG_DETACH`, `BPF_PROG_QUERY` and `BPF_PROG_BIND_MAP`.
//!
//! ```no_run
//! use ebpf_syscall::{prog_load, ProgLoadAttr, ProgramType};
//! // mov r0, 0; exit
//! let insns = [0xb7u8, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
//! let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
//! attr.set_insns(&insns)?;
//! let prog = prog_load(&attr)?;
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```

use core::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

use crate::log::{LOG_INITIAL_SIZE, LOG_MAX_ATTEMPTS, LOG_MAX_SIZE, next_log_size};
use crate::map::{len_u32, raw_fd};
use crate::sys::{bpf, bpf_fd};
use crate::{AttachType, Cmd, Errno, Error, LogLevel, Pointer, ProgramType, Result, VerifierLog};

/// `BPF_F_STRICT_ALIGNMENT` (`prog_flags`).
pub const BPF_F_STRICT_ALIGNMENT: u32 = 1 << 0;
/// `BPF_F_ANY_ALIGNMENT` (`prog_flags`).
pub const BPF_F_ANY_ALIGNMENT: u32 = 1 << 1;
/// `BPF_F_TEST_RND_HI32` (`prog_flags`).
pub const BPF_F_TEST_RND_HI32: u32 = 1 << 2;
/// `BPF_F_SLEEPABLE` (`prog_flags`, 5.10).
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS` (`prog_flags`, 5.18).
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;
/// `BPF_F_TOKEN_FD` (`prog_flags`, `map_flags`, `btf_flags`, 6.9).
pub const BPF_F_TOKEN_FD: u32 = 1 << 16;

/// `BPF_F_ALLOW_OVERRIDE` (`attach_flags`).
pub const BPF_F_ALLOW_OVERRIDE: u32 = 1 << 0;
/// `BPF_F_ALLOW_MULTI` (`attach_flags`).
pub const BPF_F_ALLOW_MULTI: u32 = 1 << 1;
/// `BPF_F_REPLACE` (`attach_flags`, 5.6).
pub const BPF_F_REPLACE: u32 = 1 << 2;
/// `BPF_F_BEFORE` (`attach_flags`, 6.6).
pub const BPF_F_BEFORE: u32 = 1 << 3;
/// `BPF_F_AFTER` (`attach_flags`, 6.6).
pub const BPF_F_AFTER: u32 = 1 << 4;
/// `BPF_F_ID` (`attach_flags`, 6.6).
pub const BPF_F_ID: u32 = 1 << 5;
/// `BPF_F_LINK` (`attach_flags`, 6.6).
pub const BPF_F_LINK: u32 = 1 << 13;
/// `BPF_F_QUERY_EFFECTIVE` (`query_flags`).
pub const BPF_F_QUERY_EFFECTIVE: u32 = 1 << 0;

/// How many times `BPF_PROG_LOAD` is retried when the kernel says `EAGAIN`
/// (the verifier gives up when a signal is pending).
const PROG_LOAD_EAGAIN_RETRIES: usize = 5;

/// The attr of `BPF_PROG_LOAD`.
///
/// The instruction, log, BTF info and fd array buffers are set with methods
/// that keep each pointer and its length together; the log is managed by
/// [`prog_load`].
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct ProgLoadAttr<'a> {
    /// The program type.
    pub prog_type: ProgramType,
    pub(crate) insn_cnt: u32,
    pub(crate) insns: Pointer<'a>,
    pub(crate) license: Pointer<'a>,
    pub(crate) log_level: u32,
    pub(crate) log_size: u32,
    pub(crate) log_buf: Pointer<'a>,
    /// `LINUX_VERSION_CODE`, checked for kprobes before 5.0.
    pub kern_version: u32,
    /// `BPF_F_*` program flags.
    pub prog_flags: u32,
    /// The name (see [`obj_name`](crate::obj_name); 4.15).
    pub prog_name: [u8; 16],
    /// Offload target interface.
    pub prog_ifindex: u32,
    /// The attach type the program is verified for (4.17).
    pub expected_attach_type: AttachType,
    /// BTF object of `func_info` and `line_info` (5.0).
    pub prog_btf_fd: u32,
    pub(crate) func_info_rec_size: u32,
    pub(crate) func_info: Pointer<'a>,
    pub(crate) func_info_cnt: u32,
    pub(crate) line_info_rec_size: u32,
    pub(crate) line_info: Pointer<'a>,
    pub(crate) line_info_cnt: u32,
    /// BTF type id of the attach target (tracing, LSM, struct_ops, ext; 5.5).
    pub attach_btf_id: u32,
    /// Program fd (ext, fentry on a program) or BTF object fd (module) of the target.
    pub attach_prog_fd: u32,
    pub(crate) core_relo_cnt: u32,
    pub(crate) fd_array: Pointer<'a>,
    pub(crate) core_relos: Pointer<'a>,
    pub(crate) core_relo_rec_size: u32,
    pub(crate) log_true_size: u32,
    /// BPF token fd, with `BPF_F_TOKEN_FD` (6.9).
    pub prog_token_fd: i32,
    pub(crate) fd_array_cnt: u32,
    pub(crate) signature: Pointer<'a>,
    pub(crate) signature_size: u32,
    /// Keyring of the signature (6.18).
    pub keyring_id: i32,
}

fn records(data: &[u8], rec_size: u32) -> Result<u32> {
    if rec_size == 0 || data.len() % rec_size as usize != 0 {
        return Err(Error::InvalidArgument(format!(
            "{} bytes of records are not a multiple of the record size {rec_size}",
            data.len()
        )));
    }
    len_u32(data.len() / rec_size as usize)
}

impl<'a> ProgLoadAttr<'a> {
    /// An attr for a program of `prog_type` under `license`, without instructions yet.
    pub fn new(prog_type: ProgramType, license: &'a CStr) -> Self {
        Self {
            prog_type,
            license: Pointer::from_cstr(license),
            ..Self::default()
        }
    }

    /// Sets the instructions: raw 8-byte `struct bpf_insn`s in host byte order.
    pub fn set_insns(&mut self, insns: &'a [u8]) -> Result<()> {
        self.insn_cnt = records(insns, 8)?;
        self.insns = Pointer::from_slice(insns);
        Ok(())
    }

    /// The number of instructions set.
    pub fn insn_cnt(&self) -> u32 {
        self.insn_cnt
    }

    /// Sets the license string (`"GPL"` for GPL-only helpers).
    pub fn set_license(&mut self, license: &'a CStr) {
        self.license = Pointer::from_cstr(license);
    }

    /// Sets `func_info`: `bpf_func_info` records of `rec_size` bytes (5.0).
    pub fn set_func_info(&mut self, data: &'a [u8], rec_size: u32) -> Result<()> {
        self.func_info_cnt = records(data, rec_size)?;
        self.func_info_rec_size = rec_size;
        self.func_info = Pointer::from_slice(data);
        Ok(())
    }

    /// Sets `line_info`: `bpf_line_info` records of `rec_size` bytes (5.0).
    pub fn set_line_info(&mut self, data: &'a [u8], rec_size: u32) -> Result<()> {
        self.line_info_cnt = records(data, rec_size)?;
        self.line_info_rec_size = rec_size;
        self.line_info = Pointer::from_slice(data);
        Ok(())
    }

    /// Sets `core_relos`: `bpf_core_relo` records for the kernel to apply (5.17).
    pub fn set_core_relos(&mut self, data: &'a [u8], rec_size: u32) -> Result<()> {
        self.core_relo_cnt = records(data, rec_size)?;
        self.core_relo_rec_size = rec_size;
        self.core_relos = Pointer::from_slice(data);
        Ok(())
    }

    /// Sets `fd_array`: the fds that `BPF_PSEUDO_MAP_IDX`/kfunc BTF
    /// instructions index (5.14); `fd_array_cnt` too (6.13, which also binds the maps).
    ///
    /// Kernels before 6.13 ignore the count and read the array by the indexes
    /// in the instructions, so every index used must be within `fds`.
    pub fn set_fd_array(&mut self, fds: &'a [i32]) -> Result<()> {
        self.fd_array_cnt = len_u32(fds.len())?;
        self.fd_array = Pointer::from_slice(fds);
        Ok(())
    }

    /// Sets the program's signature (6.18).
    pub fn set_signature(&mut self, signature: &'a [u8]) -> Result<()> {
        self.signature_size = len_u32(signature.len())?;
        self.signature = Pointer::from_slice(signature);
        Ok(())
    }
}

/// Blocks `SIGPROF` on the calling thread until dropped, then restores the mask.
///
/// A profiler's `SIGPROF` (Go's, perf's, a sampling allocator's) arriving
/// while the verifier runs makes it give up with `EINTR`/`EAGAIN` again and
/// again for long programs; with the signal blocked it is delivered after
/// the load instead.
struct SigprofBlock {
    old: Option<SigSet>,
}

impl SigprofBlock {
    fn new() -> Self {
        let mut set = SigSet::empty();
        set.add(Signal::SIGPROF);
        let mut old = SigSet::empty();
        match pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old)) {
            Ok(()) => Self { old: Some(old) },
            Err(_) => Self { old: None },
        }
    }
}

impl Drop for SigprofBlock {
    fn drop(&mut self) {
        if let Some(old) = &self.old {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(old), None);
        }
    }
}

fn prog_load_once(attr: &mut ProgLoadAttr<'_>) -> Result<OwnedFd, Errno> {
    (attr.prog_token_fd, attr.prog_flags) =
        crate::token::apply(attr.prog_token_fd, attr.prog_flags);
    let _block = SigprofBlock::new();
    let mut tries = 0;
    loop {
        match bpf_fd(Cmd::PROG_LOAD, attr) {
            Err(Errno::AGAIN) if tries < PROG_LOAD_EAGAIN_RETRIES => tries += 1,
            other => return other,
        }
    }
}

/// How [`prog_load_with_log`] fetches the verifier log.
///
/// ```
/// use ebpf_syscall::{LogLevel, LogOptions};
/// let log = LogOptions { level: LogLevel::STATS, size: 4096 };
/// assert_eq!(LogOptions::from(LogLevel::STATS).size, 0);
/// # let _ = log;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogOptions {
    /// The verbosity of every load. [`LogLevel::NONE`]: load without a log
    /// and fetch one (at [`LogLevel::BRANCH`]) only if the load fails.
    pub level: LogLevel,
    /// The size in bytes of the first log buffer tried; it grows on `ENOSPC`.
    /// 0: 64 KiB. Raised to the kernel's minimum of 128 bytes.
    pub size: u32,
}

impl From<LogLevel> for LogOptions {
    fn from(level: LogLevel) -> Self {
        Self { level, size: 0 }
    }
}

/// The kernel refuses log buffers smaller than this (`EINVAL`).
const LOG_MIN_SIZE: usize = 128;

impl LogOptions {
    /// The first buffer size and how many loads may be tried: a start below
    /// the default gets one more doubling for each halving, so that kernels
    /// without `log_true_size` still reach a full log.
    fn start(&self) -> (usize, usize) {
        if self.size == 0 {
            return (LOG_INITIAL_SIZE, LOG_MAX_ATTEMPTS);
        }
        let size = (self.size as usize).clamp(LOG_MIN_SIZE, LOG_MAX_SIZE);
        let mut attempts = LOG_MAX_ATTEMPTS;
        let mut s = size;
        while s < LOG_INITIAL_SIZE {
            s *= 2;
            attempts += 1;
        }
        (size, attempts)
    }
}

/// `BPF_PROG_LOAD`: verifies and loads a program.
///
/// Loads without a log first (fast); if that fails, loads again with a
/// verifier log ([`LogLevel::BRANCH`]), growing the buffer on `ENOSPC` using
/// the kernel's `log_true_size` (6.4+) or by doubling, a bounded number of
/// times. The error then is [`Error::Load`] with the [`VerifierLog`].
/// `EAGAIN` is retried a few times and `SIGPROF` is blocked on the calling
/// thread during the call. [`prog_load_with_log`] sets the log's level and
/// first size.
///
/// # Minimum kernel version
///
/// 3.19; each program type, attach type and flag has its own.
#[doc(alias = "BPF_PROG_LOAD")]
pub fn prog_load(attr: &ProgLoadAttr<'_>) -> Result<OwnedFd> {
    prog_load_with_log(attr, LogOptions::default()).map(|(fd, _)| fd)
}

/// `BPF_PROG_LOAD` with the verifier log as `log` says: with a level, every
/// load is logged and the log of a successful one returned too (e.g. for
/// [`LogLevel::STATS`]); without, as [`prog_load`], with a first log buffer
/// of `log.size` bytes if the load fails.
///
/// A log that does not fit is fetched again with a larger buffer (the
/// kernel's `log_true_size` on 6.4+, else double), so even a tiny first
/// size ends with the whole log, only [`VerifierLog::is_truncated`] past
/// the largest buffer.
///
/// # Minimum kernel version
///
/// 3.19; `BPF_LOG_STATS` 5.2; `log_true_size` 6.4.
#[doc(alias = "BPF_PROG_LOAD")]
pub fn prog_load_with_log(
    attr: &ProgLoadAttr<'_>,
    log: LogOptions,
) -> Result<(OwnedFd, Option<VerifierLog>)> {
    if log.level != LogLevel::NONE {
        return prog_load_logged(attr, log).map(|(fd, log)| (fd, Some(log)));
    }
    let mut plain = *attr;
    let errno = match prog_load_once(&mut plain) {
        Ok(fd) => return Ok((fd, None)),
        Err(e) => e,
    };
    // A refusal by policy (no capability, lockdown): a log would not explain it.
    if errno == Errno::PERM {
        return Err(Error::Bpf {
            cmd: Cmd::PROG_LOAD,
            errno,
        });
    }
    let on_failure = LogOptions {
        level: LogLevel::BRANCH,
        ..log
    };
    match prog_load_logged(attr, on_failure) {
        Ok((fd, _)) => Ok((fd, None)),
        Err(Error::Load { cmd, log, .. }) => Err(Error::Load { cmd, errno, log }),
        Err(e) => Err(e),
    }
}

fn prog_load_logged(attr: &ProgLoadAttr<'_>, log: LogOptions) -> Result<(OwnedFd, VerifierLog)> {
    let (size, attempts) = log.start();
    run_with_log_from(Cmd::PROG_LOAD, size, attempts, |buf| {
        let mut with_log = *attr;
        with_log.log_level = log.level.bits();
        with_log.log_size = len_u32(buf.len())?;
        with_log.log_buf = Pointer::from_mut_slice(buf);
        let res = prog_load_once(&mut with_log);
        Ok((res, with_log.log_true_size))
    })
}

/// Runs a load with a growing log buffer: `load(buf)` returns the result and
/// the kernel's `log_true_size`.
pub(crate) fn run_with_log(
    cmd: Cmd,
    load: impl FnMut(&mut [u8]) -> Result<(Result<OwnedFd, Errno>, u32)>,
) -> Result<(OwnedFd, VerifierLog)> {
    run_with_log_from(cmd, LOG_INITIAL_SIZE, LOG_MAX_ATTEMPTS, load)
}

/// [`run_with_log`] starting at `size` bytes, loading at most `max_attempts` times.
fn run_with_log_from(
    cmd: Cmd,
    mut size: usize,
    max_attempts: usize,
    mut load: impl FnMut(&mut [u8]) -> Result<(Result<OwnedFd, Errno>, u32)>,
) -> Result<(OwnedFd, VerifierLog)> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut buf = vec![0u8; size];
        let (res, true_size) = load(&mut buf)?;
        match res {
            Ok(fd) => return Ok((fd, VerifierLog::from_buf(&buf, false))),
            Err(Errno::NOSPC) => {
                let next = next_log_size(size, true_size);
                if attempt >= max_attempts || next <= size {
                    return Err(Error::Load {
                        cmd,
                        errno: Errno::NOSPC,
                        log: VerifierLog::from_buf(&buf, true),
                    });
                }
                size = next;
            }
            Err(errno) => {
                return Err(Error::Load {
                    cmd,
                    errno,
                    log: VerifierLog::from_buf(&buf, false),
                });
            }
        }
    }
}

/// The attr of `BPF_PROG_TEST_RUN` (`union bpf_attr`'s `test`).
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct ProgTestRunAttr<'a> {
    /// The program.
    pub prog_fd: u32,
    pub(crate) retval: u32,
    pub(crate) data_size_in: u32,
    pub(crate) data_size_out: u32,
    pub(crate) data_in: Pointer<'a>,
    pub(crate) data_out: Pointer<'a>,
    /// How many times to run (0 means 1).
    pub repeat: u32,
    pub(crate) duration: u32,
    pub(crate) ctx_size_in: u32,
    pub(crate) ctx_size_out: u32,
    pub(crate) ctx_in: Pointer<'a>,
    pub(crate) ctx_out: Pointer<'a>,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// CPU to run on, with `BPF_F_TEST_RUN_ON_CPU` (5.10).
    pub cpu: u32,
    /// XDP live-frame batch size (5.18).
    pub batch_size: u32,
    pub(crate) _pad0: u32,
}

impl<'a> ProgTestRunAttr<'a> {
    /// An attr that runs `prog` once with no data.
    pub fn new(prog: &impl AsFd) -> Self {
        Self {
            prog_fd: raw_fd(prog),
            ..Self::default()
        }
    }

    /// The packet (or other input) the program runs on.
    pub fn set_data_in(&mut self, data: &'a [u8]) -> Result<()> {
        self.data_size_in = len_u32(data.len())?;
        self.data_in = Pointer::from_slice(data);
        Ok(())
    }

    /// Receives the packet after the run.
    pub fn set_data_out(&mut self, data: &'a mut [u8]) -> Result<()> {
        self.data_size_out = len_u32(data.len())?;
        self.data_out = Pointer::from_mut_slice(data);
        Ok(())
    }

    /// The context the program runs with (5.2).
    pub fn set_ctx_in(&mut self, ctx: &'a [u8]) -> Result<()> {
        self.ctx_size_in = len_u32(ctx.len())?;
        self.ctx_in = Pointer::from_slice(ctx);
        Ok(())
    }

    /// Receives the context after the run (5.2).
    pub fn set_ctx_out(&mut self, ctx: &'a mut [u8]) -> Result<()> {
        self.ctx_size_out = len_u32(ctx.len())?;
        self.ctx_out = Pointer::from_mut_slice(ctx);
        Ok(())
    }
}

/// What `BPF_PROG_TEST_RUN` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value (`r0`).
    pub retval: u32,
    /// Average run time in nanoseconds.
    pub duration: u32,
    /// Size of the output packet (may exceed the buffer: then `ENOSPC`).
    pub data_size_out: u32,
    /// Size of the output context.
    pub ctx_size_out: u32,
}

/// `BPF_PROG_TEST_RUN`: runs a program on the given input in the kernel.
///
/// Takes the attr by value: the kernel overwrites its size fields.
///
/// # Minimum kernel version
///
/// 4.12; the supported program types grew over time (context in/out 5.2).
/// With a `data_out` buffer 5.0: older kernels ignore its size, so this
/// function returns [`NotSupported`](crate::NotSupported) there.
#[doc(alias = "BPF_PROG_TEST_RUN")]
#[doc(alias = "BPF_PROG_RUN")]
pub fn prog_test_run(mut attr: ProgTestRunAttr<'_>) -> Result<TestRunResult> {
    // Before 5.0 the kernel ignored `data_size_out` and wrote the whole output
    // packet, whatever the buffer's size: refuse rather than risk an overflow.
    if !attr.data_out.is_null() {
        let too_old =
            crate::current_kernel().map_or(true, |v| v < crate::KernelVersion::new(5, 0, 0));
        if too_old {
            return Err(crate::NotSupported::new(
                "BPF_PROG_TEST_RUN with a size-limited data_out",
                crate::KernelVersion::new(5, 0, 0),
            )
            .into());
        }
    }
    bpf(Cmd::PROG_TEST_RUN, &mut attr).map_err(Error::bpf(Cmd::PROG_TEST_RUN))?;
    Ok(TestRunResult {
        retval: attr.retval,
        duration: attr.duration,
        data_size_out: attr.data_size_out,
        ctx_size_out: attr.ctx_size_out,
    })
}

/// The attr of `BPF_PROG_ATTACH` and `BPF_PROG_DETACH`.
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct ProgAttachAttr {
    /// Target: cgroup fd, sockmap fd, netns fd, or (tcx, 6.6) ifindex.
    pub target_fd: u32,
    /// The program.
    pub attach_bpf_fd: u32,
    /// The attach type.
    pub attach_type: AttachType,
    /// `BPF_F_ALLOW_MULTI`, `BPF_F_REPLACE`, `BPF_F_BEFORE`, ...
    pub attach_flags: u32,
    /// With `BPF_F_REPLACE`: the program to replace (5.6).
    pub replace_bpf_fd: u32,
    /// With `BPF_F_BEFORE`/`BPF_F_AFTER`: the fd (or id, with `BPF_F_ID`) of the neighbour (6.6).
    pub relative_fd: u32,
    /// Fail with `ESTALE` unless the attach point's revision is this (6.6; 0: any).
    pub expected_revision: u64,
}

impl ProgAttachAttr {
    /// An attr attaching `prog` to `target` as `attach_type`.
    pub fn new(target: &impl AsFd, prog: &impl AsFd, attach_type: AttachType) -> Self {
        Self {
            target_fd: raw_fd(target),
            attach_bpf_fd: raw_fd(prog),
            attach_type,
            ..Self::default()
        }
    }
}

/// `BPF_PROG_ATTACH`: attaches a program to a cgroup, socket map, netns, or (6.6) tcx.
///
/// # Minimum kernel version
///
/// 4.10.
#[doc(alias = "BPF_PROG_ATTACH")]
pub fn prog_attach(attr: &ProgAttachAttr) -> Result<()> {
    let mut attr = attr.clone();
    bpf(Cmd::PROG_ATTACH, &mut attr)
        .map(drop)
        .map_err(Error::bpf(Cmd::PROG_ATTACH))
}

/// `BPF_PROG_DETACH`: detaches a program attached with [`prog_attach`]
/// (`attach_bpf_fd` names it for multi-attach points).
///
/// `attach_flags` must be 0 (`EINVAL` otherwise) except for the ordering
/// flags of tcx/netkit/cgroup (6.6+); do not reuse the attach attr with
/// `BPF_F_ALLOW_MULTI` set.
///
/// # Minimum kernel version
///
/// 4.10.
#[doc(alias = "BPF_PROG_DETACH")]
pub fn prog_detach(attr: &ProgAttachAttr) -> Result<()> {
    let mut attr = attr.clone();
    bpf(Cmd::PROG_DETACH, &mut attr)
        .map(drop)
        .map_err(Error::bpf(Cmd::PROG_DETACH))
}

/// The attr of `BPF_PROG_QUERY` (`union bpf_attr`'s `query`).
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct ProgQueryAttr<'a> {
    /// Target: cgroup fd, netns fd, or ifindex.
    pub target_fd: u32,
    /// The attach type.
    pub attach_type: AttachType,
    /// `BPF_F_QUERY_EFFECTIVE`.
    pub query_flags: u32,
    pub(crate) attach_flags: u32,
    pub(crate) prog_ids: Pointer<'a>,
    pub(crate) prog_cnt: u32,
    pub(crate) _pad0: u32,
    pub(crate) prog_attach_flags: Pointer<'a>,
    pub(crate) link_ids: Pointer<'a>,
    pub(crate) link_attach_flags: Pointer<'a>,
    pub(crate) revision: u64,
}

/// Buffers for [`prog_query`]; each that is given holds as many entries as `prog_ids`.
#[derive(Debug, Default)]
pub struct QueryBuffers<'a> {
    /// Receives program ids.
    pub prog_ids: Option<&'a mut [u32]>,
    /// Receives each program's attach flags (5.19).
    pub prog_attach_flags: Option<&'a mut [u32]>,
    /// Receives the id of the link of each program, or 0 (6.6).
    pub link_ids: Option<&'a mut [u32]>,
    /// Receives each link's attach flags (6.6).
    pub link_attach_flags: Option<&'a mut [u32]>,
}

/// What `BPF_PROG_QUERY` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryResult {
    /// The attach flags of the attach point (cgroups).
    pub attach_flags: u32,
    /// How many programs are attached (may exceed the buffers: then `ENOSPC`).
    pub prog_cnt: u32,
    /// The attach point's revision (6.6).
    pub revision: u64,
}

impl<'a> ProgQueryAttr<'a> {
    /// An attr querying `attach_type` programs of `target`.
    pub fn new(target: &impl AsFd, attach_type: AttachType) -> Self {
        Self {
            target_fd: raw_fd(target),
            attach_type,
            ..Self::default()
        }
    }

    /// Sets the output buffers; all given ones must have the same length.
    pub fn set_buffers(&mut self, bufs: QueryBuffers<'a>) -> Result<()> {
        let mut len = None;
        let mut ptr = |b: Option<&'a mut [u32]>| -> Result<Pointer<'a>> {
            let Some(b) = b else { return Ok(Pointer::NULL) };
            match len {
                Some(l) if l != b.len() => {
                    return Err(Error::InvalidArgument(
                        "prog_query buffers differ in length".into(),
                    ));
                }
                _ => len = Some(b.len()),
            }
            Ok(Pointer::from_mut_slice(b))
        };
        self.prog_ids = ptr(bufs.prog_ids)?;
        self.prog_attach_flags = ptr(bufs.prog_attach_flags)?;
        self.link_ids = ptr(bufs.link_ids)?;
        self.link_attach_flags = ptr(bufs.link_attach_flags)?;
        self.prog_cnt = len_u32(len.unwrap_or(0))?;
        if self.prog_ids.is_null() && self.prog_cnt != 0 {
            return Err(Error::InvalidArgument(
                "prog_query needs prog_ids when other buffers are given".into(),
            ));
        }
        Ok(())
    }
}

/// `BPF_PROG_QUERY`: lists the programs attached to a cgroup, netns, or (6.6) tcx/netkit.
///
/// Takes the attr by value: the kernel overwrites the count.
///
/// # Minimum kernel version
///
/// 4.15.
#[doc(alias = "BPF_PROG_QUERY")]
pub fn prog_query(mut attr: ProgQueryAttr<'_>) -> Result<QueryResult> {
    bpf(Cmd::PROG_QUERY, &mut attr).map_err(Error::bpf(Cmd::PROG_QUERY))?;
    Ok(QueryResult {
        attach_flags: attr.attach_flags,
        prog_cnt: attr.prog_cnt,
        revision: attr.revision,
    })
}

/// The attr of `BPF_PROG_BIND_MAP`.
#[derive(Debug, Clone, Default, IntoBytes, FromBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct ProgBindMapAttr {
    /// The program.
    pub prog_fd: u32,
    /// The map.
    pub map_fd: u32,
    /// Must be 0.
    pub flags: u32,
}

/// `BPF_PROG_BIND_MAP`: keeps `map` alive as long as `prog` (for maps the
/// program does not reference, such as `.rodata` metadata).
///
/// # Minimum kernel version
///
/// 5.10.
#[doc(alias = "BPF_PROG_BIND_MAP")]
pub fn prog_bind_map(prog: impl AsFd, map: impl AsFd) -> Result<()> {
    let mut attr = ProgBindMapAttr {
        prog_fd: raw_fd(&prog),
        map_fd: raw_fd(&map),
        flags: 0,
    };
    bpf(Cmd::PROG_BIND_MAP, &mut attr)
        .map(drop)
        .map_err(Error::bpf(Cmd::PROG_BIND_MAP))
}

/// The attr of `BPF_PROG_STREAM_READ_BY_FD`.
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the natural layout is checked by the layout tests.
#[repr(C, packed)]
pub struct ProgStreamReadAttr<'a> {
    pub(crate) stream_buf: Pointer<'a>,
    pub(crate) stream_buf_len: u32,
    /// `BPF_STREAM_STDOUT` (1) or `BPF_STREAM_STDERR` (2).
    pub stream_id: u32,
    /// The program.
    pub prog_fd: u32,
    pub(crate) _pad0: u32,
}

/// `BPF_STREAM_STDOUT`: a program's standard output stream.
pub const BPF_STREAM_STDOUT: u32 = 1;
/// `BPF_STREAM_STDERR`: a program's standard error stream (verifier-inserted
/// diagnostics such as may_goto timeouts also go here).
pub const BPF_STREAM_STDERR: u32 = 2;

/// `BPF_PROG_STREAM_READ_BY_FD`: reads (and consumes) up to `buf.len()` bytes of a
/// program's output stream; returns how many were read (0: empty).
///
/// # Minimum kernel version
///
/// 6.17.
#[doc(alias = "BPF_PROG_STREAM_READ_BY_FD")]
pub fn prog_stream_read(prog: impl AsFd, stream_id: u32, buf: &mut [u8]) -> Result<usize> {
    let mut attr = ProgStreamReadAttr {
        stream_buf_len: len_u32(buf.len())?,
        stream_buf: Pointer::from_mut_slice(buf),
        stream_id,
        prog_fd: raw_fd(&prog),
        _pad0: 0,
    };
    let n = bpf(Cmd::PROG_STREAM_READ_BY_FD, &mut attr)
        .map_err(Error::bpf(Cmd::PROG_STREAM_READ_BY_FD))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_start_size_and_attempts() {
        let default = LogOptions::default().start();
        assert_eq!(default, (LOG_INITIAL_SIZE, LOG_MAX_ATTEMPTS));
        // Below the kernel's minimum: raised; one more try per halving.
        let (size, attempts) = LogOptions {
            level: LogLevel::BRANCH,
            size: 1,
        }
        .start();
        assert_eq!(size, LOG_MIN_SIZE);
        assert_eq!(attempts, LOG_MAX_ATTEMPTS + 9);
        let big = LogOptions {
            level: LogLevel::BRANCH,
            size: 1 << 20,
        };
        assert_eq!(big.start(), (1 << 20, LOG_MAX_ATTEMPTS));
    }
}
