//! The ELF container: sections, symbols and relocations of a relocatable eBPF object, read
//! with goblin and checked against the file's bounds, in either byte order.
//!
//! Everything here is crate-private plumbing; [`crate::CollectionSpec::from_elf`] is the
//! entry point. The constants name the ELF values this crate cares about.
//!
//! ```
//! // A file that is not ELF at all is a typed error, never a panic.
//! assert!(ebpf_spec::CollectionSpec::from_elf(b"\x7fELF").is_err());
//! ```

use std::borrow::Cow;
use std::ops::Range;

use ebpf_asm::Endianness;
use goblin::container::{Container, Ctx, Endian};
use goblin::elf::{Elf, RelocSection, SectionHeader, Symtab};

use crate::error::{Error, Result};

/// The section of subprograms shared by every program: a C file's functions
/// without a `SEC(...)`.
pub(crate) const TEXT_SECTION: &str = ".text";

/// `EM_BPF`.
pub(crate) const EM_BPF: u16 = 247;
/// `ET_REL`.
const ET_REL: u16 = 1;

pub(crate) const SHT_PROGBITS: u32 = 1;
pub(crate) const SHT_NOBITS: u32 = 8;
const SHT_SYMTAB: u32 = 2;
const SHT_REL: u32 = 9;
const SHT_RELA: u32 = 4;
pub(crate) const SHF_EXECINSTR: u64 = 0x4;

pub(crate) const STT_NOTYPE: u8 = 0;
pub(crate) const STT_OBJECT: u8 = 1;
pub(crate) const STT_FUNC: u8 = 2;
pub(crate) const STT_SECTION: u8 = 3;
pub(crate) const STB_LOCAL: u8 = 0;
pub(crate) const STB_GLOBAL: u8 = 1;
pub(crate) const STB_WEAK: u8 = 2;
pub(crate) const STV_DEFAULT: u8 = 0;
pub(crate) const SHN_UNDEF: usize = 0;
/// First reserved section index (`SHN_LORESERVE`): absolute, common, xindex.
const SHN_LORESERVE: usize = 0xff00;
/// `SHN_XINDEX`: the real index is elsewhere (for `e_shstrndx`: the null section's `sh_link`).
const SHN_XINDEX: usize = 0xffff;

