//! Reading and checking a `.BTF.ext` section into [`RawExtInfo`]: the header, then each
//! info block's records per section, every type id, kind, string and accessor checked
//! against the object's [`Spec`], nothing allocated per record.

use std::collections::BTreeMap;

use zerocopy::FromBytes;
use zerocopy::byteorder::{ByteOrder, U32};

use super::{CoreReloKind, FuncInfo, RawCoreRelo, RawExtInfo, RawExtSection, RawLineInfo, WHAT};
use crate::bits::Bits;
use crate::error::{Error, Result};
use crate::raw;
use crate::spec::Spec;
use crate::types::{Kind, TypeId};

struct Ctx<'a> {
    spec: &'a Spec,
    /// The offsets (from [`Spec::string_base`]) already found to be valid strings, and
    /// valid accessors: records repeat file names and lines, and relocations accessors.
    valid: Bits,
    valid_access: Bits,
    /// The file name offset of the last line info checked: consecutive records are mostly
    /// in one file.
    last_file: Option<u32>,
    /// This spec's own string table when all of it is UTF-8 (checked once, at a few bytes
    /// per instruction): then a string is checked by whether its offset starts a
    /// character, and one returned needs only its NUL found and its own bytes converted.
    utf8: Option<&'a [u8]>,
    /// The length of the own string table when it is all ASCII and the spec is not split:
    /// then every offset below it starts a string. Found with `utf8`, in the same pass.
    ascii_len: Option<u32>,
}

impl<'a> Ctx<'a> {
    /// A context for `spec`, its own string table checked once: for ASCII, which most
    /// tables are and which is UTF-8 too, else for UTF-8.
    fn new(spec: &'a Spec) -> Ctx<'a> {
        let table = spec.strings().as_bytes();
        let ascii = table.is_ascii();
        let utf8 = (ascii || std::str::from_utf8(table).is_ok()).then_some(table);
        let ascii_len = (ascii && spec.string_base() == 0)
            .then(|| u32::try_from(table.len()).ok())
            .flatten();
        Ctx {
            spec,
            valid: Bits::new(table.len()),
            valid_access: Bits::new(table.len()),
            last_file: None,
            utf8,
            ascii_len,
        }
    }
}

impl<'a> Ctx<'a> {
    /// The string at `off`, checked (in the table, valid UTF-8) and borrowed: nothing is
    /// allocated.
    fn string(&self, section: &str, field: &'static str, off: u32) -> Result<&'a str> {
        // What string_at gives when it succeeds; any doubt goes to string_at for its error.
        if let (Some(t), Some(rel)) = (self.utf8, off.checked_sub(self.spec.string_base())) {
            let rest = t.get(rel as usize..).unwrap_or_default();
            if let Some(end) = crate::strings::nul_position(rest) {
                // A string of an all-UTF-8 table that starts a character is UTF-8.
                if let Ok(s) = std::str::from_utf8(&rest[..end]) {
                    return Ok(s);
                }
            }
        }
        self.spec.string_at(off).map_err(|e| Error::BadExt {
            section: section.into(),
            field,
            reason: e.to_string(),
        })
    }

    /// Checks the string at `off` like [`Ctx::string`], once per offset.
    #[inline]
    fn check(&mut self, section: &str, field: &'static str, off: u32) -> Result<()> {
        // In an all-UTF-8 table that ends with NUL (checked with the header), an offset
        // inside it that starts a character starts a valid string: no need to find its end.
        // (Inlined: a line info checks one or two strings, and this is all of it.)
        if let (Some(t), Some(rel)) = (self.utf8, off.checked_sub(self.spec.string_base())) {
            if crate::strings::starts_char(t, rel as usize) {
                return Ok(());
            }
        }
        self.check_slow(section, field, off)
    }

    /// [`Ctx::check`] for a table that is not all UTF-8, or an offset outside it.
    #[inline(never)]
    fn check_slow(&mut self, section: &str, field: &'static str, off: u32) -> Result<()> {
        let rel = off.wrapping_sub(self.spec.string_base());
        if !self.valid.contains(rel) {
            self.string(section, field, off)?;
            self.valid.insert(rel);
        }
        Ok(())
    }
}

pub(super) fn parse_impl<O: ByteOrder>(b: &[u8], spec: &Spec) -> Result<RawExtInfo> {
    let (h, _) = raw::btf_ext_header::<O>::ref_from_prefix(b).map_err(|_| Error::Truncated {
        what: WHAT,
        offset: 0,
        need: 24,
        have: b.len(),
    })?;
    if h.version != raw::BTF_VERSION {
        return Err(Error::BadVersion {
            what: WHAT,
            version: h.version,
        });
    }
    let hdr_len = h.hdr_len.get() as usize;
    if hdr_len < 24 || hdr_len > b.len() {
        return Err(Error::BadHeader {
            what: WHAT,
            field: "hdr_len",
            value: hdr_len as u64,
        });
    }
    let mut info = RawExtInfo::default();
    let body = &b[hdr_len..];
    let sub = |field: &'static str, off: u32, len: u32| -> Result<&[u8]> {
        let end = (off as usize).checked_add(len as usize);
        match end {
            Some(e) if e <= body.len() => Ok(&body[off as usize..e]),
            _ => Err(Error::BadHeader {
                what: WHAT,
                field,
                value: u64::from(off) + u64::from(len),
            }),
        }
    };
    let fi = sub(
        "func_info_off",
        h.func_info_off.get(),
        h.func_info_len.get(),
    )?;
    let li = sub(
        "line_info_off",
        h.line_info_off.get(),
        h.line_info_len.get(),
    )?;
    let cr = if hdr_len >= 32 {
        let (c, _) = raw::btf_ext_header_core::<O>::ref_from_prefix(&b[24..]).map_err(|_| {
            Error::Truncated {
                what: WHAT,
                offset: 24,
                need: 8,
                have: b.len() - 24,
            }
        })?;
        sub(
            "core_relo_off",
            c.core_relo_off.get(),
            c.core_relo_len.get(),
        )?
    } else {
        &[]
    };

