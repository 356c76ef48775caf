//! Candidate search (libbpf's `bpf_core_find_cands`/`bpf_core_add_cands`): target types
//! of a compatible kind whose essential name (flavour suffix `___x` stripped) equals the
//! local type's, in id order; the first target (vmlinux) first, the others (module BTF)
//! only when the first has none.

use super::compat::{essential_names_equal, kind_core_compat};
use super::error::CoreErrorKind;
use crate::spec::Spec;
use crate::types::TypeId;

/// A candidate target type: `targets[target]`'s type `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Index into the targets passed to the relocator (0 is vmlinux).
    pub target: usize,
    /// The candidate's id in that target.
    pub id: TypeId,
}

/// Finds the candidates for `local_id` among `targets`.
pub fn find_candidates(
    local: &Spec,
    local_id: TypeId,
    targets: &[&Spec],
) -> Result<Vec<Candidate>, CoreErrorKind> {
    let lt = local.type_by_id(local_id)?;
    let name = lt.name();
    if name.is_empty() {
        return Err(CoreErrorKind::AnonymousType);
    }
    let kind = lt.kind();
    let mut out = Vec::new();
    for (ti, targ) in targets.iter().enumerate() {
        if ti == 1 && !out.is_empty() {
            // vmlinux has candidates: modules are not searched.
            break;
        }
        // Modules are split BTF: only their own types count (vmlinux was searched first).
        let min = if ti == 0 { TypeId(1) } else { targ.first_id() };
        let start = out.len();
        for id in targ.types_by_essential_name(name) {
            if id < min {
                continue;
            }
            let t = targ.type_by_id(id)?;
            if !kind_core_compat(t.kind(), kind)
                || t.name().is_empty()
                || !essential_names_equal(name, t.name())
            {
                continue;
            }
            out.push(Candidate { target: ti, id });
        }
        out[start..].sort_unstable_by_key(|c| c.id);
        let mut prev = None;
        let mut k = start;
        for i in start..out.len() {
            if Some(out[i].id) != prev {
                prev = Some(out[i].id);
                out[k] = out[i];
                k += 1;
            }
        }
        out.truncate(k);
    }
    Ok(out)
}
