//! One logical instruction, its raw encoding in either byte order, and pseudo sources.

use std::fmt;
use std::sync::Arc;

use crate::kind::{Kind, classify, validate};
use crate::metadata::Metadata;
use crate::source::Source;
use crate::{Error, InvalidReason, OpCode, Register, Result};

/// The size of one instruction slot in bytes.
pub const SLOT_SIZE: usize = 8;

/// The byte order of encoded instructions.
///
/// The register nibbles swap with the byte order: in little endian the destination is the
/// low nibble, in big endian the high one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endianness {
    /// Little endian (`bpfel`).
    Little,
    /// Big endian (`bpfeb`).
    Big,
}

impl Endianness {
    /// The byte order of the host, which is what the kernel expects.
    pub const NATIVE: Endianness = if cfg!(target_endian = "big") {
        Endianness::Big
    } else {
        Endianness::Little
    };
}

/// What the source register field of `ld_imm64` means (`BPF_PSEUDO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoLoad {
    /// A plain 64-bit constant.
    None = 0,
    /// The constant is a map file descriptor (`BPF_PSEUDO_MAP_FD`).
    MapFd = 1,
    /// A map file descriptor in the low half, an offset into its value in the high half.
    MapValue = 2,
    /// A kernel BTF id of a variable (`BPF_PSEUDO_BTF_ID`).
    BtfId = 3,
    /// A BPF function, as a relative offset in slots (`BPF_PSEUDO_FUNC`).
    Func = 4,
    /// An index into the `fd_array` (`BPF_PSEUDO_MAP_IDX`).
    MapIdx = 5,
    /// An `fd_array` index in the low half, a value offset in the high half.
    MapIdxValue = 6,
}

impl PseudoLoad {
    /// The pseudo source encoded as `src`, if it is a defined one.
    pub const fn from_u8(src: u8) -> Option<PseudoLoad> {
        match src {
            0 => Some(PseudoLoad::None),
            1 => Some(PseudoLoad::MapFd),
            2 => Some(PseudoLoad::MapValue),
            3 => Some(PseudoLoad::BtfId),
            4 => Some(PseudoLoad::Func),
            5 => Some(PseudoLoad::MapIdx),
            6 => Some(PseudoLoad::MapIdxValue),
            _ => None,
        }
    }

    /// The value as it is stored in the source register field.
    pub const fn register(self) -> Register {
        match Register::from_u8(self as u8) {
            Some(r) => r,
            None => Register::R0,
        }
    }
}

/// What the source register field of a call means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoCall {
    /// A helper function by id.
    Helper = 0,
    /// A BPF function, by relative offset in slots (`BPF_PSEUDO_CALL`).
    Call = 1,
    /// A kernel function by BTF id (`BPF_PSEUDO_KFUNC_CALL`).
    Kfunc = 2,
}

impl PseudoCall {
    /// The pseudo source encoded as `src`, if it is a defined one.
    pub const fn from_u8(src: u8) -> Option<PseudoCall> {
        match src {
            0 => Some(PseudoCall::Helper),
            1 => Some(PseudoCall::Call),
            2 => Some(PseudoCall::Kfunc),
            _ => None,
        }
    }

    /// The value as it is stored in the source register field.
    pub const fn register(self) -> Register {
        match Register::from_u8(self as u8) {
            Some(r) => r,
            None => Register::R0,
        }
    }
}

/// One logical eBPF instruction.
///
/// `ld_imm64` is one instruction of width 2 (16 bytes) whose `constant` is the full 64-bit
/// value; every other instruction is 8 bytes and its `constant` is the sign-extended 32-bit
/// immediate.
///
/// # Equality
///
/// `PartialEq`, `Eq` and `Hash` compare the encoding fields only (`op`, `dst`, `src`,
/// `offset`, `constant`) and ignore `metadata`. Compare [`Instruction::metadata`] explicitly
/// where symbols or references matter.
#[derive(Clone, Default)]
pub struct Instruction {
    /// The opcode.
    pub op: OpCode,
    /// The destination register.
    pub dst: Register,
    /// The source register, or a pseudo source ([`PseudoLoad`], [`PseudoCall`]).
    pub src: Register,
    /// The 16-bit offset.
    pub offset: i16,
    /// The immediate: 32 bits sign-extended, or 64 bits for `ld_imm64`.
    pub constant: i64,
    /// Symbol, reference, source line and extensions; never encoded.
    pub metadata: Metadata,
}

impl PartialEq for Instruction {
    fn eq(&self, other: &Instruction) -> bool {
        self.op == other.op
            && self.dst == other.dst
            && self.src == other.src
            && self.offset == other.offset
            && self.constant == other.constant
    }
}

