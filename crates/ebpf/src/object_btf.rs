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

use ebpf_asm::Metadata;
use ebpf_btf::sanitize::Features;
use ebpf_btf::{Endian, ExtStrings, LineInfo, RawEdit, RawLineInfo, Spec};
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
    /// At the line info's own offsets: the object's string table was loaded as it is, and
    /// every line info of the programs to load was checked to name its strings there.
    Raw,
    /// At these offsets, by string.
    Added(HashMap<Box<str>, u32>),
}

impl LineStrings {
    /// The offsets of `line`'s file name and line (0, the empty string, for a string not
    /// added).
    pub fn offsets(&self, line: LineRef<'_>) -> (u32, u32) {
        match (self, line) {
            (Self::Raw, LineRef::Raw(r, _)) => (r.file_name_off, r.line_off),
            (Self::Raw, LineRef::Resolved(li)) => li.raw_offsets,
            (Self::Added(map), _) => {
                let (file, text) = line.strings();
                let get = |s: &str| map.get(s).copied().unwrap_or(0);
                (get(file), get(text))
            }
        }
    }
}

/// The line info of an instruction to load: as the object's `.BTF.ext` holds it (the
/// usual case, nothing read), or with its strings read (set by hand, or edited).
#[derive(Debug, Clone, Copy)]
pub(crate) enum LineRef<'a> {
    /// The record as parsed, and the string table its offsets point into.
    Raw(&'a RawLineInfo, &'a ExtStrings),
    /// A line info with its strings.
    Resolved(&'a LineInfo),
}

impl<'a> LineRef<'a> {
    /// The line info of the instruction with `metadata`, if it has one.
    pub fn of(metadata: &'a Metadata) -> Option<LineRef<'a>> {
        // Rows of `.BTF.ext` records with a line record answer with it and the string
        // table it was read from. A row without one may have a line info of the
        // instruction's own beside it.
        if let Some(strings) = metadata.get::<ExtStrings>() {
            if let Some(raw) = metadata.get::<RawLineInfo>() {
                return Some(LineRef::Raw(raw, strings));
            }
        }
        metadata.get::<LineInfo>().map(LineRef::Resolved)
    }

    /// `bpf_line_info.line_col`: the line number `<< 10` | the column.
    pub fn line_col(self) -> u32 {
        match self {
            LineRef::Raw(r, _) => r.line_col,
            LineRef::Resolved(li) => (li.line_num << 10) | (li.column & 0x3ff),
        }
    }

    /// The file name and the source line (empty for an offset not in the table, as
    /// [`RawLineInfo::resolve`] reads it).
    pub fn strings(self) -> (&'a str, &'a str) {
        match self {
            LineRef::Raw(r, s) => (
                s.get(r.file_name_off).unwrap_or(""),
                s.get(r.line_off).unwrap_or(""),
            ),
            LineRef::Resolved(li) => (&li.file_name, &li.line),
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
    lines: impl Iterator<Item = LineRef<'l>> + Clone,
    endian: Endian,
) -> Result<(Vec<u8>, LineStrings)> {
    if btf.endian() == endian && !ebpf_btf::sanitize::needs_sanitizing(btf, features)? {
        as_read(btf, lines)
    } else {
        sanitized(btf, features, lines, endian)
    }
}

/// Whether `btf`'s own table holds the strings of every one of `lines` at the
/// line's own offsets. A record kept raw is checked by its string table (once
/// per table, not per record): `btf` must hold that table's bytes.
fn holds_all<'l>(btf: &Spec, mut lines: impl Iterator<Item = LineRef<'l>>) -> bool {
    let mut held: Option<&ExtStrings> = None;
    let ok = |line: LineRef<'l>| match line {
        LineRef::Raw(_, strings) => {
            if held.is_some_and(|h| Arc::ptr_eq(&h.0, &strings.0)) {
                return true;
            }
            let yes = strings.held_by(btf);
            if yes {
                held = Some(strings);
            }
            yes
        }
        LineRef::Resolved(li) => {
            holds(btf, li.raw_offsets.0, &li.file_name) && holds(btf, li.raw_offsets.1, &li.line)
        }
    };
    lines.all(ok)
}

/// The offsets at which `add` put the strings of `lines` (each once).
fn add_strings<'l>(
    lines: impl Iterator<Item = LineRef<'l>>,
    mut add: impl FnMut(&str) -> u32,
) -> HashMap<Box<str>, u32> {
    let mut offsets = HashMap::new();
    for line in lines {
        let (file, text) = line.strings();
        for s in [file, text] {
            if !offsets.contains_key(s) {
                offsets.insert(s.into(), add(s));
            }
        }
    }
    offsets
}

/// `btf` as the object holds it, with the externs rewritten.
fn as_read<'l>(
    btf: &Spec,
    lines: impl Iterator<Item = LineRef<'l>> + Clone,
) -> Result<(Vec<u8>, LineStrings)> {
    let mut edit = RawEdit::new(btf);
    ebpf_btf::sanitize::externs_to_globals(&mut edit, ebpf_spec::KSYMS_SECTION);
    let strings = if holds_all(btf, lines.clone()) {
        LineStrings::Raw
    } else {
        // Line info not read from this BTF: its strings are added.
        LineStrings::Added(add_strings(lines, |s| edit.add_string(s)))
    };
    Ok((edit.marshal()?, strings))
}

/// `btf` sanitised for `features`, with the externs rewritten, in a string
/// table of its own.
fn sanitized<'l>(
    btf: &Spec,
    features: &Features,
    lines: impl Iterator<Item = LineRef<'l>>,
    endian: Endian,
) -> Result<(Vec<u8>, LineStrings)> {
    let mut builder = ebpf_btf::sanitize::sanitize(btf, features)?;
    ebpf_btf::sanitize::externs_to_globals(&mut builder, ebpf_spec::KSYMS_SECTION);
    let offsets = add_strings(lines, |s| builder.add_string(s));
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
    lines: impl Iterator<Item = LineRef<'l>> + Clone,
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
