//! The probes of an ELF executable or shared library: its `.note.stapsdt`
//! notes, as `<sys/sdt.h>` writes them, made into file offsets.
//!
//! Each note (owner `stapsdt`, type 3) holds three addresses (the probe's
//! `nop`, the `.stapsdt.base` section at link time, the semaphore or 0) and
//! three strings (provider, name, arguments). When the binary was prelinked,
//! `.stapsdt.base` moved but the notes did not: the difference is added to
//! the probe's address. Addresses become file offsets (what a uprobe takes)
//! through the `PT_LOAD` segment that holds them; the probe must lie in an
//! executable segment and its semaphore in a writable one.

use goblin::elf::program_header::{PF_X, PT_LOAD};
use goblin::elf::section_header::SHT_NOTE;
use goblin::elf::{Elf, header};

use super::arg::{UsdtArch, UsdtArg};
use crate::error::{Error, Result};

const NOTE_SECTION: &str = ".note.stapsdt";
const BASE_SECTION: &str = ".stapsdt.base";
const NOTE_OWNER: &[u8] = b"stapsdt";
const NOTE_TYPE: u32 = 3;

/// One USDT call site of a binary, from its `.note.stapsdt` note.
///
/// A probe (`provider:name`) may have many call sites (an inlined macro), each
/// with its own argument locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtProbe {
    /// The provider (`libc`, `python`, ...).
    pub provider: String,
    /// The probe's name (`setjmp`, `function__entry`, ...).
    pub name: String,
    /// The link-time address of the probe's `nop`, adjusted for prelinking.
    pub address: u64,
    /// The file offset of the `nop`: where the uprobe goes.
    pub offset: u64,
    /// The address of `.stapsdt.base` the note recorded.
    pub base: u64,
    /// The address of the probe's semaphore (0: none).
    pub semaphore: u64,
    /// The file offset of the semaphore (0: none): the uprobe's reference
    /// counter offset, which the kernel increments while a probe is attached.
    pub semaphore_offset: u64,
    /// The argument string, as written (`-4@$5 8@%rdi -4@-20(%rbp)`).
    pub arguments: String,
    /// The binary's architecture, which the argument string is written for.
    pub arch: UsdtArch,
}

impl UsdtProbe {
    /// The arguments, parsed for the binary's architecture.
    pub fn args(&self) -> Result<Vec<UsdtArg>> {
        super::arg::parse_args(self.arch, &self.arguments).map_err(|message| {
            Error::InvalidArgument(format!(
                "USDT {}:{} arguments '{}': {message}",
                self.provider, self.name, self.arguments
            ))
        })
    }
}

/// The notes of a binary and what attaching needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct UsdtNotes {
    /// Every call site, in note order.
    pub probes: Vec<UsdtProbe>,
    /// A shared object (`ET_DYN`: a library or a PIE executable), whose
    /// addresses are relative to where it is mapped.
    pub shared: bool,
}

/// A loadable segment: its addresses, file offset and whether it is executable.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: u64,
    end: u64,
    offset: u64,
    exec: bool,
}

fn elf_error(binary: &str, message: impl Into<String>) -> Error {
    Error::Elf {
        binary: binary.to_owned(),
        message: message.into(),
    }
}

/// Reads the USDT notes of ELF file `bytes` (named `binary` in errors).
pub(crate) fn parse(bytes: &[u8], binary: &str) -> Result<UsdtNotes> {
    let elf = Elf::parse(bytes).map_err(|e| elf_error(binary, e.to_string()))?;
    let shared = match elf.header.e_type {
        header::ET_EXEC => false,
        header::ET_DYN => true,
        t => {
            return Err(elf_error(
                binary,
                format!("ELF type {t} is neither an executable nor a shared object"),
            ));
        }
    };
    let arch = UsdtArch::from_machine(elf.header.e_machine);
    let little = elf.little_endian;
    let addr_size = if elf.is_64 { 8 } else { 4 };
    let section = |name: &str| {
        elf.section_headers
            .iter()
            .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(name))
    };
    let Some(notes) = section(NOTE_SECTION) else {
        return Ok(UsdtNotes {
            probes: Vec::new(),
            shared,
        });
    };
    if notes.sh_type != SHT_NOTE {
        return Err(elf_error(
            binary,
            format!("{NOTE_SECTION} is not a note section"),
        ));
    }
    let base_addr = section(BASE_SECTION).map_or(0, |sh| sh.sh_addr);
    let data = usize::try_from(notes.sh_offset)
        .ok()
        .zip(usize::try_from(notes.sh_size).ok())
        .and_then(|(off, size)| bytes.get(off..off.checked_add(size)?))
        .ok_or_else(|| elf_error(binary, format!("{NOTE_SECTION} lies outside the file")))?;
    let segments: Vec<Segment> = elf
        .program_headers
        .iter()
        .filter(|ph| ph.p_type == PT_LOAD)
        .map(|ph| Segment {
            start: ph.p_vaddr,
            end: ph.p_vaddr.saturating_add(ph.p_memsz),
            offset: ph.p_offset,
            exec: ph.p_flags & PF_X != 0,
        })
        .collect();
    let mut probes = Vec::new();
    for (i, note) in Notes::new(data, little).enumerate() {
        let (owner, kind, desc) =
            note.map_err(|m| elf_error(binary, format!("{NOTE_SECTION} note {i}: {m}")))?;
        if owner != NOTE_OWNER || kind != NOTE_TYPE {
            continue;
        }
        let raw = RawNote::parse(desc, addr_size, little)
            .map_err(|m| elf_error(binary, format!("{NOTE_SECTION} note {i}: {m}")))?;
        probes.push(
            raw.resolve(base_addr, &segments, arch).map_err(|m| {
                elf_error(binary, format!("USDT {}:{}: {m}", raw.provider, raw.name))
            })?,
        );
    }
    Ok(UsdtNotes { probes, shared })
}