impl Eq for Instruction {}

impl std::hash::Hash for Instruction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.op, self.dst, self.src, self.offset, self.constant).hash(state);
    }
}

impl fmt::Debug for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Instruction");
        d.field("op", &self.op)
            .field("dst", &self.dst)
            .field("src", &self.src)
            .field("offset", &self.offset)
            .field("constant", &self.constant);
        if !self.metadata.is_empty() {
            d.field("metadata", &self.metadata);
        }
        d.finish()
    }
}

/// The fields of one 8-byte slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawSlot {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl RawSlot {
    pub(crate) fn read(bytes: [u8; 8], order: Endianness) -> RawSlot {
        match order {
            Endianness::Little => RawSlot::read_in::<false>(&bytes),
            Endianness::Big => RawSlot::read_in::<true>(&bytes),
        }
    }

    /// The slot `bytes`, big endian if `BIG`: one 8-byte load, the fields cut out of it.
    #[inline(always)]
    pub(crate) fn read_in<const BIG: bool>(bytes: &[u8; 8]) -> RawSlot {
        let word = *bytes;
        if BIG {
            let v = u64::from_be_bytes(word);
            let regs = (v >> 48) as u8;
            RawSlot {
                code: (v >> 56) as u8,
                dst: regs >> 4,
                src: regs & 0x0f,
                off: (v >> 32) as u16 as i16,
                imm: v as u32 as i32,
            }
        } else {
            let v = u64::from_le_bytes(word);
            let regs = (v >> 8) as u8;
            RawSlot {
                code: v as u8,
                dst: regs & 0x0f,
                src: regs >> 4,
                off: (v >> 16) as u16 as i16,
                imm: (v >> 32) as u32 as i32,
            }
        }
    }

    pub(crate) fn write(self, order: Endianness) -> [u8; 8] {
        let (regs, off, imm) = match order {
            Endianness::Little => (
                (self.src << 4) | (self.dst & 0x0f),
                self.off.to_le_bytes(),
                self.imm.to_le_bytes(),
            ),
            Endianness::Big => (
                (self.dst << 4) | (self.src & 0x0f),
                self.off.to_be_bytes(),
                self.imm.to_be_bytes(),
            ),
        };
        [
            self.code, regs, off[0], off[1], imm[0], imm[1], imm[2], imm[3],
        ]
    }
}

pub(crate) fn slot_at(bytes: &[u8], slot: usize) -> Option<[u8; 8]> {
    let start = slot.checked_mul(SLOT_SIZE)?;
    bytes
        .get(start..start.checked_add(SLOT_SIZE)?)?
        .try_into()
        .ok()
}

impl Instruction {
    /// A new instruction without metadata.
    pub const fn new(
        op: OpCode,
        dst: Register,
        src: Register,
        offset: i16,
        constant: i64,
    ) -> Instruction {
        Instruction {
            op,
            dst,
            src,
            offset,
            constant,
            metadata: Metadata::EMPTY,
        }
    }

    /// The number of 8-byte slots this instruction occupies: 2 for `ld_imm64`, else 1.
    pub const fn width(&self) -> usize {
        if self.op.is_load_imm64() { 2 } else { 1 }
    }

    /// The encoded size in bytes.
    pub const fn size(&self) -> usize {
        self.width() * SLOT_SIZE
    }

    /// Whether this is `ld_imm64`.
    pub const fn is_load_imm64(&self) -> bool {
        self.op.is_load_imm64()
    }

    /// The pseudo source of an `ld_imm64`.
    pub fn pseudo_load(&self) -> Option<PseudoLoad> {
        if self.is_load_imm64() {
            PseudoLoad::from_u8(self.src.number())
        } else {
            None
        }
    }

    /// The pseudo source of a call (`BPF_JMP | BPF_CALL | BPF_K`).
    pub fn pseudo_call(&self) -> Option<PseudoCall> {
        if self.op.raw() == 0x85 {
            PseudoCall::from_u8(self.src.number())
        } else {
            None
        }
    }

    /// Whether this is a call to a BPF function (`BPF_PSEUDO_CALL`).
    pub fn is_function_call(&self) -> bool {
        self.pseudo_call() == Some(PseudoCall::Call)
    }

    /// Whether this is an `ld_imm64` of a BPF function's address (`BPF_PSEUDO_FUNC`).
    pub fn is_function_reference(&self) -> bool {
        self.pseudo_load() == Some(PseudoLoad::Func)
    }

