//! The running kernel's build configuration (`CONFIG_*`), read once per process
//! from `/boot/config-$(uname -r)`, else `/proc/config.gz`.
//!
//! The loader fills `.kconfig` externs from it, and probes use it to tell a
//! feature the kernel was built without from one that is newer than the kernel.
//!
//! ```no_run
//! use ebpf_syscall::KernelConfig;
//! let config = KernelConfig::current()?;
//! println!("BPF JIT: {:?}", config.get("CONFIG_BPF_JIT"));
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use crate::{Error, Result};

/// Where the compressed configuration of the running kernel lives (`CONFIG_IKCONFIG_PROC`).
const PROC_CONFIG_GZ: &str = "/proc/config.gz";

/// The largest configuration accepted: real ones are 100 to 300 KiB.
const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// A kernel configuration: `CONFIG_X` → its raw value (`y`, `m`, `250`,
/// `"a string"` with its quotes). Options that are "not set" are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelConfig {
    values: HashMap<String, String>,
}

impl KernelConfig {
    /// Parses the text of a `.config` file.
    pub fn parse(text: &str) -> Self {
        let values = text
            .lines()
            .filter(|l| l.starts_with("CONFIG_"))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
            .collect();
        Self { values }
    }

    /// Reads the running kernel's configuration, uncached.
    pub fn read() -> Result<Self> {
        let release = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        let boot = format!("/boot/config-{release}");
        if let Ok(text) = std::fs::read_to_string(&boot) {
            return Ok(Self::parse(&text));
        }
        let file = std::fs::File::open(PROC_CONFIG_GZ)
            .map_err(Error::io(format!("read {boot} or {PROC_CONFIG_GZ}")))?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .take(MAX_CONFIG_BYTES)
            .read_to_string(&mut text)
            .map_err(Error::io(format!("decompress {PROC_CONFIG_GZ}")))?;
        Ok(Self::parse(&text))
    }

    /// The running kernel's configuration, read on first use and kept for the
    /// life of the process (a failed read is remembered too).
    pub fn current() -> Result<&'static Self> {
        static CURRENT: OnceLock<core::result::Result<KernelConfig, (String, std::io::ErrorKind)>> =
            OnceLock::new();
        match CURRENT.get_or_init(|| {
            Self::read().map_err(|e| match e {
                Error::Io { what, source } => (what, source.kind()),
                other => (other.to_string(), std::io::ErrorKind::Other),
            })
        }) {
            Ok(config) => Ok(config),
            Err((what, kind)) => Err(Error::Io {
                what: what.clone(),
                source: std::io::Error::from(*kind),
            }),
        }
    }

    /// The raw value of `option` (`CONFIG_...`), if it is set.
    pub fn get(&self, option: &str) -> Option<&str> {
        self.values.get(option).map(String::as_str)
    }

    /// Whether `option` is built in or a module (`y` or `m`).
    pub fn is_enabled(&self, option: &str) -> bool {
        matches!(self.get(option), Some("y" | "m"))
    }

    /// All options that are set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_config() {
        let c = KernelConfig::parse(
            "# comment\nCONFIG_HZ=250\nCONFIG_BPF=y\nCONFIG_M=m\n# CONFIG_X is not set\nCONFIG_S=\"a b\"\n",
        );
        assert_eq!(c.get("CONFIG_HZ"), Some("250"));
        assert_eq!(c.get("CONFIG_S"), Some("\"a b\""));
        assert!(c.is_enabled("CONFIG_BPF") && c.is_enabled("CONFIG_M"));
        assert!(!c.is_enabled("CONFIG_X") && !c.is_enabled("CONFIG_HZ"));
        assert_eq!(c.get("CONFIG_X"), None);
    }
}
