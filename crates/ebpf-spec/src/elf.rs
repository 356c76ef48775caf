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

use std::collections::BTreeMap;

use ebpf_asm::Endianness;
use goblin::elf::Elf;

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
}

impl Section<'_> {
    /// Whether this holds instructions.
    pub fn is_program(&self) -> bool {
        self.kind == SHT_PROGBITS && self.flags & SHF_EXECINSTR != 0
    }

    /// Whether this is `.BTF`, `.BTF.ext` or DWARF: never code, maps nor struct_ops, so
    /// nothing reads its relocations.
    fn is_debug_info(&self) -> bool {
        !self.is_program()
            && (self.name == ".BTF" || self.name == ".BTF.ext" || self.name.starts_with(".debug_"))
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
#[derive(Debug, Clone)]
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

/// A parsed object.
#[derive(Debug)]
pub(crate) struct ElfFile<'a> {
    /// The byte order of the object.
    pub order: Endianness,
    /// Sections by index (index 0 is the null section).
    pub sections: Vec<Section<'a>>,
    /// Symbols by index.
    pub symbols: Vec<Symbol<'a>>,
    /// Relocations by the index of the section they apply to, in file order.
    pub relocs: BTreeMap<usize, Vec<Reloc>>,
    /// `STT_FUNC` symbols by (section, offset): the first symbol index at each place, and
    /// the function's name (see [`ElfFile::function_name`]).
    functions: BTreeMap<(usize, u64), (usize, String)>,
}

/// The `STT_FUNC` symbols by (section, offset), first symbol index at each place, with the
/// names [`ElfFile::function_name`] gives them.
fn function_names(symbols: &[Symbol<'_>]) -> BTreeMap<(usize, u64), (usize, String)> {
    let mut first: BTreeMap<(usize, u64), &Symbol<'_>> = BTreeMap::new();
    for s in symbols.iter().filter(|s| s.kind == STT_FUNC) {
        first.entry((s.section, s.value)).or_insert(s);
    }
    let mut places: BTreeMap<&str, usize> = BTreeMap::new();
    for s in first.values() {
        *places.entry(s.name).or_default() += 1;
    }
    first
        .into_iter()
        .map(|(at, s)| {
            let name = if s.bind == STB_LOCAL && places[s.name] > 1 {
                format!("{}@{:#x}", s.name, s.value)
            } else {
                s.name.to_owned()
            };
            (at, (s.index, name))
        })
        .collect()
}

fn elf_err(e: goblin::error::Error) -> Error {
    Error::Elf(e.to_string().to_lowercase())
}

impl<'a> ElfFile<'a> {
    /// Parses and bounds-checks `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<ElfFile<'a>> {
        // Said plainly, rather than goblin's "invalid magic number: 0x...".
        if !bytes.starts_with(b"\x7fELF") {
            return Err(Error::Elf("not an ELF file".into()));
        }
        let elf = Elf::parse(bytes).map_err(elf_err)?;
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

        let mut sections = Vec::with_capacity(elf.section_headers.len());
        for (index, sh) in elf.section_headers.iter().enumerate() {
            let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("");
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
            });
        }

        let mut symbols = Vec::with_capacity(elf.syms.len());
        for (index, sym) in elf.syms.iter().enumerate() {
            let section = sym.st_shndx;
            let kind = sym.st_type();
            let mut name = elf.strtab.get_at(sym.st_name).unwrap_or("");
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

        let mut relocs: BTreeMap<usize, Vec<Reloc>> = BTreeMap::new();
        for (shdr_index, rs) in &elf.shdr_relocs {
            let Some(sh) = elf.section_headers.get(*shdr_index) else {
                continue;
            };
            if sh.sh_type != SHT_REL && sh.sh_type != SHT_RELA {
                continue;
            }
            let target = sh.sh_info as usize;
            let rel_name = sections
                .get(*shdr_index)
                .map(|s| s.name.to_owned())
                .unwrap_or_default();
            if target == 0 || target >= sections.len() {
                return Err(Error::BadSection {
                    section: rel_name,
                    reason: format!("relocations apply to missing section {target}"),
                });
            }
            // Relocations of BTF and DWARF are never applied (`R_BPF_64_NODYLD32`, ...):
            // checked above, not copied. They are most of an object's relocations.
            if sections[target].is_debug_info() {
                continue;
            }
            let list = relocs.entry(target).or_default();
            list.reserve(rs.len());
            for (index, r) in rs.iter().enumerate() {
                list.push(Reloc {
                    index,
                    offset: r.r_offset,
                    symbol: r.r_sym,
                    kind: r.r_type,
                    addend: r.r_addend.unwrap_or(0),
                });
            }
        }
        let functions = function_names(&symbols);
        Ok(ElfFile {
            order,
            sections,
            symbols,
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

    /// The symbols defined in section `index`, sorted by offset then symbol index.
    pub fn symbols_in(&self, index: usize) -> Vec<&Symbol<'a>> {
        let mut v: Vec<&Symbol<'a>> = self
            .symbols
            .iter()
            .filter(|s| s.section == index && s.kind != STT_SECTION)
            .collect();
        v.sort_by_key(|s| (s.value, s.index));
        v
    }

    /// The function symbol at byte `offset` of section `index`.
    pub fn function_at(&self, index: usize, offset: u64) -> Option<&Symbol<'a>> {
        self.functions
            .get(&(index, offset))
            .and_then(|(i, _)| self.symbols.get(*i))
    }

    /// The name of the function at byte `offset` of section `index`: its symbol's name, or
    /// for a static function whose name another function also has, `name@0xOFFSET` (the byte
    /// offset in its section). Objects linked from several source files (libbpf's static
    /// linker) may hold a static `subprog` from each; functions are known by name here.
    pub fn function_name(&self, index: usize, offset: u64) -> Option<&str> {
        self.functions
            .get(&(index, offset))
            .map(|(_, name)| name.as_str())
    }

    /// The relocations that apply to section `index`.
    pub fn relocs_for(&self, index: usize) -> &[Reloc] {
        self.relocs.get(&index).map_or(&[], Vec::as_slice)
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let syms = [
            func(1, "subprog", STB_LOCAL, 2, 0x30),
            func(2, "subprog", STB_LOCAL, 2, 0x80),
            func(3, "subprog", STB_GLOBAL, 3, 0),
            func(4, "alias", STB_GLOBAL, 2, 0x30),
            func(5, "helper", STB_LOCAL, 2, 0x10),
            func(6, "main", STB_GLOBAL, 3, 0x40),
        ];
        let names: Vec<(usize, u64, usize, String)> = function_names(&syms)
            .into_iter()
            .map(|((sec, off), (i, name))| (sec, off, i, name))
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