/// The notes of a note section: (owner, type, description) each.
struct Notes<'a> {
    data: &'a [u8],
    little: bool,
}

impl<'a> Notes<'a> {
    fn new(data: &'a [u8], little: bool) -> Self {
        Notes { data, little }
    }
}

fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|n| n & !3)
}

fn read_u32(b: &[u8], little: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if little {
        u32::from_le_bytes(a)
    } else {
        u32::from_be_bytes(a)
    }
}

impl<'a> Iterator for Notes<'a> {
    type Item = core::result::Result<(&'a [u8], u32, &'a [u8]), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.len() < 12 {
            return None;
        }
        let namesz = read_u32(&self.data[0..], self.little) as usize;
        let descsz = read_u32(&self.data[4..], self.little) as usize;
        let kind = read_u32(&self.data[8..], self.little);
        let name_end = 12usize.checked_add(namesz);
        let desc_start = name_end.and_then(align4);
        let desc_end = desc_start.and_then(|s| s.checked_add(descsz));
        let (Some(name_end), Some(desc_start), Some(desc_end)) = (name_end, desc_start, desc_end)
        else {
            self.data = &[];
            return Some(Err("sizes overflow".into()));
        };
        if desc_end > self.data.len() {
            self.data = &[];
            return Some(Err(format!(
                "name of {namesz} and description of {descsz} bytes run past the section"
            )));
        }
        let owner = &self.data[12..name_end];
        let owner = owner.strip_suffix(b"\0").unwrap_or(owner);
        let desc = &self.data[desc_start..desc_end];
        let next = align4(desc_end).unwrap_or(usize::MAX).min(self.data.len());
        self.data = &self.data[next..];
        Some(Ok((owner, kind, desc)))
    }
}

/// A `stapsdt` note's description, unresolved.
#[derive(Debug)]
struct RawNote {
    location: u64,
    base: u64,
    semaphore: u64,
    provider: String,
    name: String,
    arguments: String,
}

