//! The one error type of this crate.
//!
//! Messages are lowercase and path-like: they name the section, symbol, map or program and
//! the offset at fault.
//!
//! ```
//! use ebpf_spec::Error;
//! let e = Error::SymbolNotFound { section: "xdp".into(), index: 3, symbol: "foo".into() };
//! assert_eq!(e.to_string(), "section 'xdp': relocation 3: symbol 'foo' not found");
//! ```

/// Something in an ELF object that `ebpf-spec` cannot turn into a spec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ELF container itself is malformed (goblin's message).
    #[error("elf: {0}")]
    Elf(String),
    /// Not a relocatable eBPF object.
    #[error("elf: not a bpf object: {reason}")]
    NotBpf {
        /// What is wrong (machine, type, class).
        reason: String,
    },
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A section's data lies outside the file.
    #[error(
        "section '{section}': data at offset {offset} size {size} past end of file ({len} bytes)"
    )]
    SectionOutOfBounds {
        /// The section.
        section: String,
        /// Its file offset.
        offset: u64,
        /// Its size.
        size: u64,
        /// The file size.
        len: usize,
    },
    /// The object's global data and map contents need more memory than
    /// [`Limits::max_data_bytes`](crate::Limits::max_data_bytes) allows.
    #[error(
        "global data and map contents need {total} bytes, more than the limit of {limit} (largest: {largest})"
    )]
    DataTooLarge {
        /// The bytes asked for.
        total: u64,
        /// The limit.
        limit: u64,
        /// The largest sections or maps with their sizes.
        largest: String,
    },
    /// A section is malformed (size not a multiple of 8 for code, ...).
    #[error("section '{section}': {reason}")]
    BadSection {
        /// The section.
        section: String,
        /// What is wrong.
        reason: String,
    },
    /// A symbol is malformed or points outside its section.
    #[error("section '{section}': symbol '{symbol}': {reason}")]
    BadSymbol {
        /// The section the symbol belongs to.
        section: String,
        /// The symbol.
        symbol: String,
        /// What is wrong.
        reason: String,
    },
    /// A relocation names a symbol index that does not exist.
    #[error("section '{section}': relocation {index}: symbol '{symbol}' not found")]
    SymbolNotFound {
        /// The section being relocated.
        section: String,
        /// The relocation's index in its relocation section.
        index: usize,
        /// The symbol (or its index when it has no name).
        symbol: String,
    },
    /// A relocation cannot be applied.
    #[error(
        "section '{section}': relocation {index} at offset {offset}: symbol '{symbol}': {reason}"
    )]
    BadRelocation {
        /// The section being relocated.
        section: String,
        /// The relocation's index in its relocation section.
        index: usize,
        /// The byte offset of the relocated location.
        offset: u64,
        /// The symbol.
        symbol: String,
        /// What is wrong.
        reason: String,
    },
    /// A relocation type this crate does not know.
    #[error(
        "section '{section}': relocation {index} at offset {offset}: unknown relocation type {kind}"
    )]
    UnknownRelocation {
        /// The section being relocated.
        section: String,
        /// The relocation's index.
        index: usize,
        /// The byte offset of the relocated location.
        offset: u64,
        /// The raw type (`R_BPF_*`).
        kind: u32,
    },
    /// Instructions could not be decoded.
    #[error("section '{section}': {source}")]
    Instructions {
        /// The section.
        section: String,
        /// The decoder's error.
        source: ebpf_asm::Error,
    },
    /// A program is declared `static` in a program section (libbpf refuses these too).
    #[error("section '{section}': program '{program}' is static, which is not supported")]
    StaticProgram {
        /// The section.
        section: String,
        /// The function.
        program: String,
    },
    /// A map is declared `static`.
    #[error("section '{section}': map '{map}' is static, which is not supported")]
    StaticMap {
        /// The section.
        section: String,
        /// The map.
        map: String,
    },
    /// `.BTF` or `.BTF.ext` could not be parsed or is inconsistent with the ELF.
    #[error("{section}: {source}")]
    Btf {
        /// `.BTF`, `.BTF.ext` or the datasec at fault.
        section: String,
        /// The BTF error.
        source: ebpf_btf::Error,
    },
    /// The BTF does not describe something the ELF has (or the other way round).
    #[error("{section}: {reason}")]
    BtfMismatch {
        /// The section or datasec.
        section: String,
        /// What is wrong.
        reason: String,
    },
    /// A BTF map definition is malformed.
    #[error("section '.maps': map '{map}': {reason}")]
    BadMapDefinition {
        /// The map.
        map: String,
        /// What is wrong.
        reason: String,
    },
    /// A legacy `maps` section is malformed.
    #[error("section '{section}': {reason}")]
    BadLegacyMaps {
        /// The section (`maps` or `maps/...`).
        section: String,
        /// What is wrong.
        reason: String,
    },
    /// A program calls or takes the address of a function that does not exist.
    #[error("program '{program}': function '{function}' not found")]
    MissingFunction {
        /// The calling program.
        program: String,
        /// The missing function.
        function: String,
    },
    /// A program refers to a map that the object does not define.
    #[error("program '{program}': map '{map}' not found")]
    MissingMap {
        /// The program.
        program: String,
        /// The missing map.
        map: String,
    },
    /// Two functions (or programs) have the same name.
    #[error("section '{section}': function '{function}': duplicate name")]
    DuplicateFunction {
        /// The section of the second definition.
        section: String,
        /// The function.
        function: String,
    },
    /// An extern (`__kconfig`, `__ksym`) needs BTF, or is not described by it.
    #[error("extern '{name}': {reason}")]
    BadExtern {
        /// The extern symbol.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A variable accessor failed (unknown name, size mismatch, read-only section).
    #[error("variable '{name}': {reason}")]
    Variable {
        /// The variable.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
