//! [`ProgramSpec`]: one loadable program, with its subprograms linked in, as plain data.
//!
//! Instructions carry metadata: the function symbol on each function's first instruction,
//! a reference (map, data section, function or extern name) on relocated instructions, and
//! the `.BTF.ext` records ([`ebpf_btf::FuncInfo`], [`ebpf_btf::LineInfo`],
//! [`ebpf_btf::CoreRelo`]) on the instructions they describe. Their `insn_off` fields keep
//! the byte offset in the original ELF section; the position that counts is the
//! instruction's place in [`ProgramSpec::instructions`].
//!
//! ```
//! # fn main() -> Result<(), ebpf_spec::Error> {
//! let spec = ebpf_spec::CollectionSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/loader-el.o"))?;
//! let p = &spec.programs["socket_prog"];
//! assert_eq!(p.program_type, ebpf_spec::ProgramType::SOCKET_FILTER);
//! assert_eq!(p.instructions[0].symbol(), Some("socket_prog"));
//! assert!(p.instructions.iter().any(|i| i.symbol() == Some("global_helper")));
//! # Ok(()) }
//! ```

use ebpf_asm::{Endianness, Instructions};

use crate::attach_target::AttachTarget;
use crate::section_def::SectionFlags;
use crate::section_name::SectionInfo;
use ebpf_abi::{AttachType, ProgramType};

/// A program, as described by an object file, editable before load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSpec {
    /// The function name.
    pub name: String,
    /// The ELF section name, as written in `SEC("...")` (with a leading `?` if any).
    pub section_name: String,
    /// The program type the section name implies.
    pub program_type: ProgramType,
    /// The expected attach type the section name implies.
    pub attach_type: Option<AttachType>,
    /// The attach target from the section name (function, tracepoint, `path:symbol`).
    pub attach_target: Option<String>,
    /// libbpf's flags for the section name.
    pub section_flags: SectionFlags,
    /// `BPF_F_*` load flags (sleepable, XDP frags).
    pub flags: u32,
    /// Whether the program is loaded with the collection (`false` for `SEC("?...")`).
    pub autoload: bool,
    /// The object's license.
    pub license: String,
    /// The object's `version` section (0 when absent).
    pub kernel_version: u32,
    /// The program followed by every function it calls, transitively.
    pub instructions: Instructions,
    /// The byte order of the object the program came from.
    pub byte_order: Endianness,
}

impl ProgramSpec {
    /// A program of the given type named `name`, with the attributes that the section name
    /// `section_name` implies.
    pub fn new(
        name: impl Into<String>,
        section_name: impl Into<String>,
        instructions: Instructions,
    ) -> ProgramSpec {
        let section_name = section_name.into();
        let info = SectionInfo::parse(&section_name);
        ProgramSpec {
            name: name.into(),
            flags: info.program_flags(),
            program_type: info.program_type,
            attach_type: info.attach_type,
            attach_target: info.attach_target,
            section_flags: info.flags,
            autoload: info.autoload,
            section_name,
            license: String::new(),
            kernel_version: 0,
            instructions,
            byte_order: Endianness::NATIVE,
        }
    }

    /// The attach target, split by kind (tracepoint category and name, uprobe binary and
    /// function, ...).
    pub fn attach_target_parts(&self) -> Option<AttachTarget<'_>> {
        AttachTarget::parse(&self.section_name)
    }

    /// The names of the functions linked in after the program itself, in order.
    pub fn subprograms(&self) -> Vec<&str> {
        self.instructions
            .iter()
            .skip(1)
            .filter_map(|i| i.symbol())
            .collect()
    }
}
