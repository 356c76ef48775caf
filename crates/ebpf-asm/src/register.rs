//! The eleven registers R0-R10 (R10 is the read-only frame pointer).

use std::fmt;

use crate::Error;

/// A register. `R10` is the frame pointer, also reachable as [`Register::RFP`].
///
/// In `ld_imm64` and call instructions the source-register field carries a pseudo source
/// instead; see [`crate::PseudoLoad`] and [`crate::PseudoCall`].
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
}

impl Register {
    /// The frame pointer, `R10`.
    pub const RFP: Register = Register::R10;

    /// Every register, in order.
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

/// Shows the 64-bit name, `r0`..`r10`.
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
        assert_eq!(Register::RFP, Register::R10);
        assert_eq!(Register::R10.to_string(), "r10");
    }
}
