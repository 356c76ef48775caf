//! The crate's one error type.

/// Why an instruction is not a valid one ([`crate::Instruction::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// The opcode is not defined.
    #[error("unknown opcode {opcode:#04x}")]
    UnknownOpcode {
        /// The opcode byte.
        opcode: u8,
    },
    /// A register field holds 11-15, which names no register.
    #[error("invalid {field} register {register}")]
    Register {
        /// `dst` or `src`.
        field: &'static str,
        /// The number found.
        register: u8,
    },
    /// A field that must hold a fixed value holds another.
    #[error("reserved field {field} is {value}, want {want}")]
    ReservedField {
        /// The field name.
        field: &'static str,
        /// The value found.
        value: i64,
        /// The value required.
        want: i64,
    },
    /// A field holds a value this instruction does not define.
    #[error("invalid {field} {value} for this opcode")]
    InvalidField {
        /// The field name.
        field: &'static str,
        /// The value found.
        value: i64,
    },
}

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A register number above 10.
    #[error("invalid register {register}")]
    InvalidRegister {
        /// The number given.
        register: u8,
    },
    /// The input ends inside an instruction.
    #[error("instruction {index} at offset {offset}: truncated, {len} bytes left of {want}")]
    Truncated {
        /// Index of the instruction (counting `ld_imm64` once).
        index: usize,
        /// Raw offset in 8-byte slots.
        offset: usize,
        /// Bytes left in the input.
        len: usize,
        /// Bytes needed.
        want: usize,
    },
    /// The second half of an `ld_imm64` is not zero apart from its immediate.
    #[error("instruction {index} at offset {offset}: bad second half of ld_imm64 {raw:#018x}")]
    BadLoadImm64 {
        /// Index of the instruction.
        index: usize,
        /// Raw offset in 8-byte slots of the first half.
        offset: usize,
        /// The second half's bytes, read as a big-endian number.
        raw: u64,
    },
    /// A constant that does not fit the 32-bit immediate field.
    #[error("instruction {index}: constant {constant} does not fit 32 bits")]
    ConstantOutOfRange {
        /// Index of the instruction.
        index: usize,
        /// The constant.
        constant: i64,
    },
    /// A jump or call refers to a symbol that no instruction carries.
    #[error("instruction {index}: unresolved reference {reference:?}")]
    UnresolvedReference {
        /// Index of the instruction.
        index: usize,
        /// The reference.
        reference: String,
    },
    /// A resolved jump or call distance does not fit its field.
    #[error("instruction {index}: distance {distance} to {reference:?} does not fit {bits} bits")]
    OffsetOutOfRange {
        /// Index of the instruction.
        index: usize,
        /// The reference.
        reference: String,
        /// The distance in slots.
        distance: i64,
        /// The width of the field.
        bits: u32,
    },
    /// Two instructions carry the same symbol.
    #[error("duplicate symbol {symbol:?} at instructions {first} and {second}")]
    DuplicateSymbol {
        /// The symbol.
        symbol: String,
        /// Index of the first instruction.
        first: usize,
        /// Index of the second one.
        second: usize,
    },
    /// A [`Builder::label`](crate::Builder::label) that no instruction took: another
    /// label, an instruction with its own symbol, or the end of the program came next.
    #[error("label {label:?} labels no instruction: {followed_by} comes next")]
    DanglingLabel {
        /// The label.
        label: String,
        /// What came instead of an unlabelled instruction.
        followed_by: String,
    },
    /// Assembler text that does not parse.
    #[error("line {line}: {message}: {text:?}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
        /// The text in question.
        text: String,
    },
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