/// `R_BPF_NONE`.
pub(crate) const R_BPF_NONE: u32 = 0;
/// `R_BPF_64_64`: `ld_imm64` of a map, global data, function or extern.
pub(crate) const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_ABS64`: a 64-bit data pointer (`.maps` values, struct_ops).
pub(crate) const R_BPF_64_ABS64: u32 = 2;
/// `R_BPF_64_ABS32`: 32-bit data (DWARF/BTF only).
pub(crate) const R_BPF_64_ABS32: u32 = 3;
/// `R_BPF_64_NODYLD32`: 32-bit data in `.BTF`/`.BTF.ext` (ignored).
pub(crate) const R_BPF_64_NODYLD32: u32 = 4;
/// `R_BPF_64_32`: a call's immediate (bpf-to-bpf and kfunc calls).
pub(crate) const R_BPF_64_32: u32 = 10;

/// One section header with its bytes.
#[derive(Debug, Clone)]
pub(crate) struct Section<'a> {
    /// Index in the section header table.
    pub index: usize,
    /// The name (from `.shstrtab`).
    pub name: &'a str,
    /// `sh_type`.
    pub kind: u32,
    /// `sh_flags`.
    pub flags: u64,
    /// The contents; empty for `SHT_NOBITS`.
    pub data: &'a [u8],
    /// `sh_size` (the size of a `.bss` too).
    pub size: u64,
    /// Its relocation sections in [`ElfFile::relocs`] (see [`ElfFile::relocs_for`]).
    relocs: Range<usize>,
}

impl Section<'_> {
    /// Whether this holds instructions.
    pub fn is_program(&self) -> bool {
        self.kind == SHT_PROGBITS && self.flags & SHF_EXECINSTR != 0
    }
}

/// One symbol table entry.
#[derive(Debug, Clone)]
pub(crate) struct Symbol<'a> {
    /// Index in `.symtab`.
    pub index: usize,
    /// The name (empty for section symbols, which take their section's name here).
    pub name: &'a str,
    /// `STT_*`.
    pub kind: u8,
    /// `STB_*`.
    pub bind: u8,
    /// `STV_*`.
    pub visibility: u8,
    /// `st_shndx`.
    pub section: usize,
    /// `st_value`: the byte offset in its section.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
}

/// One relocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reloc {
    /// Index in its relocation section.
    pub index: usize,
    /// `r_offset`: byte offset in the target section.
    pub offset: u64,
    /// Symbol index.
    pub symbol: usize,
    /// `R_BPF_*`.
    pub kind: u32,
    /// The addend of a `SHT_RELA` entry (0 for `SHT_REL`).
    pub addend: i64,
}

/// A function symbol's place, with the name [`ElfFile::function_name`] gives it.
#[derive(Debug)]
struct Function<'a> {
    /// `st_shndx`.
    section: usize,
    /// `st_value`.
    value: u64,
    /// The first symbol at this place.
    symbol: usize,
    /// The symbol's name, or `name@0xOFFSET` (see [`ElfFile::function_name`]).
    name: Cow<'a, str>,
}

/// A parsed object.
#[derive(Debug)]
pub(crate) struct ElfFile<'a> {
    /// The byte order of the object.
    pub order: Endianness,
    /// Sections by index (index 0 is the null section).
    pub sections: Vec<Section<'a>>,
    /// Symbols by index.
    pub symbols: Vec<Symbol<'a>>,
    /// The symbols other than `STT_SECTION` ones, sorted by (section, offset, index): each
    /// section's are a run (see [`ElfFile::symbols_in`]).
    by_place: Vec<Symbol<'a>>,
    /// The relocation sections of the sections that can need them, checked and read in
    /// place, sorted by target section (each section's [`Section::relocs`] is its run), in
    /// file order within a section.
    relocs: Vec<RelocSection<'a>>,
    /// The `STT_FUNC` places, sorted by (section, offset).
    functions: Vec<Function<'a>>,
}

/// A string table, checked as UTF-8 once; names are borrowed from it.
#[derive(Clone, Copy, Default)]
struct Strings<'a>(&'a str);

impl<'a> Strings<'a> {
    /// The string table in section header `sh`; `what` names it in errors.
    fn read(bytes: &'a [u8], sh: &SectionHeader, what: &str) -> Result<Self> {
        sh.check_size(bytes.len()).map_err(elf_err)?;
        let data = usize::try_from(sh.sh_offset)
            .ok()
            .zip(usize::try_from(sh.sh_size).ok())
            .and_then(|(start, size)| bytes.get(start..start.checked_add(size)?))
            .ok_or_else(|| {
                Error::Elf(format!(
                    "{what}: string table at offset {} size {} past end of file",
                    sh.sh_offset, sh.sh_size
                ))
            })?;
        match std::str::from_utf8(data) {
            Ok(s) => Ok(Strings(s)),
            Err(e) => Err(Error::Elf(format!(
                "{what}: invalid utf-8 at byte {} of the string table",
                e.valid_up_to()
            ))),
        }
    }

    /// The NUL-terminated string at byte `offset` (empty when out of range or not at a
    /// character boundary).
    fn get(self, offset: usize) -> &'a str {
        let s = self.0.get(offset..).unwrap_or("");
        // Names are short: a plain scan beats `memchr`'s setup.
        let end = s.bytes().position(|b| b == 0).unwrap_or(s.len());
        &s[..end]
    }
}

/// The string table `index` names (`SHN_XINDEX`: the one in the null section's `sh_link`);
/// none when out of range.
fn string_table<'a>(
    bytes: &'a [u8],
    headers: &[SectionHeader],
    mut index: usize,
    what: &str,
) -> Result<Strings<'a>> {
    if index == SHN_XINDEX {
        let Some(null) = headers.first() else {
            return Ok(Strings::default());
        };
        index = null.sh_link as usize;
    }
    match headers.get(index) {
        Some(sh) => Strings::read(bytes, sh, what),
        None => Ok(Strings::default()),
    }
}

/// The function places of `by_place` (symbols sorted by section, offset and index), the
/// first symbol at each, with the names [`ElfFile::function_name`] gives them.
fn function_names<'a>(by_place: &[Symbol<'a>]) -> Vec<Function<'a>> {
    let mut first: Vec<&Symbol<'a>> = Vec::with_capacity(by_place.len());
    for s in by_place.iter().filter(|s| s.kind == STT_FUNC) {
        if first
            .last()
            .is_none_or(|f| (f.section, f.value) != (s.section, s.value))
        {
            first.push(s);
        }
    }
    // The names of static functions that share them with another function.
    let mut shared: Vec<&str> = Vec::new();
    if first.iter().any(|s| s.bind == STB_LOCAL) {
        let mut names: Vec<&str> = first.iter().map(|s| s.name).collect();
        names.sort_unstable();
        shared = names
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        shared.dedup();
    }
    first
        .into_iter()
        .map(|s| Function {
            section: s.section,
            value: s.value,
            symbol: s.index,
            name: if s.bind == STB_LOCAL && shared.binary_search(&s.name).is_ok() {
                Cow::Owned(format!("{}@{:#x}", s.name, s.value))
            } else {
                Cow::Borrowed(s.name)
            },
        })
        .collect()
}

fn elf_err(e: goblin::error::Error) -> Error {
    Error::Elf(e.to_string().to_lowercase())
}

impl<'a> ElfFile<'a> {
    /// Parses and bounds-checks `bytes`.
    ///
    /// Only what an object needs is read (goblin's lazy API): the section headers, the
    /// symbol table and the relocation sections; the program headers and any dynamic or
    /// symbol version sections, which a relocatable object has no use for, are not.
    ///
    /// `relocs_used` says which sections' relocations are kept: those of the others are
    /// only checked.
    pub fn parse(
        bytes: &'a [u8],
        relocs_used: impl Fn(&Section<'_>) -> bool,
    ) -> Result<ElfFile<'a>> {
        // Said plainly, rather than goblin's "invalid magic number: 0x...".
        if !bytes.starts_with(b"\x7fELF") {
            return Err(Error::Elf("not an ELF file".into()));
        }
        let elf = Elf::lazy_parse(Elf::parse_header(bytes).map_err(elf_err)?).map_err(elf_err)?;
        if elf.header.e_type != ET_REL {
            return Err(Error::NotBpf {
                reason: format!("elf type {} is not ET_REL", elf.header.e_type),
            });
        }
        if elf.header.e_machine != 0 && elf.header.e_machine != EM_BPF {
            return Err(Error::NotBpf {
                reason: format!("machine {} is not EM_BPF", elf.header.e_machine),
            });
        }
        if !elf.is_64 {
            return Err(Error::NotBpf {
                reason: "32-bit elf class".into(),
            });
        }
        let order = if elf.little_endian {
            Endianness::Little
        } else {
            Endianness::Big
        };
        let ctx = Ctx::new(
            Container::Big,
            if elf.little_endian {
                Endian::Little
            } else {
                Endian::Big
            },
        );
        let headers = section_headers(
            bytes,
            elf.header.e_shoff as usize,
            usize::from(elf.header.e_shnum),
            ctx,
        )?;
        let shstrtab = string_table(
            bytes,
            &headers,
            usize::from(elf.header.e_shstrndx),
            "section names",
        )?;

        let mut sections = Vec::with_capacity(headers.len());
        for (index, sh) in headers.iter().enumerate() {
            let name = shstrtab.get(sh.sh_name);
            let data: &[u8] = if sh.sh_type == SHT_NOBITS || index == 0 {
                &[]
            } else {
                let start = usize::try_from(sh.sh_offset).ok();
                let end = start
                    .zip(usize::try_from(sh.sh_size).ok())
                    .and_then(|(s, n)| s.checked_add(n));
                match (start, end) {
                    (Some(s), Some(e)) if e <= bytes.len() => &bytes[s..e],
                    _ => {
                        return Err(Error::SectionOutOfBounds {
                            section: name.to_owned(),
                            offset: sh.sh_offset,
                            size: sh.sh_size,
                            len: bytes.len(),
                        });
                    }
                }
            };
            sections.push(Section {
                index,
                name,
                kind: sh.sh_type,
                flags: sh.sh_flags,
                data,
                size: sh.sh_size,
                relocs: 0..0,
            });
        }

        let symbols = read_symbols(bytes, &headers, &sections, ctx)?;
        let relocs = read_relocs(bytes, &headers, &mut sections, ctx, relocs_used)?;
        let mut by_place: Vec<Symbol<'a>> = Vec::with_capacity(symbols.len());
        by_place.extend(symbols.iter().filter(|s| s.kind != STT_SECTION).cloned());
        by_place.sort_unstable_by_key(|s| (s.section, s.value, s.index));
        let functions = function_names(&by_place);
        Ok(ElfFile {
            order,
            sections,
            symbols,
            by_place,
            relocs,
            functions,
        })
    }

    /// The section called `name`, if any.
    pub fn section_by_name(&self, name: &str) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The section with index `index`, if it is a real one (not null or reserved).
    pub fn section(&self, index: usize) -> Option<&Section<'a>> {
        if index == SHN_UNDEF || index >= SHN_LORESERVE {
            return None;
        }
        self.sections.get(index)
    }

    /// The symbols defined in section `index` (`STT_SECTION` ones aside), sorted by offset
    /// then symbol index.
    pub fn symbols_in(&self, index: usize) -> &[Symbol<'a>] {
        let start = self.by_place.partition_point(|s| s.section < index);
        let len = self.by_place[start..].partition_point(|s| s.section == index);
        &self.by_place[start..start + len]
    }

    /// How many places hold function symbols: as many functions as the file has, at most.
    pub fn function_places(&self) -> usize {
        self.functions.len()
    }

    /// The place of the function symbol at byte `offset` of section `index`.
    fn function(&self, index: usize, offset: u64) -> Option<&Function<'a>> {
        self.functions
            .binary_search_by_key(&(index, offset), |f| (f.section, f.value))
            .ok()
            .map(|i| &self.functions[i])
    }

    /// The function symbol at byte `offset` of section `index`.
    pub fn function_at(&self, index: usize, offset: u64) -> Option<&Symbol<'a>> {
        self.function(index, offset)
            .and_then(|f| self.symbols.get(f.symbol))
    }

    /// The name of the function at byte `offset` of section `index`: its symbol's name, or
    /// for a static function whose name another function also has, `name@0xOFFSET` (the byte
    /// offset in its section). Objects linked from several source files (libbpf's static
    /// linker) may hold a static `subprog` from each; functions are known by name here.
    pub fn function_name(&self, index: usize, offset: u64) -> Option<&str> {
        self.function(index, offset).map(|f| &*f.name)
    }

    /// The relocations that apply to section `index`, in file order, read from the file as
    /// they are iterated (not copied at open: a big program's are a tenth of its size). Only
    /// code, `.maps` and struct_ops sections have them here: nothing reads the others'.
    pub fn relocs_for(&self, index: usize) -> impl Iterator<Item = Reloc> + '_ {
        self.reloc_sections(index).iter().flat_map(|rs| {
            rs.iter().enumerate().map(|(index, r)| Reloc {
                index,
                offset: r.r_offset,
                symbol: r.r_sym,
                kind: r.r_type,
                addend: r.r_addend.unwrap_or(0),
            })
        })
    }

    /// The number of relocations [`ElfFile::relocs_for`] gives for section `index`.
    pub fn reloc_count(&self, index: usize) -> usize {
        self.reloc_sections(index)
            .iter()
            .map(RelocSection::len)
            .sum()
    }

    /// The relocation sections that apply to section `index`.
    fn reloc_sections(&self, index: usize) -> &[RelocSection<'a>] {
        self.sections
            .get(index)
            .and_then(|s| self.relocs.get(s.relocs.clone()))
            .unwrap_or(&[])
    }

    /// Reads a `u32` in the object's byte order.
    pub fn u32_at(&self, data: &[u8], offset: usize) -> Option<u32> {
        let b: [u8; 4] = data.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
        Some(match self.order {
            Endianness::Little => u32::from_le_bytes(b),
            Endianness::Big => u32::from_be_bytes(b),
        })
    }
}

/// The section header table: copied as it is when the file's byte order is the host's
/// (goblin's `from_bytes`, once the table is known to be in bounds), read field by field
/// otherwise (and for the extended count of a file with over 65,535 sections).
fn section_headers(
    bytes: &[u8],
    offset: usize,
    count: usize,
    ctx: Ctx,
) -> Result<Vec<SectionHeader>> {
    use goblin::elf::section_header::section_header64;
    let native = ctx.le.is_little() == cfg!(target_endian = "little");
    if native && offset != 0 && count != 0 {
        let table = count
            .checked_mul(section_header64::SIZEOF_SHDR)
            .and_then(|len| bytes.get(offset..offset.checked_add(len)?))
            .ok_or_else(|| {
                Error::Elf(format!(
                    "{count} section headers at offset {offset} end past the file ({} bytes)",
                    bytes.len()
                ))
            })?;
        return Ok(section_header64::SectionHeader::from_bytes(table, count)
            .into_iter()
            .map(SectionHeader::from)
            .collect());
    }
    SectionHeader::parse(bytes, offset, count, ctx).map_err(elf_err)
}

/// The symbols of the (last) `SHT_SYMTAB` section, named from its string table; a section
/// symbol without a name takes its section's.
fn read_symbols<'a>(
    bytes: &'a [u8],
    headers: &[SectionHeader],
    sections: &[Section<'a>],
    ctx: Ctx,
) -> Result<Vec<Symbol<'a>>> {
    let Some(sh) = headers.iter().rfind(|sh| sh.sh_type == SHT_SYMTAB) else {
        return Ok(Vec::new());
    };
    let count = sh.sh_size.checked_div(sh.sh_entsize).unwrap_or(0);
    let count = usize::try_from(count).map_err(|_| {
        Error::Elf(format!(
            "symbol table count ({count}) exceeds the address space"
        ))
    })?;
    let symtab = Symtab::parse(bytes, sh.sh_offset as usize, count, ctx).map_err(elf_err)?;
    let strtab = string_table(bytes, headers, sh.sh_link as usize, "symbol names")?;
    let mut symbols = Vec::with_capacity(symtab.len());
    for (index, sym) in symtab.iter().enumerate() {
        let section = sym.st_shndx;
        let kind = sym.st_type();
        let mut name = strtab.get(sym.st_name);
        if kind == STT_SECTION && name.is_empty() {
            if let Some(s) = sections.get(section) {
                name = s.name;
            }
        }
        symbols.push(Symbol {
            index,
            name,
            kind,
            bind: sym.st_bind(),
            visibility: sym.st_visibility(),
            section,
            value: sym.st_value,
            size: sym.st_size,
        });
    }
    Ok(symbols)
}

/// Checks every relocation section (in bounds, applying to a real section) and keeps those
/// of the sections that use them (`relocs_used`), grouped by target section, setting each
/// section's [`Section::relocs`].
fn read_relocs<'a>(
    bytes: &'a [u8],
    headers: &[SectionHeader],
    sections: &mut [Section<'_>],
    ctx: Ctx,
    relocs_used: impl Fn(&Section<'_>) -> bool,
) -> Result<Vec<RelocSection<'a>>> {
    // (target, relocation section), in section order.
    let mut used: Vec<(usize, RelocSection<'a>)> = Vec::new();
    for (index, sh) in headers.iter().enumerate() {
        let is_rela = sh.sh_type == SHT_RELA;
        if !is_rela && sh.sh_type != SHT_REL {
            continue;
        }
        sh.check_size(bytes.len()).map_err(elf_err)?;
        let rs = RelocSection::parse(
            bytes,
            sh.sh_offset as usize,
            sh.sh_size as usize,
            is_rela,
            ctx,
        )
        .map_err(elf_err)?;
        let target = sh.sh_info as usize;
        if target == 0 || target >= sections.len() {
            return Err(Error::BadSection {
                section: sections[index].name.to_owned(),
                reason: format!("relocations apply to missing section {target}"),
            });
        }
        if relocs_used(&sections[target]) {
            used.push((target, rs));
        }
    }
    // Stable: a section's relocation sections stay in file order.
    used.sort_by_key(|(target, _)| *target);
    let mut relocs = Vec::with_capacity(used.len());
    for (i, (target, rs)) in used.into_iter().enumerate() {
        // The first relocation section of the target starts its run.
        let start = match sections[target].relocs.clone() {
            run if run.end == i && !run.is_empty() => run.start,
            _ => i,
        };
        relocs.push(rs);
        sections[target].relocs = start..relocs.len();
    }
    Ok(relocs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lazy reader agrees with goblin's full parse (`Elf::parse`) on every committed
    /// fixture: section names, symbols, the relocations of the sections that use them (and
    /// none for the others), and the symbols of each section in order.
    #[test]
    fn agrees_with_a_full_parse() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("testdata") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "o") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read");
            let full = Elf::parse(&bytes).expect("goblin");
            // What the collection reads (`collection::relocs_used`).
            let relocs_used = |s: &Section<'_>| {
                s.is_program() || s.name == ".maps" || s.name.starts_with(".struct_ops")
            };
            let ours = ElfFile::parse(&bytes, relocs_used).expect("ours");
            let at = path.display();
            assert_eq!(ours.sections.len(), full.section_headers.len(), "{at}");
            for (s, sh) in ours.sections.iter().zip(&full.section_headers) {
                assert_eq!(Some(s.name), full.shdr_strtab.get_at(sh.sh_name), "{at}");
                let want: Vec<(u64, usize, u32, i64)> = full
                    .shdr_relocs
                    .iter()
                    .filter(|(i, _)| full.section_headers[*i].sh_info as usize == s.index)
                    .filter(|_| relocs_used(s))
                    .flat_map(|(_, rs)| rs.iter())
                    .map(|r| (r.r_offset, r.r_sym, r.r_type, r.r_addend.unwrap_or(0)))
                    .collect();
                let got: Vec<(u64, usize, u32, i64)> = ours
                    .relocs_for(s.index)
                    .map(|r| (r.offset, r.symbol, r.kind, r.addend))
                    .collect();
                assert_eq!(got, want, "{at}: section '{}'", s.name);
                let mut want: Vec<&Symbol<'_>> = ours
                    .symbols
                    .iter()
                    .filter(|y| y.section == s.index && y.kind != STT_SECTION)
                    .collect();
                want.sort_by_key(|y| (y.value, y.index));
                let got: Vec<&Symbol<'_>> = ours.symbols_in(s.index).iter().collect();
                let key = |v: &[&Symbol<'_>]| v.iter().map(|y| y.index).collect::<Vec<_>>();
                assert_eq!(key(&got), key(&want), "{at}: section '{}'", s.name);
            }
            assert_eq!(ours.symbols.len(), full.syms.len(), "{at}");
            for (y, sym) in ours.symbols.iter().zip(full.syms.iter()) {
                if y.kind != STT_SECTION {
                    assert_eq!(Some(y.name), full.strtab.get_at(sym.st_name), "{at}");
                }
                assert_eq!((y.section, y.value), (sym.st_shndx, sym.st_value), "{at}");
            }
            seen += 1;
        }
        assert!(seen > 10, "only {seen} fixtures");
    }

    fn func(
        index: usize,
        name: &'static str,
        bind: u8,
        section: usize,
        value: u64,
    ) -> Symbol<'static> {
        Symbol {
            index,
            name,
            kind: STT_FUNC,
            bind,
            visibility: STV_DEFAULT,
            section,
            value,
            size: 8,
        }
    }

    /// Static functions that share a name with another function are told apart by offset;
    /// a global keeps its name, and so does a static whose name is unique.
    #[test]
    fn static_functions_sharing_a_name() {
        let mut syms = [
            func(1, "subprog", STB_LOCAL, 2, 0x30),
            func(2, "subprog", STB_LOCAL, 2, 0x80),
            func(3, "subprog", STB_GLOBAL, 3, 0),
            func(4, "alias", STB_GLOBAL, 2, 0x30),
            func(5, "helper", STB_LOCAL, 2, 0x10),
            func(6, "main", STB_GLOBAL, 3, 0x40),
        ];
        syms.sort_by_key(|s| (s.section, s.value, s.index));
        let names: Vec<(usize, u64, usize, String)> = function_names(&syms)
            .into_iter()
            .map(|f| (f.section, f.value, f.symbol, f.name.into_owned()))
            .collect();
        assert_eq!(
            names,
            [
                (2, 0x10, 5, "helper".to_owned()),
                (2, 0x30, 1, "subprog@0x30".to_owned()),
                (2, 0x80, 2, "subprog@0x80".to_owned()),
                (3, 0, 3, "subprog".to_owned()),
                (3, 0x40, 6, "main".to_owned()),
            ]
        );
    }
}
