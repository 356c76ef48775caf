//! Feature probes: does the running kernel support a map type, a program
//! type, a helper in a program type, a link kind, a BTF kind, or one of a few
//! verifier and syscall features?
//!
//! Every probe asks the kernel directly (creates a tiny map, loads a tiny
//! program, ...), is run at most once per process and BPF token in effect
//! (`ebpf_syscall::token`; the result is cached, also
//! across capability changes), and returns:
//!
//! - `Ok(())`: supported;
//! - `Err(FeatureError::NotSupported(_))`: the kernel lacks it; the
//!   [`NotSupported`] names the feature and the first mainline kernel that has it;
//! - `Err(FeatureError::Probe { .. })`: the probe could not decide (no
//!   privileges, a kernel in lockdown refusing the program type, ...).
//!
//! Probes create kernel objects: on kernels before 5.11 raise `RLIMIT_MEMLOCK`
//! first (`ebpf_syscall::remove_memlock_rlimit`).
//!
//! ```no_run
//! use ebpf::features::{have_map_type, have_prog_helper, Helper, MapType, ProgramType};
//! if have_map_type(MapType::RINGBUF).is_ok() {
//!     // use a ring buffer, else fall back to a perf event array
//! }
//! have_prog_helper(ProgramType::XDP, Helper::XdpAdjustHead)?;
//! # Ok::<(), ebpf::features::FeatureError>(())
//! ```

mod btf;
mod isa;
mod link;
mod map;
mod misc;
mod prog;

use std::collections::HashMap;
use std::sync::Mutex;

pub use btf::{BtfKind, btf_kind_min_kernel, btf_sanitize_features, have_btf_kind};
pub use ebpf_asm::Helper;
pub use ebpf_syscall::{AttachType, Errno, KernelVersion, MapType, NotSupported, ProgramType};
pub use isa::{IsaVersion, have_attach_type, have_isa};
pub use link::{LinkKind, have_link_kind};
pub use map::have_map_type;
pub use misc::{
    have_atomics, have_bounded_loops, have_bpf_cookie, have_large_instructions, have_mmapable_maps,
    have_object_names, have_object_names_with_dots, have_syscall_wrapper, syscall_arch_prefix,
    syscall_function,
};
pub use prog::{have_prog_helper, have_prog_type, helper_min_kernel};

/// Why a probe did not report "supported".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// The running kernel lacks the feature (printed once; find it with
    /// [`FeatureError::not_supported`]).
    #[error(transparent)]
    NotSupported(#[from] NotSupported),
    /// The probe could not decide: the kernel answered with an error that does
    /// not mean "unknown feature" (`EPERM` without privileges or under
    /// lockdown, for instance).
    #[error("probing {feature}: {message}")]
    Probe {
        /// What was probed.
        feature: String,
        /// The kernel's error number, if it came from a system call.
        errno: Option<Errno>,
        /// The error, as text (the probe's error is cached, so it is kept as text).
        message: String,
    },
}

impl FeatureError {
    /// Whether this is [`FeatureError::NotSupported`].
    pub fn is_not_supported(&self) -> bool {
        matches!(self, Self::NotSupported(_))
    }

    /// The [`NotSupported`] this error is.
    pub fn not_supported(&self) -> Option<&NotSupported> {
        match self {
            Self::NotSupported(ns) => Some(ns),
            Self::Probe { .. } => None,
        }
    }

    /// The kernel's error number, for [`FeatureError::Probe`].
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Self::Probe { errno, .. } => *errno,
            Self::NotSupported(_) => None,
        }
    }

    pub(crate) fn probe(feature: impl Into<String>, err: &ebpf_syscall::Error) -> Self {
        Self::Probe {
            feature: feature.into(),
            errno: err.errno(),
            message: ebpf_syscall::ErrorChain(err).to_string(),
        }
    }

    pub(crate) fn missing(feature: impl Into<String>, min_kernel: KernelVersion) -> Self {
        Self::NotSupported(NotSupported::new(feature, min_kernel))
    }

    /// As [`missing`](Self::missing), for a feature that also needs kernel
    /// option `config`: the error names it when this kernel was built without it.
    pub(crate) fn missing_config(
        feature: impl Into<String>,
        min_kernel: KernelVersion,
        config: Option<&str>,
    ) -> Self {
        let ns = NotSupported::new(feature, min_kernel);
        Self::NotSupported(match config {
            Some(option) => ns.requires_config(option),
            None => ns,
        })
    }
}

/// The result of a probe.
pub type FeatureResult = Result<(), FeatureError>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Map(u32),
    Prog(u32),
    Helper(u32, u32),
    Link(LinkKind),
    Btf(BtfKind),
    Attach(u32),
    Misc(&'static str),
}

/// Results by probe and by the BPF token in effect (`ebpf_syscall::token`):
/// a process with a token sees what the token allows, as libbpf keeps a
/// feature cache per token.
static CACHE: Mutex<Option<HashMap<TokenKey, FeatureResult>>> = Mutex::new(None);

/// A probe, and the raw fd of the token in effect when it ran.
type TokenKey = (Key, Option<i32>);

/// Runs `probe` once per process (and token) for `key`. The lock is not held
/// while probing (probes call other probes); two threads racing on a new key
/// may both probe, with the same answer.
fn cached(key: Key, probe: impl FnOnce() -> FeatureResult) -> FeatureResult {
    let key = (key, ebpf_syscall::token::current());
    let lookup = |key: &TokenKey| {
        CACHE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|m| m.get(key).cloned())
    };
    if let Some(res) = lookup(&key) {
        return res;
    }
    let res = probe();
    CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_insert(res)
        .clone()
}

const fn v(major: u32, minor: u32) -> KernelVersion {
    KernelVersion::new(major, minor, 0)
}

/// Encodes a probe program with the ebpf-asm builder.
fn encode(insns: Vec<ebpf_asm::Instruction>) -> Vec<u8> {
    ebpf_asm::Instructions::from(insns)
        .marshal(ebpf_asm::Endianness::NATIVE)
        .unwrap_or_default()
}

/// `mov r0, 0; exit`.
fn trivial_program() -> Vec<u8> {
    encode(vec![
        ebpf_asm::mov64(ebpf_asm::Register::R0, 0),
        ebpf_asm::exit(),
    ])
}

/// A minimal BTF blob holding one 4-byte signed `int` (type id 1), used by
/// probes whose objects need BTF.
fn int_btf() -> Vec<u8> {
    btf::Blob::new().int("int", 4).build()
}

#[cfg(test)]
mod tests;
