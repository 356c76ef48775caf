//! The eleven registers R0-R10 (R10 is the read-only frame pointer), and the five numbers
//! a register field can hold that name no register.

use std::fmt;

use crate::Error;

/// A register. `R10` is the frame pointer, also reachable as [`Register::RFP`].
///
/// In `ld_imm64` and call instructions the source-register field carries a pseudo source
/// instead; see [`crate::PseudoLoad`] and [`crate::PseudoCall`].
///
/// `R11` to `R15` are not registers: they are the other values of the 4-bit register field.
/// The kernel refuses them ("R15 is invalid"), but an object may still contain them (the
/// kernel selftests do, to test exactly that), so decoding keeps them and encoding writes them
/// back unchanged. [`Register::is_defined`] tells them apart; [`Register::ALL`],
/// [`Register::from_u8`] and the assembler's `rN` syntax know only `R0`-`R10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Register {
    /// Return value, and scratch.
    #[default]
    R0 = 0,
    /// First argument.
    R1 = 1,
    /// Second argument.
    R2 = 2,
    /// Third argument.
    R3 = 3,
    /// Fourth argument.
    R4 = 4,
    /// Fifth argument.
    R5 = 5,
    /// Callee saved.
    R6 = 6,
    /// Callee saved.
    R7 = 7,
    /// Callee saved.
    R8 = 8,
    /// Callee saved.
    R9 = 9,
    /// Frame pointer (read only).
    R10 = 10,
    /// Not a register: the field value 11.
    R11 = 11,
    /// Not a register: the field value 12.
    R12 = 12,
    /// Not a register: the field value 13.
    R13 = 13,
    /// Not a register: the field value 14.
    R14 = 14,
    /// Not a register: the field value 15.
    R15 = 15,
}

impl Register {
    /// The frame pointer, `R10`.
    pub const RFP: Register = Register::R10;

    /// Every register, in order (`R0`-`R10`).
    pub const ALL: [Register; 11] = [
        Register::R0,
        Register::R1,
        Register::R2,
        Register::R3,
        Register::R4,
        Register::R5,
        Register::R6,
        Register::R7,
        Register::R8,
        Register::R9,
        Register::R10,
    ];

    /// The register numbered `n`, if `n <= 10`.
    pub const fn from_u8(n: u8) -> Option<Register> {
        if (n as usize) < Register::ALL.len() {
            Some(Register::ALL[n as usize])
        } else {
            None
        }
    }

    /// The value of a 4-bit register field: the low four bits of `bits`, defined register or
    /// not.
    pub const fn from_bits(bits: u8) -> Register {
        match bits & 0x0f {
            0 => Register::R0,
            1 => Register::R1,
            2 => Register::R2,
            3 => Register::R3,
            4 => Register::R4,
            5 => Register::R5,
            6 => Register::R6,
            7 => Register::R7,
            8 => Register::R8,
            9 => Register::R9,
            10 => Register::R10,
            11 => Register::R11,
            12 => Register::R12,
            13 => Register::R13,
            14 => Register::R14,
            _ => Register::R15,
        }
    }

    /// Whether this is one of the eleven registers `R0`-`R10`.
    pub const fn is_defined(self) -> bool {
        (self as u8) <= Register::R10 as u8
    }

    /// The register number.
    pub const fn number(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u8> for Register {
    type Error = Error;

    fn try_from(n: u8) -> Result<Register, Error> {
        Register::from_u8(n).ok_or(Error::InvalidRegister { register: n })
    }
}

impl From<Register> for u8 {
    fn from(r: Register) -> u8 {
        r as u8
    }
}

/// Shows the 64-bit name, `r0`..`r10` (and `r11`..`r15` for the undefined values).
impl fmt::Display for Register {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", *self as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for n in 0..=10u8 {
            assert_eq!(Register::try_from(n).map(u8::from).ok(), Some(n));
        }
        assert!(Register::try_from(11).is_err());
        for bits in 0..=255u8 {
            let r = Register::from_bits(bits);
            assert_eq!(r.number(), bits & 0x0f);
            assert_eq!(r.is_defined(), bits & 0x0f <= 10);
        }
        assert_eq!(Register::R15.to_string(), "r15");
        assert_eq!(Register::RFP, Register::R10);
        assert_eq!(Register::R10.to_string(), "r10");
    }
}