    /// Whether this is a kfunc call (`BPF_PSEUDO_KFUNC_CALL`).
    pub fn is_kfunc_call(&self) -> bool {
        self.pseudo_call() == Some(PseudoCall::Kfunc)
    }

    /// Whether this loads a map pointer or map value address (by fd or fd-array index).
    pub fn is_map_load(&self) -> bool {
        matches!(
            self.pseudo_load(),
            Some(
                PseudoLoad::MapFd
                    | PseudoLoad::MapValue
                    | PseudoLoad::MapIdx
                    | PseudoLoad::MapIdxValue
            )
        )
    }

    /// Whether this is `exit`.
    pub fn is_exit(&self) -> bool {
        self.op.raw() == 0x95
    }

    /// Whether this is a jump whose target is given by `offset` (or by `constant` for `gotol`):
    /// conditional jumps, `goto`, `gotol` and `may_goto`. Calls and exit are not.
    pub fn is_branch(&self) -> bool {
        matches!(
            classify(self),
            Ok(Kind::Ja | Kind::Gotol | Kind::MayGoto | Kind::CondJump { .. })
        )
    }

    /// Whether a resolved reference is written into `constant` (calls, `gotol`, function
    /// address loads) rather than `offset`.
    pub(crate) fn reference_in_constant(&self) -> bool {
        self.is_function_call() || self.is_function_reference() || self.op.raw() == 0x06
    }

    /// Checks that the instruction is a defined one, as the kernel's rules for opcodes,
    /// reserved fields and register numbers say.
    ///
    /// Decoding does not check this (the verifier is the judge of what a program may hold);
    /// `Display` shows an instruction that fails it in the raw form.
    pub fn validate(&self) -> Result<(), InvalidReason> {
        validate(self).map(|_| ())
    }

    /// The map fd (or fd-array index) and value offset of a map load.
    pub fn map_fd_and_offset(&self) -> Option<(i32, u32)> {
        if !self.is_map_load() {
            return None;
        }
        let c = self.constant as u64;
        Some((c as u32 as i32, (c >> 32) as u32))
    }

    /// Rewrites the fd (or fd-array index) of a map load, keeping the value offset.
    pub fn set_map_fd(&mut self, fd: i32) {
        let hi = (self.constant as u64) & 0xffff_ffff_0000_0000;
        self.constant = (hi | u64::from(fd as u32)) as i64;
    }

    /// Encodes into `out` (appending 8 or 16 bytes).
    pub fn encode_into(&self, order: Endianness, out: &mut Vec<u8>) -> Result<()> {
        self.encode_at(order, out, 0)
    }