impl RawNote {
    fn parse(desc: &[u8], addr_size: usize, little: bool) -> core::result::Result<Self, String> {
        if desc.len() < 3 * addr_size + 3 {
            return Err(format!("description of {} bytes is too short", desc.len()));
        }
        let addr = |i: usize| {
            let b = &desc[i * addr_size..(i + 1) * addr_size];
            if addr_size == 4 {
                u64::from(read_u32(b, little))
            } else {
                let a = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
                if little {
                    u64::from_le_bytes(a)
                } else {
                    u64::from_be_bytes(a)
                }
            }
        };
        // provider\0name\0arguments\0
        let mut rest = &desc[3 * addr_size..];
        let mut next = |what: &str| {
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| format!("the {what} is not NUL-terminated"))?;
            let s = String::from_utf8_lossy(&rest[..end]).into_owned();
            rest = &rest[end + 1..];
            Ok::<_, String>(s)
        };
        let provider = next("provider")?;
        let name = next("name")?;
        if name.is_empty() {
            return Err("empty probe name".into());
        }
        let arguments = next("argument string")?;
        // An empty argument string, or one that starts with ':', means none.
        let arguments = if arguments.starts_with(':') {
            String::new()
        } else {
            arguments
        };
        Ok(RawNote {
            location: addr(0),
            base: addr(1),
            semaphore: addr(2),
            provider,
            name,
            arguments,
        })
    }

    fn resolve(
        &self,
        base_addr: u64,
        segments: &[Segment],
        arch: UsdtArch,
    ) -> core::result::Result<UsdtProbe, String> {
        let mut address = self.location;
        if base_addr != 0 && self.base != 0 {
            // Prelinked: the section moved, the note did not.
            address = address.wrapping_add(base_addr.wrapping_sub(self.base));
        }
        let find = |addr: u64| segments.iter().find(|s| s.start <= addr && addr < s.end);
        let seg = find(address)
            .ok_or_else(|| format!("no loadable segment holds the probe's address {address:#x}"))?;
        if !seg.exec {
            return Err(format!(
                "the probe's address {address:#x} lies in a segment that is not executable"
            ));
        }
        // A file offset past 2^64 comes from a corrupt program header.
        let file_offset = |addr: u64, seg: &Segment| {
            (addr - seg.start).checked_add(seg.offset).ok_or_else(|| {
                format!(
                    "the address {addr:#x} maps past the end of a file (segment offset {:#x})",
                    seg.offset
                )
            })
        };
        let offset = file_offset(address, seg)?;
        let semaphore_offset = if self.semaphore == 0 {
            0
        } else {
            let seg = find(self.semaphore).ok_or_else(|| {
                format!(
                    "no loadable segment holds the semaphore at {:#x}",
                    self.semaphore
                )
            })?;
            if seg.exec {
                return Err(format!(
                    "the semaphore at {:#x} lies in an executable segment",
                    self.semaphore
                ));
            }
            file_offset(self.semaphore, seg)?
        };
        Ok(UsdtProbe {
            provider: self.provider.clone(),
            name: self.name.clone(),
            address,
            offset,
            base: self.base,
            semaphore: self.semaphore,
            semaphore_offset,
            arguments: self.arguments.clone(),
            arch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(owner: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(owner.len() as u32 + 1).to_le_bytes());
        v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        v.extend_from_slice(&kind.to_le_bytes());
        v.extend_from_slice(owner);
        v.push(0);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v.extend_from_slice(desc);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn desc(loc: u64, base: u64, sema: u64, strings: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        for a in [loc, base, sema] {
            d.extend_from_slice(&a.to_le_bytes());
        }
        d.extend_from_slice(strings);
        d
    }

    #[test]
    fn reads_notes_and_skips_others() {
        let mut data = note(b"GNU", 1, &[1, 2, 3, 4]);
        data.extend(note(
            b"stapsdt",
            3,
            &desc(0x1010, 0x500, 0x2008, b"prov\0probe\0-4@$5 8@%rdi\0"),
        ));
        let notes: Vec<_> = Notes::new(&data, true).collect::<Result<_, _>>().unwrap();
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].0, b"GNU");
        let raw = RawNote::parse(notes[1].2, 8, true).unwrap();
        assert_eq!(
            (
                raw.provider.as_str(),
                raw.name.as_str(),
                raw.arguments.as_str()
            ),
            ("prov", "probe", "-4@$5 8@%rdi")
        );
        let segments = [
            Segment {
                start: 0x1000,
                end: 0x1100,
                offset: 0x400,
                exec: true,
            },
            Segment {
                start: 0x2000,
                end: 0x2100,
                offset: 0x800,
                exec: false,
            },
        ];
        // .stapsdt.base moved by 0x10 (prelink): so did the probe.
        let p = raw.resolve(0x510, &segments, UsdtArch::X86_64).unwrap();
        assert_eq!((p.address, p.offset), (0x1020, 0x420));
        assert_eq!((p.semaphore, p.semaphore_offset), (0x2008, 0x808));
        // A probe outside any executable segment is an error.
        assert!(
            raw.resolve(0x500 + 0x1000, &segments, UsdtArch::X86_64)
                .is_err()
        );
        // A segment whose file offset puts the probe past 2^64 (a corrupt program
        // header; found by the usdt fuzz target): an error, not an overflow.
        let mut far = segments;
        far[0].offset = u64::MAX - 0x10;
        assert!(raw.resolve(0x510, &far, UsdtArch::X86_64).is_err());
        far[0].offset = 0x400;
        far[1].offset = u64::MAX;
        assert!(raw.resolve(0x510, &far, UsdtArch::X86_64).is_err());
    }

    #[test]
    fn rejects_truncated_notes() {
        assert!(RawNote::parse(&desc(1, 2, 3, b"p\0n\0args"), 8, true).is_err());
        assert!(RawNote::parse(&desc(1, 2, 3, b"p\0\0\0"), 8, true).is_err());
        assert!(RawNote::parse(&[0; 20], 8, true).is_err());
        let raw = RawNote::parse(&desc(1, 2, 3, b"p\0n\0:x\0"), 8, true).unwrap();
        assert_eq!(raw.arguments, "");
        let mut bad = note(b"stapsdt", 3, b"xx");
        bad[4] = 200; // description size past the end
        assert!(Notes::new(&bad, true).next().unwrap().is_err());
    }
}
