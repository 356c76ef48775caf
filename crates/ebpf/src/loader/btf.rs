//! Step 2: the object's BTF in the kernel, with libbpf's fallbacks.

use std::os::fd::{AsFd, BorrowedFd};

use ebpf_btf::sanitize::Features;

use super::plan::Plan;
use crate::error::{Error, Result};
use crate::object_btf::{self, LineRef, LoadedBtf};

/// The object's BTF as the kernel took it, or `None` when the object has no
/// BTF or the kernel refused it and nothing needs it.
#[derive(Debug)]
pub(super) struct ObjectBtf {
    loaded: Option<LoadedBtf>,
}

impl ObjectBtf {
    /// Sanitises the object's BTF for the probed kernel features and loads it.
    /// When the kernel refuses it, tries once more with every optional kind
    /// sanitised away; when that fails too and no map or program needs BTF,
    /// goes on without it (`log::warn!` says why), as libbpf does.
    pub fn load(plan: &Plan<'_>) -> Result<ObjectBtf> {
        let Some(btf) = plan.spec.btf.as_deref() else {
            return Ok(ObjectBtf { loaded: None });
        };
        let strings = || line_infos(plan);
        let probed = crate::features::btf_sanitize_features();
        let first = match object_btf::load(btf, &probed, strings()) {
            Ok(b) => return Ok(ObjectBtf { loaded: Some(b) }),
            Err(e) if e.is_permission_denied() => {
                return Err(Error::context("load object BTF")(e));
            }
            Err(e) => e,
        };
        // Func info needs FUNC types: keep what the kernel has of those.
        let minimal = Features {
            func: probed.func,
            func_global: probed.func_global,
            ..Features::for_kernel_version(4, 18)
        };
        if minimal != probed {
            if let Ok(b) = object_btf::load(btf, &minimal, strings()) {
                log::warn!(
                    "the kernel refused the object's BTF ({first}); loaded it with every optional BTF kind sanitised"
                );
                return Ok(ObjectBtf { loaded: Some(b) });
            }
        }
        if plan.needs_btf() {
            return Err(Error::context(
                "load object BTF (struct_ops and freplace programs need it)",
            )(first));
        }
        log::warn!("the kernel refused the object's BTF; loading without it: {first}");
        Ok(ObjectBtf { loaded: None })
    }

    /// The loaded BTF's fd.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.loaded.as_ref().map(|b| b.fd.as_fd())
    }

    /// The loaded BTF, for programs' func and line info.
    pub fn loaded(&self) -> Option<&LoadedBtf> {
        self.loaded.as_ref()
    }
}

/// Every program's line info: the loaded BTF must hold its file names and
/// lines for the kernel to take it.
fn line_infos<'p>(plan: &'p Plan<'_>) -> impl Iterator<Item = LineRef<'p>> + Clone + 'p {
    plan.programs
        .iter()
        .flat_map(|name| plan.spec.programs[name].instructions.iter())
        .filter_map(|ins| LineRef::of(&ins.metadata))
}