    let mut ctx = Ctx::new(spec);
    let secs = &mut info.sections;
    walk::<O, _>(
        fi,
        "func_info",
        8,
        &mut ctx,
        secs,
        |_: &mut Ctx<'_>, sec: &str, out: &mut RawExtSection, recs: Records<'_>| {
            for rec in recs.iter() {
                let (r, _) = raw::bpf_func_info::<O>::ref_from_prefix(rec)
                    .map_err(|_| trunc("func_info"))?;
                let id = TypeId(r.type_id.get());
                match spec.kind_of(id) {
                    Ok(Kind::Func) => {}
                    _ => {
                        return Err(Error::BadExt {
                            section: format!("func_info {sec}"),
                            field: "type_id",
                            reason: format!("type {id} is not a func"),
                        });
                    }
                }
                out.func_info.push(FuncInfo {
                    insn_off: r.insn_off.get(),
                    type_id: id,
                });
            }
            Ok(())
        },
    )?;
    walk::<O, _>(
        li,
        "line_info",
        16,
        &mut ctx,
        secs,
        |ctx: &mut Ctx<'_>, sec: &str, out: &mut RawExtSection, recs: Records<'_>| {
            let line_info = |rec| {
                raw::bpf_line_info::<O>::ref_from_prefix(rec)
                    .map(|(r, _)| r)
                    .map_err(|_| trunc("line_info"))
            };
            // Records of exactly the struct's size (what compilers write), as one slice;
            // longer ones (a newer format's extra fields) are read one by one.
            let exact = <[raw::bpf_line_info<O>]>::ref_from_bytes(recs.bytes)
                .ok()
                .filter(|_| recs.size == size_of::<raw::bpf_line_info<O>>());
            // A block of more than a few (which pays for finding whether the table is
            // ASCII) whose every offset is inside an all-ASCII table is all valid: checked
            // with two maxima, in a loop without branches.
            let fast = exact
                .filter(|all| all.len() >= MANY_LINES)
                .is_some_and(|all| {
                    ctx.ascii_len.is_some_and(|len| {
                        let (mut files, mut lines) = (0u32, 0u32);
                        for r in all {
                            files = files.max(r.file_name_off.get());
                            lines = lines.max(r.line_off.get());
                        }
                        files < len && lines < len
                    })
                });
            // Otherwise the strings one by one (finding the first bad one), then the
            // records copied in one go (a section has thousands: the loop stays small).
            if !fast {
                for rec in recs.iter() {
                    let r = line_info(rec)?;
                    let fo = r.file_name_off.get();
                    if ctx.last_file != Some(fo) {
                        ctx.check(sec, "file_name_off", fo)?;
                        ctx.last_file = Some(fo);
                    }
                    ctx.check(sec, "line_off", r.line_off.get())?;
                }
            }
            let raw = |r: &raw::bpf_line_info<O>| RawLineInfo {
                insn_off: r.insn_off.get(),
                file_name_off: r.file_name_off.get(),
                line_off: r.line_off.get(),
                line_col: r.line_col.get(),
            };
            match exact {
                Some(all) => out.line_info.extend(all.iter().map(raw)),
                None => {
                    for rec in recs.iter() {
                        out.line_info.push(raw(line_info(rec)?));
                    }
                }
            }
            Ok(())
        },
    )?;
    walk::<O, _>(
        cr,
        "core_relo",
        16,
        &mut ctx,
        secs,
        |ctx: &mut Ctx<'_>, sec: &str, out: &mut RawExtSection, recs: Records<'_>| {
            for rec in recs.iter() {
                let (r, _) = raw::bpf_core_relo::<O>::ref_from_prefix(rec)
                    .map_err(|_| trunc("core_relo"))?;
                let id = TypeId(r.type_id.get());
                let err = |field, reason: String| Error::BadExt {
                    section: format!("core_relo {sec}"),
                    field,
                    reason,
                };
                spec.kind_of(id)
                    .map_err(|e| err("type_id", e.to_string()))?;
                let kind = CoreReloKind::from_raw(r.kind.get())
                    .ok_or_else(|| err("kind", format!("unknown kind {}", r.kind.get())))?;
                let access_str_off = r.access_str_off.get();
                let rel = access_str_off.wrapping_sub(spec.string_base());
                if !ctx.valid_access.contains(rel) {
                    if !is_accessor_at(spec, access_str_off) {
                        // Not a string (that error), or not an accessor.
                        let access = ctx.string(sec, "access_str_off", access_str_off)?;
                        return Err(err(
                            "access_str_off",
                            format!("invalid accessor {access:?}"),
                        ));
                    }
                    ctx.valid_access.insert(rel);
                }
                out.core_relos.push(RawCoreRelo {
                    insn_off: r.insn_off.get(),
                    type_id: id,
                    access_str_off,
                    kind,
                });
            }
            Ok(())
        },
    )?;
    // Compilers write each list sorted: checked in one pass, sorted only when it is not.
    fn sort<T>(v: &mut [T], key: impl Fn(&T) -> u32) {
        if !v.is_sorted_by_key(&key) {
            v.sort_by_key(key);
        }
    }
    for s in info.sections.values_mut() {
        sort(&mut s.func_info, |r| r.insn_off);
        sort(&mut s.line_info, |r| r.insn_off);
        sort(&mut s.core_relos, |r| r.insn_off);
    }
    Ok(info)
}

/// Whether the own string table of `spec` holds an accessor at `off`: digits and colons up
/// to a NUL, at least one (so a valid string too), read in one pass over its bytes.
fn is_accessor_at(spec: &Spec, off: u32) -> bool {
    let Some(rel) = off.checked_sub(spec.string_base()) else {
        return false;
    };
    let rest = spec
        .strings()
        .as_bytes()
        .get(rel as usize..)
        .unwrap_or_default();
    let n = rest
        .iter()
        .position(|&c| !(c.is_ascii_digit() || c == b':'))
        .unwrap_or(rest.len());
    n > 0 && rest.get(n) == Some(&0)
}

/// A line info block at least this long is checked by its maxima when it can be.
const MANY_LINES: usize = 32;

fn trunc(what: &str) -> Error {
    Error::BadExt {
        section: what.into(),
        field: "rec_size",
        reason: "record truncated".into(),
    }
}

/// The records of one section in one info block: `size` bytes each (at least the
/// struct's), `bytes` a whole number of them.
#[derive(Clone, Copy)]
struct Records<'b> {
    bytes: &'b [u8],
    size: usize,
}

