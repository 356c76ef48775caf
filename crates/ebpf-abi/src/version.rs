//! Kernel versions: what a minimum kernel is written in.

use core::fmt;
use core::str::FromStr;

/// A kernel version `major.minor.patch`, ordered numerically.
///
/// The minimum kernel of a feature (see [`MapType::min_kernel`](crate::MapType::min_kernel)),
/// and what `ebpf_syscall::running_kernel()` reads from `uname(2)`.
///
/// ```
/// use ebpf_abi::KernelVersion;
/// let v: KernelVersion = "6.1.0-13-amd64".parse().unwrap();
/// assert_eq!(v, KernelVersion::new(6, 1, 0));
/// assert!(v > KernelVersion::new(5, 10, 200));
/// assert_eq!(v.to_string(), "6.1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    /// The major number (`6` in `6.1.12`).
    pub major: u32,
    /// The minor number (`1` in `6.1.12`).
    pub minor: u32,
    /// The patch level (`12` in `6.1.12`), saturated at 255 like the kernel's `KERNEL_VERSION`.
    pub patch: u32,
}

impl KernelVersion {
    /// A version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// The encoding of `LINUX_VERSION_CODE` / `KERNEL_VERSION(a, b, c)`.
    pub const fn code(self) -> u32 {
        let patch = if self.patch > 255 { 255 } else { self.patch };
        (self.major << 16) | (self.minor << 8) | patch
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// A kernel release string that does not start with `major.minor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKernelVersionError {
    /// The string that was given.
    pub release: String,
}

impl fmt::Display for ParseKernelVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel release '{}' is not of the form major.minor[.patch]",
            self.release
        )
    }
}

impl std::error::Error for ParseKernelVersionError {}

impl FromStr for KernelVersion {
    type Err = ParseKernelVersionError;

    /// Parses a release string; distribution suffixes (`-fc-v769`, `+deb12`) are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseKernelVersionError {
            release: s.to_owned(),
        };
        let mut parts = s.split('.').map(|p| {
            let end = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
            p[..end].parse::<u32>().ok()
        });
        let major = parts.next().flatten().ok_or_else(err)?;
        let minor = parts.next().flatten().ok_or_else(err)?;
        let patch = parts.next().flatten().unwrap_or(0);
        Ok(Self::new(major, minor, patch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_strings() {
        assert_eq!(
            "6.18.44-fc-v769".parse::<KernelVersion>(),
            Ok(KernelVersion::new(6, 18, 44))
        );
        assert_eq!(
            "5.4".parse::<KernelVersion>(),
            Ok(KernelVersion::new(5, 4, 0))
        );
        assert_eq!(
            "6.1.0-13-amd64".parse::<KernelVersion>(),
            Ok(KernelVersion::new(6, 1, 0))
        );
        assert!("linux".parse::<KernelVersion>().is_err());
        assert!("6".parse::<KernelVersion>().is_err());
        assert_eq!(
            "x".parse::<KernelVersion>().unwrap_err().to_string(),
            "kernel release 'x' is not of the form major.minor[.patch]"
        );
    }

    #[test]
    fn orders_numerically() {
        assert!(KernelVersion::new(5, 10, 0) > KernelVersion::new(5, 9, 200));
        assert_eq!(KernelVersion::new(6, 1, 300).code(), 0x0601ff);
    }
}
