//! A bpffs with BPF token delegation, made with the new mount API
//! (`fsopen`, `fsconfig`, `fsmount`).
//!
//! The kernel takes delegation options only from a privileged process (with
//! `CAP_SYS_ADMIN` in the initial user namespace), for a bpffs whose context
//! was opened inside the user namespace that will use it. So it takes two:
//!
//! 1. a process of the user namespace (with its own mount namespace) opens a
//!    bpffs context: [`open_context`], and hands the fd to
//! 2. a privileged process, which sets the options and makes the mount:
//!    [`delegate`], and hands the mount fd back; tokens are created from it
//!    (`Token::create`).
//!
//! ```no_run
//! use ebpf_syscall::bpffs::{self, Delegation};
//! # fn send(_: &std::os::fd::OwnedFd) {}
//! // In the user namespace:
//! let context = bpffs::open_context()?;
//! // ... passed to the privileged side (SCM_RIGHTS), which runs:
//! let mount = bpffs::delegate(&context, &Delegation::any())?;
//! # send(&mount);
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```
//!
//! # Safety
//!
//! `fsopen`, `fsconfig` and `fsmount` read NUL-terminated strings (the file
//! system name, the option's key and value), which are `CStr`s borrowed for
//! the call, and return new fds (owned by the caller, `O_CLOEXEC` asked for)
//! or 0.
//!
//! # Minimum kernel version
//!
//! 6.9 (delegation options; the mount API is 5.2).
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use crate::{Errno, Error, Result};

const FSOPEN_CLOEXEC: u32 = 1;
const FSMOUNT_CLOEXEC: u32 = 1;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;

/// The delegation options of a bpffs: each `"any"`, or a colon-separated
/// list of names (`"map_create:prog_load"`, `"array:hash"`, `"xdp:socket_filter"`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delegation {
    /// `delegate_cmds`: bpf commands (`map_create`, `prog_load`, `btf_load`, ...).
    pub cmds: String,
    /// `delegate_maps`: map types.
    pub maps: String,
    /// `delegate_progs`: program types.
    pub progs: String,
    /// `delegate_attachs`: attach types.
    pub attachs: String,
}

impl Delegation {
    /// Everything delegated.
    pub fn any() -> Delegation {
        Delegation {
            cmds: "any".into(),
            maps: "any".into(),
            progs: "any".into(),
            attachs: "any".into(),
        }
    }
}

fn fd_result(call: &'static str, ret: nix::libc::c_long) -> Result<OwnedFd> {
    if ret < 0 {
        return Err(Error::Syscall {
            call,
            errno: Errno::last(),
        });
    }
    let fd = i32::try_from(ret).map_err(|_| Error::Syscall {
        call,
        errno: Errno::INVAL,
    })?;
    // SAFETY: a non-negative return of fsopen/fsmount is a new fd the caller
    // owns (opened with the CLOEXEC flag).
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fsopen("bpf")`: a bpffs context in the calling process's user and mount
/// namespaces.
///
/// # Minimum kernel version
///
/// 5.2; in a user namespace 6.9.
pub fn open_context() -> Result<OwnedFd> {
    let name = c"bpf";
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    let ret = unsafe { nix::libc::syscall(nix::libc::SYS_fsopen, name.as_ptr(), FSOPEN_CLOEXEC) };
    fd_result("fsopen(\"bpf\")", ret)
}

fn set_string(fs: &impl AsFd, key: &CStr, value: &CStr) -> Result<()> {
    // SAFETY: `key` and `value` are NUL-terminated strings that outlive the
    // call; `aux` is unused for FSCONFIG_SET_STRING.
    let ret = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_fsconfig,
            fs.as_fd().as_raw_fd(),
            FSCONFIG_SET_STRING,
            key.as_ptr(),
            value.as_ptr(),
            0,
        )
    };
    if ret < 0 {
        return Err(Error::Syscall {
            call: "fsconfig(FSCONFIG_SET_STRING)",
            errno: Errno::last(),
        });
    }
    Ok(())
}

/// Sets `delegation` on bpffs context `fs` (from [`open_context`]), creates
/// the file system and returns it as a detached mount (`fsmount`), from which
/// tokens are created. Needs `CAP_SYS_ADMIN` in the initial user namespace.
///
/// # Minimum kernel version
///
/// 6.9.
pub fn delegate(fs: &impl AsFd, delegation: &Delegation) -> Result<OwnedFd> {
    for (key, value) in [
        (c"delegate_cmds", &delegation.cmds),
        (c"delegate_maps", &delegation.maps),
        (c"delegate_progs", &delegation.progs),
        (c"delegate_attachs", &delegation.attachs),
    ] {
        if value.is_empty() {
            continue;
        }
        let v = CString::new(value.as_str())
            .map_err(|_| Error::InvalidArgument(format!("{key:?} value contains a NUL byte")))?;
        set_string(fs, key, &v).map_err(|e| match e {
            Error::Syscall { errno, .. } => Error::Io {
                what: format!("fsconfig {}={value}", key.to_string_lossy()),
                source: std::io::Error::from_raw_os_error(errno.0),
            },
            other => other,
        })?;
    }
    // SAFETY: FSCONFIG_CMD_CREATE takes no key, value or aux.
    let ret = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_fsconfig,
            fs.as_fd().as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            core::ptr::null::<u8>(),
            core::ptr::null::<u8>(),
            0,
        )
    };
    if ret < 0 {
        return Err(Error::Syscall {
            call: "fsconfig(FSCONFIG_CMD_CREATE)",
            errno: Errno::last(),
        });
    }
    // SAFETY: fsmount takes the context fd and two flag words.
    let ret = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_fsmount,
            fs.as_fd().as_raw_fd(),
            FSMOUNT_CLOEXEC,
            0,
        )
    };
    fd_result("fsmount", ret)
}