impl<'b> Records<'b> {
    fn iter(self) -> std::slice::ChunksExact<'b, u8> {
        self.bytes.chunks_exact(self.size)
    }
}

/// Walks one info block: `rec_size`, then `{sec_name_off, num_info, records...}*`; `f`
/// handles the records of one section (named by the `&str`), adding them to that section's
/// [`RawExtSection`] (generic, so each block's handler is inlined).
fn walk<'a, O: ByteOrder, F>(
    data: &[u8],
    what: &'static str,
    min_rec: usize,
    ctx: &mut Ctx<'a>,
    sections: &mut BTreeMap<String, RawExtSection>,
    mut f: F,
) -> Result<()>
where
    F: FnMut(&mut Ctx<'a>, &str, &mut RawExtSection, Records<'_>) -> Result<()>,
{
    if data.is_empty() {
        return Ok(());
    }
    let bad = |field: &'static str, reason: String| Error::BadExt {
        section: what.into(),
        field,
        reason,
    };
    let (rs, mut rest) =
        U32::<O>::ref_from_prefix(data).map_err(|_| bad("rec_size", "truncated".into()))?;
    let rec_size = rs.get() as usize;
    if rec_size < min_rec || rec_size % 4 != 0 || rec_size > 1024 {
        return Err(bad("rec_size", format!("invalid record size {rec_size}")));
    }
    while !rest.is_empty() {
        let (sec, r) = raw::btf_ext_info_sec::<O>::ref_from_prefix(rest)
            .map_err(|_| bad("sec", "truncated".into()))?;
        let name = ctx.string(what, "sec_name_off", sec.sec_name_off.get())?;
        if name.is_empty() {
            return Err(bad("sec_name_off", "empty section name".into()));
        }
        let n = sec.num_info.get() as usize;
        if n == 0 {
            return Err(bad("num_info", format!("{name}: zero records")));
        }
        let total = n
            .checked_mul(rec_size)
            .filter(|&t| t <= r.len())
            .ok_or_else(|| {
                bad(
                    "num_info",
                    format!(
                        "{name}: {n} records of {rec_size} bytes exceed the {} remaining",
                        r.len()
                    ),
                )
            })?;
        // The section's entry is found once per block, not once per record.
        let out = match sections.get_mut(name) {
            Some(out) => out,
            None => sections.entry(name.to_string()).or_default(),
        };
        match what {
            "func_info" => out.func_info.reserve(n),
            "line_info" => out.line_info.reserve(n),
            _ => out.core_relos.reserve(n),
        }
        let recs = Records {
            bytes: r.get(..total).unwrap_or_default(),
            size: rec_size,
        };
        f(ctx, name, out, recs)?;
        rest = &r[total..];
    }
    Ok(())
}
