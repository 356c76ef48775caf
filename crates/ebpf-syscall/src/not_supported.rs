//! The error every kernel-facing layer returns when the running kernel lacks a feature.

use core::fmt;

use crate::{KernelConfig, KernelVersion};

/// The running kernel does not support `feature`, which appeared in `min_kernel`.
///
/// Every layer above this crate wraps or re-exports this type, so callers can
/// match on it (and tests can turn it into a skip). It is returned only when a
/// probe or the kernel's answer shows the feature is missing, never for a
/// refusal by policy (EPERM under lockdown, say), which is a distinct error.
///
/// When the running kernel is new enough but was built without the option the
/// feature needs, [`missing_config`](Self::missing_config) names that option
/// and the message says so instead of naming a kernel version:
///
/// ```
/// use ebpf_syscall::{KernelVersion, NotSupported};
/// let e = NotSupported::new("BPF_MAP_TYPE_RINGBUF", KernelVersion::new(5, 8, 0));
/// assert_eq!(
///     e.to_string(),
///     "BPF_MAP_TYPE_RINGBUF is not supported by the running kernel (requires Linux 5.8 or later)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NotSupported {
    /// What is missing, e.g. `"BPF_MAP_TYPE_RINGBUF"` or `"bpf_link for XDP"`.
    pub feature: String,
    /// The first mainline kernel that has the feature.
    pub min_kernel: KernelVersion,
    /// The kernel option (`CONFIG_FPROBE`, ...) the running kernel was built
    /// without, when its configuration shows that to be the cause.
    pub missing_config: Option<String>,
}

impl NotSupported {
    /// A `NotSupported` error for `feature`, which needs Linux `min_kernel`.
    pub fn new(feature: impl Into<String>, min_kernel: KernelVersion) -> Self {
        Self {
            feature: feature.into(),
            min_kernel,
            missing_config: None,
        }
    }

    /// Records that the feature also needs kernel option `option`: when the
    /// running kernel's configuration can be read and does not enable it, the
    /// error names the option as the cause.
    pub fn requires_config(self, option: &str) -> Self {
        match KernelConfig::current() {
            Ok(config) => self.requires_config_in(option, config),
            Err(_) => self,
        }
    }

    /// As [`requires_config`](Self::requires_config), against `config`.
    pub fn requires_config_in(mut self, option: &str, config: &KernelConfig) -> Self {
        if !config.is_enabled(option) {
            self.missing_config = Some(option.to_owned());
        }
        self
    }
}

impl fmt::Display for NotSupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not supported by the running kernel ",
            self.feature
        )?;
        match &self.missing_config {
            Some(option) => write!(f, "(built without {option})"),
            None => write!(f, "(requires Linux {} or later)", self.min_kernel),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_missing_option() {
        let config = KernelConfig::parse("CONFIG_BPF=y\n# CONFIG_FPROBE is not set\n");
        let v = KernelVersion::new(5, 18, 0);
        let e = NotSupported::new("bpf_link for kprobe_multi", v)
            .requires_config_in("CONFIG_FPROBE", &config);
        assert_eq!(e.missing_config.as_deref(), Some("CONFIG_FPROBE"));
        assert_eq!(
            e.to_string(),
            "bpf_link for kprobe_multi is not supported by the running kernel (built without CONFIG_FPROBE)"
        );
        let e = NotSupported::new("x", v).requires_config_in("CONFIG_BPF", &config);
        assert_eq!(e.missing_config, None);
    }
}
