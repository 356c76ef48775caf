//! An object's BTF in the kernel (`BPF_BTF_LOAD`): sanitised for the running
//! kernel, externs rewritten as the kernel wants them, and the strings of the
//! programs' line info added.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use ebpf_btf::Spec;
use ebpf_btf::sanitize::Features;
use ebpf_syscall as sys;
use ebpf_syscall::{Errno, LogLevel};

use crate::error::{Error, Result};

/// BTF loaded into the kernel, with the offsets of the strings added to it.
#[derive(Debug)]
pub(crate) struct LoadedBtf {
    /// The kernel's BTF object.
    pub fd: OwnedFd,
    /// Offsets of the added strings (line info file names and lines).
    pub strings: HashMap<Arc<str>, u32>,
}

/// Sanitises `btf` for a kernel with `features`, adds `strings` and loads it.
/// A refusal comes back with the BTF checker's log.
pub(crate) fn load(
    btf: &Spec,
    features: &Features,
    strings: impl Iterator<Item = Arc<str>>,
) -> Result<LoadedBtf> {
    let mut builder = ebpf_btf::sanitize::sanitize(btf, features)?;
    ebpf_btf::sanitize::externs_to_globals(&mut builder, ebpf_spec::KSYMS_SECTION);
    let mut offsets = HashMap::new();
    for s in strings {
        offsets
            .entry(s)
            .or_insert_with_key(|s| builder.add_string(s));
    }
    let bytes = builder.into_marshalled(ebpf_btf::MarshalOptions::default())?;
    let mut attr = sys::BtfLoadAttr::default();
    attr.set_btf(&bytes)?;
    crate::memlock::raise_once();
    match sys::btf_load(&attr) {
        Ok(fd) => Ok(LoadedBtf {
            fd,
            strings: offsets,
        }),
        Err(e) if e.errno() == Some(Errno::PERM) => Err(Error::PermissionDenied {
            what: "BPF_BTF_LOAD".into(),
            errno: Errno::PERM,
            hint: ebpf_syscall::eperm_hint(None),
        }),
        Err(_) => {
            // Again with the BTF checker's log, for the error.
            let (fd, _) = sys::btf_load_with_log(&attr, LogLevel::BRANCH)?;
            Ok(LoadedBtf {
                fd,
                strings: offsets,
            })
        }
    }
}

/// Loads `btf` sanitised for the running kernel, with no strings added.
pub(crate) fn load_for_kernel(btf: &Spec) -> Result<OwnedFd> {
    let features = crate::features::btf_sanitize_features();
    load(btf, &features, std::iter::empty()).map(|b| b.fd)
}
