//! `BPF_BTF_LOAD`: loading BTF into the kernel.
//!
//! ```no_run
//! use ebpf_syscall::{btf_load, BtfLoadAttr};
//! let blob: Vec<u8> = std::fs::read("types.btf")?;
//! let mut attr = BtfLoadAttr::default();
//! attr.set_btf(&blob)?;
//! let btf = btf_load(&attr)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::os::fd::OwnedFd;

use zerocopy::{FromZeros, Immutable, IntoBytes, KnownLayout};

use crate::map::len_u32;
use crate::prog::run_with_log;
use crate::sys::bpf_fd;
use crate::{Cmd, Errno, Error, LogLevel, Pointer, Result, VerifierLog};

/// The attr of `BPF_BTF_LOAD`.
#[derive(Debug, Clone, Copy, Default, IntoBytes, Immutable, KnownLayout, FromZeros)]
// `packed` only because zerocopy cannot prove a lifetime-generic struct free of
// padding; the layout (natural alignment, explicit padding) is checked by the layout tests.
#[repr(C, packed)]
pub struct BtfLoadAttr<'a> {
    pub(crate) btf: Pointer<'a>,
    pub(crate) btf_log_buf: Pointer<'a>,
    pub(crate) btf_size: u32,
    pub(crate) btf_log_size: u32,
    pub(crate) btf_log_level: u32,
    pub(crate) btf_log_true_size: u32,
    /// `BPF_F_TOKEN_FD` (6.9).
    pub btf_flags: u32,
    /// BPF token fd, with `BPF_F_TOKEN_FD` (6.9).
    pub btf_token_fd: i32,
}

impl<'a> BtfLoadAttr<'a> {
    /// Sets the raw BTF (header, types, strings).
    pub fn set_btf(&mut self, btf: &'a [u8]) -> Result<()> {
        self.btf_size = len_u32(btf.len())?;
        self.btf = Pointer::from_slice(btf);
        Ok(())
    }
}

fn load(attr: &mut BtfLoadAttr<'_>) -> Result<OwnedFd, Errno> {
    (attr.btf_token_fd, attr.btf_flags) = crate::token::apply(attr.btf_token_fd, attr.btf_flags);
    bpf_fd(Cmd::BTF_LOAD, attr)
}

/// `BPF_BTF_LOAD`: checks and loads BTF, returning the BTF object's fd.
///
/// Like [`prog_load`](crate::prog_load): without a log first, then with a
/// growing log whose text the [`Error::Load`] carries.
///
/// # Minimum kernel version
///
/// 4.18; each BTF kind has its own (see the `ebpf` crate's feature probes).
#[doc(alias = "BPF_BTF_LOAD")]
pub fn btf_load(attr: &BtfLoadAttr<'_>) -> Result<OwnedFd> {
    let mut plain = *attr;
    let errno = match load(&mut plain) {
        Ok(fd) => return Ok(fd),
        Err(e) => e,
    };
    if errno == Errno::PERM {
        return Err(Error::Bpf {
            cmd: Cmd::BTF_LOAD,
            errno,
        });
    }
    match btf_load_with_log(attr, LogLevel::BRANCH) {
        Ok((fd, _)) => Ok(fd),
        Err(Error::Load { cmd, log, .. }) => Err(Error::Load { cmd, errno, log }),
        Err(e) => Err(e),
    }
}

/// `BPF_BTF_LOAD` with a log of `level`, returned also on success.
///
/// # Minimum kernel version
///
/// 4.18; `btf_log_true_size` 6.4.
pub fn btf_load_with_log(
    attr: &BtfLoadAttr<'_>,
    level: LogLevel,
) -> Result<(OwnedFd, VerifierLog)> {
    run_with_log(Cmd::BTF_LOAD, |buf| {
        let mut with_log = *attr;
        with_log.btf_log_level = level.bits();
        with_log.btf_log_size = len_u32(buf.len())?;
        with_log.btf_log_buf = Pointer::from_mut_slice(buf);
        let res = load(&mut with_log);
        Ok((res, with_log.btf_log_true_size))
    })
}
