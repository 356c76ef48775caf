//! The BTF wire format: `#[repr(C)]` records with the kernel's field names (see
//! `include/uapi/linux/btf.h` and `include/uapi/linux/btf.h`'s ext-info companion in libbpf).
//!
//! Every record is generic over the byte order `O` ([`LE`] or [`BE`]) so one parser
//! handles BTF produced on either kind of host; the order is detected from the magic.
//! Records are read with `zerocopy`, never with `unsafe`.
//!
//! ```
//! use ebpf_btf::raw::{btf_type, LE, BTF_KIND_INT, info_kind};
//! use zerocopy::FromBytes;
//! let bytes = [1u8, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0];
//! let t = btf_type::<LE>::ref_from_bytes(&bytes).unwrap();
//! assert_eq!(info_kind(t.info.get()), BTF_KIND_INT);
//! assert_eq!(t.size_or_type.get(), 4);
//! ```
#![allow(non_camel_case_types, reason = "wire records keep the kernel's names")]

use zerocopy::byteorder::{ByteOrder, I32, U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

pub use zerocopy::byteorder::{BigEndian as BE, LittleEndian as LE};

/// The BTF magic number, 0xeB9F.
pub const BTF_MAGIC: u16 = 0xeb9f;
/// The only BTF version defined.
pub const BTF_VERSION: u8 = 1;
/// Largest type id the kernel accepts.
pub const BTF_MAX_TYPE: u32 = 0x000f_ffff;
/// Largest string offset the kernel accepts.
pub const BTF_MAX_NAME_OFFSET: u32 = 0x00ff_ffff;
/// Largest member/param/value count.
pub const BTF_MAX_VLEN: u32 = 0xffff;

/// `BTF_KIND_UNKN`: void (only as id 0).
pub const BTF_KIND_UNKN: u32 = 0;
/// `BTF_KIND_INT`.
pub const BTF_KIND_INT: u32 = 1;
/// `BTF_KIND_PTR`.
pub const BTF_KIND_PTR: u32 = 2;
/// `BTF_KIND_ARRAY`.
pub const BTF_KIND_ARRAY: u32 = 3;
/// `BTF_KIND_STRUCT`.
pub const BTF_KIND_STRUCT: u32 = 4;
/// `BTF_KIND_UNION`.
pub const BTF_KIND_UNION: u32 = 5;
/// `BTF_KIND_ENUM`.
pub const BTF_KIND_ENUM: u32 = 6;
/// `BTF_KIND_FWD`.
pub const BTF_KIND_FWD: u32 = 7;
/// `BTF_KIND_TYPEDEF`.
pub const BTF_KIND_TYPEDEF: u32 = 8;
/// `BTF_KIND_VOLATILE`.
pub const BTF_KIND_VOLATILE: u32 = 9;
/// `BTF_KIND_CONST`.
pub const BTF_KIND_CONST: u32 = 10;
/// `BTF_KIND_RESTRICT`.
pub const BTF_KIND_RESTRICT: u32 = 11;
/// `BTF_KIND_FUNC`.
pub const BTF_KIND_FUNC: u32 = 12;
/// `BTF_KIND_FUNC_PROTO`.
pub const BTF_KIND_FUNC_PROTO: u32 = 13;
/// `BTF_KIND_VAR`.
pub const BTF_KIND_VAR: u32 = 14;
/// `BTF_KIND_DATASEC`.
pub const BTF_KIND_DATASEC: u32 = 15;
/// `BTF_KIND_FLOAT`.
pub const BTF_KIND_FLOAT: u32 = 16;
/// `BTF_KIND_DECL_TAG`.
pub const BTF_KIND_DECL_TAG: u32 = 17;
/// `BTF_KIND_TYPE_TAG`.
pub const BTF_KIND_TYPE_TAG: u32 = 18;
/// `BTF_KIND_ENUM64`.
pub const BTF_KIND_ENUM64: u32 = 19;

/// `BTF_INT_SIGNED` encoding bit.
pub const BTF_INT_SIGNED: u32 = 1;
/// `BTF_INT_CHAR` encoding bit.
pub const BTF_INT_CHAR: u32 = 2;
/// `BTF_INT_BOOL` encoding bit.
pub const BTF_INT_BOOL: u32 = 4;

/// `struct btf_header`: the fixed part of the `.BTF` header. Offsets are relative to
/// the end of the header (`hdr_len`).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_header<O: ByteOrder> {
    /// 0xeB9F in the blob's byte order.
    pub magic: U16<O>,
    /// Always 1.
    pub version: u8,
    /// Unused, 0.
    pub flags: u8,
    /// Length of the header, at least 24; extra bytes must be zero.
    pub hdr_len: U32<O>,
    /// Offset of the type section.
    pub type_off: U32<O>,
    /// Length of the type section.
    pub type_len: U32<O>,
    /// Offset of the string section.
    pub str_off: U32<O>,
    /// Length of the string section.
    pub str_len: U32<O>,
}

