//! Loads and stores: memory access, `ld_imm64` with its pseudo sources, legacy packet loads.

use crate::{Class, Instruction, Mode, OpCode, PseudoLoad, Register, Size};

const fn ld_imm64(dst: Register, pseudo: PseudoLoad, value: i64) -> Instruction {
    Instruction::new(OpCode::LOAD_IMM64, dst, pseudo.register(), 0, value)
}

/// `dst = value ll`: a 64-bit constant (two slots).
pub const fn load_imm64(dst: Register, value: i64) -> Instruction {
    ld_imm64(dst, PseudoLoad::None, value)
}

/// `ld_imm64` with a pseudo source and raw value.
pub const fn load_imm64_pseudo(dst: Register, pseudo: PseudoLoad, value: i64) -> Instruction {
    ld_imm64(dst, pseudo, value)
}

/// Loads the pointer to the map `name` (`BPF_PSEUDO_MAP_FD`); the loader sets the fd.
pub fn load_map_ptr(dst: Register, name: impl AsRef<str>) -> Instruction {
    ld_imm64(dst, PseudoLoad::MapFd, 0).with_reference(name.as_ref())
}

/// Loads the address of `offset` into the value of the map `name` (`BPF_PSEUDO_MAP_VALUE`).
pub fn load_map_value(dst: Register, name: impl AsRef<str>, offset: u32) -> Instruction {
    ld_imm64(dst, PseudoLoad::MapValue, (u64::from(offset) << 32) as i64)
        .with_reference(name.as_ref())
}

/// Loads the pointer to the map with file descriptor `fd`.
pub const fn load_map_fd(dst: Register, fd: i32) -> Instruction {
    ld_imm64(dst, PseudoLoad::MapFd, fd as u32 as i64)
}

/// Loads the address of `offset` into the value of the map with file descriptor `fd`.
pub const fn load_map_value_fd(dst: Register, fd: i32, offset: u32) -> Instruction {
    ld_imm64(
        dst,
        PseudoLoad::MapValue,
        ((offset as u64) << 32 | fd as u32 as u64) as i64,
    )
}

/// Loads the address of the kernel variable with BTF id `id` (`BPF_PSEUDO_BTF_ID`).
pub const fn load_btf_id(dst: Register, id: i32) -> Instruction {
    ld_imm64(dst, PseudoLoad::BtfId, id as u32 as i64)
}

/// Loads the address of the BPF function `name` (`BPF_PSEUDO_FUNC`), resolved when marshalled.
pub fn load_func(dst: Register, name: impl AsRef<str>) -> Instruction {
    ld_imm64(dst, PseudoLoad::Func, -1).with_reference(name.as_ref())
}

/// `dst = *(size *)(src + offset)`.
pub const fn load_mem(dst: Register, src: Register, offset: i16, size: Size) -> Instruction {
    Instruction::new(
        OpCode::load_store(Class::Ldx, Mode::Mem, size),
        dst,
        src,
        offset,
        0,
    )
}

/// `dst = *(sN *)(src + offset)`: sign-extending load (ISA v4; sizes B, H, W).
pub const fn load_mem_sx(dst: Register, src: Register, offset: i16, size: Size) -> Instruction {
    Instruction::new(
        OpCode::load_store(Class::Ldx, Mode::MemSx, size),
        dst,
        src,
        offset,
        0,
    )
}

/// `*(size *)(dst + offset) = src`.
pub const fn store_mem(dst: Register, offset: i16, src: Register, size: Size) -> Instruction {
    Instruction::new(
        OpCode::load_store(Class::Stx, Mode::Mem, size),
        dst,
        src,
        offset,
        0,
    )
}

/// `*(size *)(dst + offset) = value`.
pub const fn store_imm(dst: Register, offset: i16, value: i32, size: Size) -> Instruction {
    Instruction::new(
        OpCode::load_store(Class::St, Mode::Mem, size),
        dst,
        Register::R0,
        offset,
        value as i64,
    )
}

/// Legacy `r0 = *(size *)skb[offset]` (sizes B, H, W).
pub const fn load_abs(size: Size, offset: i32) -> Instruction {
    Instruction::new(
        OpCode::load_store(Class::Ld, Mode::Abs, size),
        Register::R0,
        Register::R0,
        0,
        offset as i64,
    )
}

/// Legacy `r0 = *(size *)skb[src + offset]` (sizes B, H, W).
pub const fn load_ind(size: Size, src: Register, offset: i32) -> Instruction {
    Instruction::new(
        OpCode::load_store(Class::Ld, Mode::Ind, size),
        Register::R0,
        src,
        0,
        offset as i64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Endianness;

    #[test]
    fn builders() {
        let ins = load_map_value(Register::R1, "m", 8);
        assert_eq!(ins.reference(), Some("m"));
        assert_eq!(ins.map_fd_and_offset(), Some((0, 8)));
        assert_eq!(
            load_map_value_fd(Register::R1, 3, 8).map_fd_and_offset(),
            Some((3, 8))
        );
        assert_eq!(
            load_imm64(Register::R1, 0x1122_3344_5566_7788)
                .encode(Endianness::Little)
                .ok(),
            Some(vec![
                0x18, 1, 0, 0, 0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11
            ])
        );
        for i in [
            load_map_ptr(Register::R1, "m"),
            load_map_fd(Register::R1, 3),
            load_btf_id(Register::R1, 9),
            load_func(Register::R1, "f"),
            load_mem(Register::R1, Register::R2, -4, Size::DW),
            load_mem_sx(Register::R1, Register::R2, 4, Size::B),
            store_mem(Register::R10, -8, Register::R1, Size::W),
            store_imm(Register::R10, -8, 5, Size::H),
            load_abs(Size::W, 4),
            load_ind(Size::B, Register::R1, 0),
            load_imm64_pseudo(Register::R1, PseudoLoad::MapIdx, 2),
        ] {
            assert_eq!(i.validate(), Ok(()), "{i:?}");
        }
        assert!(
            load_mem_sx(Register::R1, Register::R2, 4, Size::DW)
                .validate()
                .is_err()
        );
        assert!(load_abs(Size::DW, 4).validate().is_err());
    }
}
