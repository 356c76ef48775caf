//! The error every kernel-facing layer returns when the running kernel lacks a feature.

use crate::KernelVersion;

/// The running kernel does not support `feature`, which appeared in `min_kernel`.
///
/// Every layer above this crate wraps or re-exports this type, so callers can
/// match on it (and tests can turn it into a skip). It is returned only when a
/// probe or the kernel's answer shows the feature is missing, never for a
/// refusal by policy (EPERM under lockdown, say), which is a distinct error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{feature} is not supported by the running kernel (requires Linux {min_kernel} or later)")]
pub struct NotSupported {
    /// What is missing, e.g. `"BPF_MAP_TYPE_RINGBUF"` or `"bpf_link for XDP"`.
    pub feature: String,
    /// The first mainline kernel that has the feature.
    pub min_kernel: KernelVersion,
}

impl NotSupported {
    /// A `NotSupported` error for `feature`, which needs Linux `min_kernel`.
    pub fn new(feature: impl Into<String>, min_kernel: KernelVersion) -> Self {
        Self {
            feature: feature.into(),
            min_kernel,
        }
    }
}