    /// Encodes into a new buffer of 8 or 16 bytes.
    pub fn encode(&self, order: Endianness) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.size());
        self.encode_into(order, &mut out)?;
        Ok(out)
    }

    pub(crate) fn encode_at(
        &self,
        order: Endianness,
        out: &mut Vec<u8>,
        index: usize,
    ) -> Result<()> {
        let first = RawSlot {
            code: self.op.raw(),
            dst: self.dst.number(),
            src: self.src.number(),
            off: self.offset,
            imm: if self.is_load_imm64() {
                self.constant as u64 as u32 as i32
            } else {
                i32::try_from(self.constant).map_err(|_| Error::ConstantOutOfRange {
                    index,
                    constant: self.constant,
                })?
            },
        };
        out.extend_from_slice(&first.write(order));
        if self.is_load_imm64() {
            let second = RawSlot {
                code: 0,
                dst: 0,
                src: 0,
                off: 0,
                imm: ((self.constant as u64) >> 32) as u32 as i32,
            };
            out.extend_from_slice(&second.write(order));
        }
        Ok(())
    }

    /// Decodes one instruction from the start of `bytes`; returns it and its width in slots.
    ///
    /// Errors are as in [`crate::Instructions::unmarshal`] (index and offset 0).
    pub fn decode(bytes: &[u8], order: Endianness) -> Result<(Instruction, usize)> {
        Instruction::decode_at(bytes, 0, order, 0)
    }

    /// Decodes the instruction at slot `offset` of `bytes`, numbering it `index` in errors.
    ///
    /// Every field is kept as it is, undefined opcodes, reserved fields and register numbers
    /// above 10 included, so that encoding gives the same bytes back. The only errors are a
    /// truncated instruction and an `ld_imm64` whose second half has bits outside its
    /// immediate, which this model has no field for.
    pub(crate) fn decode_at(
        bytes: &[u8],
        offset: usize,
        order: Endianness,
        index: usize,
    ) -> Result<(Instruction, usize)> {
        let remaining = bytes.len().saturating_sub(offset.saturating_mul(SLOT_SIZE));
        let first = slot_at(bytes, offset).ok_or(Error::Truncated {
            index,
            offset,
            len: remaining,
            want: SLOT_SIZE,
        })?;
        let raw = RawSlot::read(first, order);
        let op = OpCode(raw.code);
        let dst = Register::from_bits(raw.dst);
        let src = Register::from_bits(raw.src);
        let mut ins = Instruction::new(op, dst, src, raw.off, i64::from(raw.imm));
        if !op.is_load_imm64() {
            return Ok((ins, 1));
        }
        let second = slot_at(bytes, offset + 1).ok_or(Error::Truncated {
            index,
            offset,
            len: remaining,
            want: 2 * SLOT_SIZE,
        })?;
        let hi = RawSlot::read(second, order);
        if hi.code != 0 || hi.dst != 0 || hi.src != 0 || hi.off != 0 {
            return Err(Error::BadLoadImm64 {
                index,
                offset,
                raw: u64::from_be_bytes(second),
            });
        }
        ins.constant = ((u64::from(hi.imm as u32) << 32) | u64::from(raw.imm as u32)) as i64;
        Ok((ins, 2))
    }

    /// The symbol (function or label name) this instruction starts.
    pub fn symbol(&self) -> Option<&str> {
        self.metadata.symbol()
    }

    /// The reference (jump label, callee or map name) this instruction carries.
    pub fn reference(&self) -> Option<&str> {
        self.metadata.reference()
    }

    /// The source line this instruction was compiled from.
    pub fn source(&self) -> Option<&Source> {
        self.metadata.source()
    }

    /// Returns the instruction labelled with `symbol`.
    #[must_use]
    pub fn with_symbol(mut self, symbol: impl Into<Arc<str>>) -> Instruction {
        self.metadata.set_symbol(Some(symbol.into()));
        self
    }

    /// Returns the instruction with `reference` set.
    #[must_use]
    pub fn with_reference(mut self, reference: impl Into<Arc<str>>) -> Instruction {
        self.metadata.set_reference(Some(reference.into()));
        self
    }

    /// Returns the instruction annotated with a source line.
    #[must_use]
    pub fn with_source(mut self, source: Source) -> Instruction {
        self.metadata.set_source(Some(source));
        self
    }

    /// Returns the instruction with its metadata replaced.
    #[must_use]
    pub fn with_metadata(mut self, metadata: Metadata) -> Instruction {
        self.metadata = metadata;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoding, splitting and dropping a big object's instructions is bound by their size:
    /// five words, of which the metadata is three (a shared row table is one pointer).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn five_words() {
        assert_eq!(size_of::<Metadata>(), 24);
        assert_eq!(size_of::<Instruction>(), 40);
    }

    #[test]
    fn nibbles_swap_with_byte_order() {
        let ins = Instruction::new(OpCode(0x0f), Register::R1, Register::R2, 0, 0);
        assert_eq!(
            ins.encode(Endianness::Little).ok(),
            Some(vec![0x0f, 0x21, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(
            ins.encode(Endianness::Big).ok(),
            Some(vec![0x0f, 0x12, 0, 0, 0, 0, 0, 0])
        );
    }

    #[test]
    fn truncated_and_bad_ld_imm64() {
        let bytes = [0x18u8, 1, 0, 0, 1, 0, 0, 0];
        assert!(matches!(
            Instruction::decode(&bytes, Endianness::Little),
            Err(Error::Truncated { want: 16, .. })
        ));
        let bytes = [0x18u8, 1, 0, 0, 1, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            Instruction::decode(&bytes, Endianness::Little),
            Err(Error::BadLoadImm64 { .. })
        ));
        assert!(matches!(
            Instruction::decode(&[], Endianness::Big),
            Err(Error::Truncated { .. })
        ));
    }

    #[test]
    fn constant_out_of_range() {
        let ins = Instruction::new(OpCode(0xb7), Register::R1, Register::R0, 0, 1 << 40);
        assert!(matches!(
            ins.encode(Endianness::Little),
            Err(Error::ConstantOutOfRange { .. })
        ));
    }

    #[test]
    fn map_fd_rewrite_keeps_offset() {
        let mut ins = Instruction::new(
            OpCode::LOAD_IMM64,
            Register::R1,
            PseudoLoad::MapValue.register(),
            0,
            7 << 32,
        );
        ins.set_map_fd(3);
        assert_eq!(ins.map_fd_and_offset(), Some((3, 7)));
    }
}
