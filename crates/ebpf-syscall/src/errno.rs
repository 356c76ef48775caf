//! Error numbers returned by the kernel.

use core::fmt;

/// An error number (`errno`) returned by a system call.
///
/// A newtype rather than an enum: the kernel can return any value, including
/// kernel-internal ones such as [`Errno::ENOTSUPP`].
///
/// ```
/// use ebpf_syscall::Errno;
/// assert_eq!(Errno::INVAL.to_string(), "Invalid argument (EINVAL)");
/// assert_eq!(Errno::ENOTSUPP.name(), Some("ENOTSUPP"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($(#[$m:meta])* $konst:ident = $libc:ident, $name:literal;)*) => {
        impl Errno {
            $(
                $(#[$m])*
                #[doc = concat!("`", $name, "`.")]
                #[doc(alias = $name)]
                pub const $konst: Self = Self(nix::libc::$libc);
            )*
        }

        fn known_name(v: i32) -> Option<&'static str> {
            match v {
                $(nix::libc::$libc => Some($name),)*
                _ => None,
            }
        }
    };
}

errnos! {
    PERM = EPERM, "EPERM";
    NOENT = ENOENT, "ENOENT";
    SRCH = ESRCH, "ESRCH";
    INTR = EINTR, "EINTR";
    IO = EIO, "EIO";
    NXIO = ENXIO, "ENXIO";
    TOOBIG = E2BIG, "E2BIG";
    BADF = EBADF, "EBADF";
    AGAIN = EAGAIN, "EAGAIN";
    NOMEM = ENOMEM, "ENOMEM";
    ACCES = EACCES, "EACCES";
    FAULT = EFAULT, "EFAULT";
    BUSY = EBUSY, "EBUSY";
    EXIST = EEXIST, "EEXIST";
    XDEV = EXDEV, "EXDEV";
    NODEV = ENODEV, "ENODEV";
    NOTDIR = ENOTDIR, "ENOTDIR";
    INVAL = EINVAL, "EINVAL";
    MFILE = EMFILE, "EMFILE";
    NOTTY = ENOTTY, "ENOTTY";
    FBIG = EFBIG, "EFBIG";
    NOSPC = ENOSPC, "ENOSPC";
    RANGE = ERANGE, "ERANGE";
    NAMETOOLONG = ENAMETOOLONG, "ENAMETOOLONG";
    NOSYS = ENOSYS, "ENOSYS";
    LOOP = ELOOP, "ELOOP";
    NOLINK = ENOLINK, "ENOLINK";
    PROTO = EPROTO, "EPROTO";
    BADMSG = EBADMSG, "EBADMSG";
    OVERFLOW = EOVERFLOW, "EOVERFLOW";
    NOTSOCK = ENOTSOCK, "ENOTSOCK";
    OPNOTSUPP = EOPNOTSUPP, "EOPNOTSUPP";
    AFNOSUPPORT = EAFNOSUPPORT, "EAFNOSUPPORT";
    ADDRINUSE = EADDRINUSE, "EADDRINUSE";
    NOBUFS = ENOBUFS, "ENOBUFS";
    ALREADY = EALREADY, "EALREADY";
    INPROGRESS = EINPROGRESS, "EINPROGRESS";
    STALE = ESTALE, "ESTALE";
    DQUOT = EDQUOT, "EDQUOT";
    CANCELED = ECANCELED, "ECANCELED";
    KEYREJECTED = EKEYREJECTED, "EKEYREJECTED";
}

impl Errno {
    /// `ENOTSUPP` (524): a kernel-internal code (`include/linux/errno.h`, not
    /// in the uapi headers, so libc does not define it) meant for NFS, which
    /// nevertheless leaks out of `bpf()` from many places (verifier helper
    /// checks, offload, some map and link types). It means "not supported"
    /// just like `EOPNOTSUPP` and must be treated as such.
    pub const ENOTSUPP: Self = Self(524);

    /// The value of `errno` after a failed call in this thread.
    pub fn last() -> Self {
        Self(nix::errno::Errno::last_raw())
    }

    /// The symbolic name (`"EINVAL"`), if known.
    pub fn name(self) -> Option<&'static str> {
        if self == Self::ENOTSUPP {
            return Some("ENOTSUPP");
        }
        known_name(self.0)
    }

    /// The C library's description (`"Invalid argument"`).
    pub fn description(self) -> &'static str {
        if self == Self::ENOTSUPP {
            return "Operation not supported (kernel-internal)";
        }
        nix::errno::Errno::from_raw(self.0).desc()
    }

    /// Whether this is one of the codes the kernel uses for "this feature or
    /// combination is not supported" (`EOPNOTSUPP`, `ENOTSUPP`).
    pub fn is_not_supported(self) -> bool {
        self == Self::OPNOTSUPP || self == Self::ENOTSUPP
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{} ({n})", self.description()),
            None => write!(f, "{} (errno {})", self.description(), self.0),
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl From<nix::errno::Errno> for Errno {
    fn from(e: nix::errno::Errno) -> Self {
        Self(e as i32)
    }
}

impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        std::io::Error::from_raw_os_error(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display() {
        assert_eq!(Errno::PERM.0, 1);
        assert_eq!(Errno::PERM.name(), Some("EPERM"));
        assert_eq!(format!("{:?}", Errno::NOENT), "ENOENT");
        assert_eq!(Errno::ENOTSUPP.0, 524);
        assert!(Errno::ENOTSUPP.is_not_supported());
        assert_eq!(Errno(9999).name(), None);
        assert!(Errno(9999).to_string().contains("9999"));
    }
}