/// `struct btf_type`: the common 12-byte head of every type record.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_type<O: ByteOrder> {
    /// Offset of the name in the string table.
    pub name_off: U32<O>,
    /// Bits 0-15 vlen, 24-28 kind, 31 kind_flag.
    pub info: U32<O>,
    /// `size` for INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64; `type` otherwise.
    pub size_or_type: U32<O>,
}

/// `struct btf_member`: one struct/union member.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_member<O: ByteOrder> {
    /// Member name.
    pub name_off: U32<O>,
    /// Member type.
    pub r#type: U32<O>,
    /// Bit offset, or `bitfield_size << 24 | bit_offset` when the parent's kind_flag is set.
    pub offset: U32<O>,
}

/// `struct btf_param`: one function prototype parameter.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_param<O: ByteOrder> {
    /// Parameter name.
    pub name_off: U32<O>,
    /// Parameter type.
    pub r#type: U32<O>,
}

/// `struct btf_enum`: one 32-bit enumerator.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_enum<O: ByteOrder> {
    /// Enumerator name.
    pub name_off: U32<O>,
    /// Value (signedness from the parent's kind_flag).
    pub val: I32<O>,
}

/// `struct btf_enum64`: one 64-bit enumerator.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_enum64<O: ByteOrder> {
    /// Enumerator name.
    pub name_off: U32<O>,
    /// Low 32 bits of the value.
    pub val_lo32: U32<O>,
    /// High 32 bits of the value.
    pub val_hi32: U32<O>,
}

/// `struct btf_array`: the trailer of an ARRAY record.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_array<O: ByteOrder> {
    /// Element type.
    pub r#type: U32<O>,
    /// Index type.
    pub index_type: U32<O>,
    /// Number of elements.
    pub nelems: U32<O>,
}

/// `struct btf_var`: the trailer of a VAR record.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_var<O: ByteOrder> {
    /// 0 static, 1 global, 2 extern.
    pub linkage: U32<O>,
}

/// `struct btf_var_secinfo`: one variable of a DATASEC.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_var_secinfo<O: ByteOrder> {
    /// The VAR (or FUNC for extern ksyms).
    pub r#type: U32<O>,
    /// Offset in the section.
    pub offset: U32<O>,
    /// Size in the section.
    pub size: U32<O>,
}

/// `struct btf_decl_tag`: the trailer of a DECL_TAG record.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_decl_tag<O: ByteOrder> {
    /// Member/param index, or -1 for the type itself.
    pub component_idx: I32<O>,
}

/// `struct btf_ext_header`: the header of `.BTF.ext` (the CO-RE part is optional).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_ext_header<O: ByteOrder> {
    /// 0xeB9F.
    pub magic: U16<O>,
    /// Always 1.
    pub version: u8,
    /// Unused.
    pub flags: u8,
    /// Header length (24 without, 32 with CO-RE relocations).
    pub hdr_len: U32<O>,
    /// Offset of func_info, relative to the end of the header.
    pub func_info_off: U32<O>,
    /// Length of func_info.
    pub func_info_len: U32<O>,
    /// Offset of line_info.
    pub line_info_off: U32<O>,
    /// Length of line_info.
    pub line_info_len: U32<O>,
}

