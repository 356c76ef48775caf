//! An object's BTF in the kernel (`BPF_BTF_LOAD`): sanitised for the running
//! kernel, externs rewritten as the kernel wants them, and the strings of the
//! programs' line info added.
//!
//! When the kernel lacks nothing the object's BTF uses, the BTF is loaded as
//! the object holds it ([`RawEdit`]), as libbpf does: the records copied, only
//! those changed at open or here re-encoded, the string table kept, so the line
//! info's own string offsets are those of the loaded BTF. Otherwise every type
//! is copied into a [`Builder`](ebpf_btf::Builder), sanitised and encoded anew,
//! with a string table of its own.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use ebpf_btf::sanitize::Features;
use ebpf_btf::{Endian, LineInfo, RawEdit, Spec};
use ebpf_syscall as sys;
use ebpf_syscall::{Errno, LogLevel};

use crate::error::{Error, Result};

/// BTF loaded into the kernel, with where the line info's strings are in it.
#[derive(Debug)]
pub(crate) struct LoadedBtf {
    /// The kernel's BTF object.
    pub fd: OwnedFd,
    /// Where the line info's file names and lines are.
    pub strings: LineStrings,
}

/// Where the strings of line info are in the loaded BTF's string table.
#[derive(Debug)]
pub(crate) enum LineStrings {
    /// At the line info's own offsets ([`LineInfo::raw_offsets`]): the object's
    /// string table was loaded as it is, and every line info of the programs
    /// to load was checked to name its strings there.
    Raw,
    /// At these offsets, by string.
    Added(HashMap<Arc<str>, u32>),
}

impl LineStrings {
    /// The offsets of `li`'s file name and line (0, the empty string, for a
    /// string not added).
    pub fn offsets(&self, li: &LineInfo) -> (u32, u32) {
        match self {
            Self::Raw => li.raw_offsets,
            Self::Added(map) => {
                let get = |s: &Arc<str>| map.get(s).copied().unwrap_or(0);
                (get(&li.file_name), get(&li.line))
            }
        }
    }
}

/// Whether the string at `off` of `btf`'s own table is `s` (compared in
/// place: no scan for its end, no UTF-8 check).
fn holds(btf: &Spec, off: u32, s: &str) -> bool {
    off.checked_sub(btf.string_base())
        .is_some_and(|rel| btf.strings().holds(rel, s))
}

/// The bytes of `btf` to load into a kernel with `features`, holding the
/// strings of `lines`, and where those are. `endian` is the byte order of
/// the bytes when they are encoded anew (the object's when loaded as it is).
pub(crate) fn to_load<'l>(
    btf: &Spec,
    features: &Features,
    lines: impl Iterator<Item = &'l LineInfo> + Clone,
    endian: Endian,
) -> Result<(Vec<u8>, LineStrings)> {
    if btf.endian() == endian && !ebpf_btf::sanitize::needs_sanitizing(btf, features)? {
        as_read(btf, lines)
    } else {
        sanitized(btf, features, lines, endian)
    }
}

/// `btf` as the object holds it, with the externs rewritten.
fn as_read<'l>(
    btf: &Spec,
    lines: impl Iterator<Item = &'l LineInfo> + Clone,
) -> Result<(Vec<u8>, LineStrings)> {
    let mut edit = RawEdit::new(btf);
    ebpf_btf::sanitize::externs_to_globals(&mut edit, ebpf_spec::KSYMS_SECTION);
    let raw_ok = lines.clone().all(|li| {
        holds(btf, li.raw_offsets.0, &li.file_name) && holds(btf, li.raw_offsets.1, &li.line)
    });
    let strings = if raw_ok {
        LineStrings::Raw
    } else {
        // Line info not read from this BTF: its strings are added.
        let mut offsets = HashMap::new();
        for s in lines.flat_map(|li| [&li.file_name, &li.line]) {
            if !offsets.contains_key(s) {
                offsets.insert(s.clone(), edit.add_string(s));
            }
        }
        LineStrings::Added(offsets)
    };
    Ok((edit.marshal()?, strings))
}

/// `btf` sanitised for `features`, with the externs rewritten, in a string
/// table of its own.
fn sanitized<'l>(
    btf: &Spec,
    features: &Features,
    lines: impl Iterator<Item = &'l LineInfo>,
    endian: Endian,
) -> Result<(Vec<u8>, LineStrings)> {
    let mut builder = ebpf_btf::sanitize::sanitize(btf, features)?;
    ebpf_btf::sanitize::externs_to_globals(&mut builder, ebpf_spec::KSYMS_SECTION);
    let mut offsets = HashMap::new();
    for s in lines.flat_map(|li| [&li.file_name, &li.line]) {
        if !offsets.contains_key(s) {
            offsets.insert(s.clone(), builder.add_string(s));
        }
    }
    let opts = ebpf_btf::MarshalOptions {
        endian: Some(endian),
    };
    Ok((builder.into_marshalled(opts)?, LineStrings::Added(offsets)))
}

/// Sanitises `btf` for a kernel with `features`, adds the strings of `lines`
/// and loads it. A refusal comes back with the BTF checker's log.
pub(crate) fn load<'l>(
    btf: &Spec,
    features: &Features,
    lines: impl Iterator<Item = &'l LineInfo> + Clone,
) -> Result<LoadedBtf> {
    let (bytes, strings) = to_load(btf, features, lines, Endian::native())?;
    let mut attr = sys::BtfLoadAttr::default();
    attr.set_btf(&bytes)?;
    crate::memlock::raise_once();
    match sys::btf_load(&attr) {
        Ok(fd) => Ok(LoadedBtf { fd, strings }),
        Err(e) if e.errno() == Some(Errno::PERM) => Err(Error::PermissionDenied {
            what: "BPF_BTF_LOAD".into(),
            errno: Errno::PERM,
            hint: ebpf_syscall::eperm_hint(None),
        }),
        Err(_) => {
            // Again with the BTF checker's log, for the error.
            let (fd, _) = sys::btf_load_with_log(&attr, LogLevel::BRANCH)?;
            Ok(LoadedBtf { fd, strings })
        }
    }
}

/// Loads `btf` sanitised for the running kernel, with no strings added.
pub(crate) fn load_for_kernel(btf: &Spec) -> Result<OwnedFd> {
    let features = crate::features::btf_sanitize_features();
    load(btf, &features, std::iter::empty()).map(|b| b.fd)
}

#[cfg(test)]
mod tests;
