//! The ELF64 wire format of a relocatable object: `#[repr(C)]` records with the names of
//! `<elf.h>`, generic over the byte order `O`, read with `zerocopy` (never `unsafe`).
#![allow(non_camel_case_types, reason = "wire records keep <elf.h>'s names")]

use zerocopy::byteorder::{ByteOrder, I64, U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// `EI_CLASS` value of a 64-bit object.
pub(crate) const ELFCLASS64: u8 = 2;
/// `EI_CLASS` value of a 32-bit object.
pub(crate) const ELFCLASS32: u8 = 1;
/// `EI_DATA` value of a little-endian object.
pub(crate) const ELFDATA2LSB: u8 = 1;
/// `EI_DATA` value of a big-endian object.
pub(crate) const ELFDATA2MSB: u8 = 2;
/// `SHT_SYMTAB`.
pub(crate) const SHT_SYMTAB: u32 = 2;
/// `SHN_XINDEX`: the real `e_shstrndx` is in section 0's `sh_link`.
pub(crate) const SHN_XINDEX: u16 = 0xffff;

/// `Elf64_Ehdr`.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(crate) struct Elf64_Ehdr<O: ByteOrder> {
    pub e_ident: [u8; 16],
    pub e_type: U16<O>,
    pub e_machine: U16<O>,
    pub e_version: U32<O>,
    pub e_entry: U64<O>,
    pub e_phoff: U64<O>,
    pub e_shoff: U64<O>,
    pub e_flags: U32<O>,
    pub e_ehsize: U16<O>,
    pub e_phentsize: U16<O>,
    pub e_phnum: U16<O>,
    pub e_shentsize: U16<O>,
    pub e_shnum: U16<O>,
    pub e_shstrndx: U16<O>,
}

/// `Elf64_Shdr`.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(crate) struct Elf64_Shdr<O: ByteOrder> {
    pub sh_name: U32<O>,
    pub sh_type: U32<O>,
    pub sh_flags: U64<O>,
    pub sh_addr: U64<O>,
    pub sh_offset: U64<O>,
    pub sh_size: U64<O>,
    pub sh_link: U32<O>,
    pub sh_info: U32<O>,
    pub sh_addralign: U64<O>,
    pub sh_entsize: U64<O>,
}

/// `Elf64_Sym`.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(crate) struct Elf64_Sym<O: ByteOrder> {
    pub st_name: U32<O>,
    pub st_info: u8,
    pub st_other: u8,
    pub st_shndx: U16<O>,
    pub st_value: U64<O>,
    pub st_size: U64<O>,
}

/// `Elf64_Rel`.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(crate) struct Elf64_Rel<O: ByteOrder> {
    pub r_offset: U64<O>,
    pub r_info: U64<O>,
}

/// `Elf64_Rela`.
#[derive(Debug, FromBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(crate) struct Elf64_Rela<O: ByteOrder> {
    pub r_offset: U64<O>,
    pub r_info: U64<O>,
    pub r_addend: I64<O>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::LE;

    #[test]
    fn record_sizes() {
        assert_eq!(size_of::<Elf64_Ehdr<LE>>(), 64);
        assert_eq!(size_of::<Elf64_Shdr<LE>>(), 64);
        assert_eq!(size_of::<Elf64_Sym<LE>>(), 24);
        assert_eq!(size_of::<Elf64_Rel<LE>>(), 16);
        assert_eq!(size_of::<Elf64_Rela<LE>>(), 24);
    }
}