/// The optional CO-RE tail of `btf_ext_header`.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_ext_header_core<O: ByteOrder> {
    /// Offset of core_relo.
    pub core_relo_off: U32<O>,
    /// Length of core_relo.
    pub core_relo_len: U32<O>,
}

/// `struct btf_ext_info_sec`: a per-ELF-section group of records.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct btf_ext_info_sec<O: ByteOrder> {
    /// ELF section name.
    pub sec_name_off: U32<O>,
    /// Number of records that follow.
    pub num_info: U32<O>,
}

/// `struct bpf_func_info` (as found in an object file: `insn_off` in bytes).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct bpf_func_info<O: ByteOrder> {
    /// Instruction offset.
    pub insn_off: U32<O>,
    /// The FUNC type.
    pub type_id: U32<O>,
}

/// `struct bpf_line_info`.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct bpf_line_info<O: ByteOrder> {
    /// Instruction offset.
    pub insn_off: U32<O>,
    /// File name.
    pub file_name_off: U32<O>,
    /// Source line text.
    pub line_off: U32<O>,
    /// `line << 10 | column`.
    pub line_col: U32<O>,
}

/// `struct bpf_core_relo`.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct bpf_core_relo<O: ByteOrder> {
    /// Instruction offset.
    pub insn_off: U32<O>,
    /// Local root type.
    pub type_id: U32<O>,
    /// Accessor string such as `0:1:2`.
    pub access_str_off: U32<O>,
    /// `enum bpf_core_relo_kind`.
    pub kind: U32<O>,
}

/// The kind field of `btf_type.info`.
#[must_use]
pub const fn info_kind(info: u32) -> u32 {
    (info >> 24) & 0x1f
}

/// The vlen field of `btf_type.info`.
#[must_use]
pub const fn info_vlen(info: u32) -> u32 {
    info & 0xffff
}

/// The kind_flag bit of `btf_type.info`.
#[must_use]
pub const fn info_kind_flag(info: u32) -> bool {
    info >> 31 != 0
}

/// Builds `btf_type.info`.
#[must_use]
pub const fn info_enc(kind: u32, kind_flag: bool, vlen: u32) -> u32 {
    ((kind_flag as u32) << 31) | ((kind & 0x1f) << 24) | (vlen & 0xffff)
}

/// The byte order of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Little endian (x86, arm64, most hosts).
    #[default]
    Little,
    /// Big endian (s390x, ...).
    Big,
}

impl Endian {
    /// The byte order of this host.
    #[must_use]
    pub const fn native() -> Self {
        if cfg!(target_endian = "big") {
            Self::Big
        } else {
            Self::Little
        }
    }

    /// Detects the order from the first two bytes (the magic 0xeB9F).
    #[must_use]
    pub fn detect(magic: [u8; 2]) -> Option<Self> {
        match magic {
            [0x9f, 0xeb] => Some(Self::Little),
            [0xeb, 0x9f] => Some(Self::Big),
            _ => None,
        }
    }
}

/// Size of the record trailing `btf_type` for `kind` with `vlen`, or `None` for an unknown kind.
#[must_use]
pub const fn trailer_len(kind: u32, vlen: u32) -> Option<usize> {
    let vlen = vlen as usize;
    Some(match kind {
        BTF_KIND_INT => 4,
        BTF_KIND_ARRAY => 12,
        BTF_KIND_STRUCT | BTF_KIND_UNION => 12 * vlen,
        BTF_KIND_ENUM => 8 * vlen,
        BTF_KIND_FUNC_PROTO => 8 * vlen,
        BTF_KIND_VAR => 4,
        BTF_KIND_DATASEC => 12 * vlen,
        BTF_KIND_DECL_TAG => 4,
        BTF_KIND_ENUM64 => 12 * vlen,
        BTF_KIND_PTR | BTF_KIND_FWD | BTF_KIND_TYPEDEF | BTF_KIND_VOLATILE | BTF_KIND_CONST
        | BTF_KIND_RESTRICT | BTF_KIND_FUNC | BTF_KIND_FLOAT | BTF_KIND_TYPE_TAG => 0,
        _ => return None,
    })
}
