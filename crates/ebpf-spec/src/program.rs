//! [`ProgramSpec`]: one loadable program, with its subprograms linked in, as plain data.
//!
//! Instructions carry metadata: the function symbol on each function's first instruction,
//! a reference (map, data section, function or extern name) on relocated instructions, and
//! the `.BTF.ext` records ([`ebpf_btf::FuncInfo`], [`ebpf_btf::LineInfo`],
//! [`ebpf_btf::CoreRelo`]) on the instructions they describe. Their `insn_off` fields keep
//! the byte offset in the original ELF section; the position that counts is the
//! instruction's place in [`ProgramSpec::instructions`]. A program read from an object
//! keeps its instructions as the object's bytes until they are first used (any access to
//! the list): opening checks them, the first use decodes them (see
//! [`Instructions::deferred`](ebpf_asm::Instructions::deferred)).
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
use smol_str::SmolStr;

use crate::attach_target::AttachTarget;
use crate::section_def::SectionFlags;
use crate::section_name::{SectionInfo, section_defs};
use ebpf_abi::{AttachType, ProgramType};

/// A program, as described by an object file, editable before load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSpec {
    /// The function name.
    pub name: SmolStr,
    /// The ELF section name, as written in `SEC("...")` (with a leading `?` if any).
    pub section_name: SmolStr,
    /// The program type the section name implies.
    pub program_type: ProgramType,
    /// The expected attach type the section name implies.
    pub attach_type: Option<AttachType>,
    /// The attach target from the section name (function, tracepoint, `path:symbol`).
    pub attach_target: Option<SmolStr>,
    /// libbpf's flags for the section name.
    pub section_flags: SectionFlags,
    /// `BPF_F_*` load flags (sleepable, XDP frags).
    pub flags: u32,
    /// Whether the program is loaded with the collection (`false` for `SEC("?...")`).
    pub autoload: bool,
    /// The object's license.
    pub license: SmolStr,
    /// The object's `version` section (0 when absent).
    pub kernel_version: u32,
    /// The program followed by every function it calls, transitively; from an object,
    /// decoded on first access.
    pub instructions: Instructions,
    /// The byte order of the object the program came from.
    pub byte_order: Endianness,
}

impl Default for ProgramSpec {
    /// An empty spec: no name, type or instructions, loaded with its collection, host byte
    /// order. For struct literals, `ProgramSpec { program_type, instructions, ..Default::default() }`.
    fn default() -> ProgramSpec {
        ProgramSpec {
            name: SmolStr::default(),
            section_name: SmolStr::default(),
            program_type: ProgramType::default(),
            attach_type: None,
            attach_target: None,
            section_flags: SectionFlags::NONE,
            flags: 0,
            autoload: true,
            license: SmolStr::default(),
            kernel_version: 0,
            instructions: Instructions::default(),
            byte_order: Endianness::NATIVE,
        }
    }
}

impl ProgramSpec {
    /// A program of `program_type` named `name`, built in code rather than read from an
    /// object: no section name, and the expected attach type the program type implies when
    /// it implies only one ([`ProgramSpec::only_attach_type`]: `CgroupDevice` for
    /// `ProgramType::CGROUP_DEVICE`), so that attaching needs none. Set the rest with
    /// [`attach_type`](ProgramSpec::attach_type), [`license`](ProgramSpec::license) or the
    /// fields.
    ///
    /// ```
    /// use ebpf_asm::{Register::R0, exit, mov64};
    /// use ebpf_spec::{AttachType, ProgramSpec, ProgramType};
    ///
    /// let spec = ProgramSpec::with_type("dev_filter", ProgramType::CGROUP_DEVICE, vec![mov64(R0, 1), exit()].into())
    ///     .license("GPL");
    /// assert_eq!(spec.attach_type, Some(AttachType::CGROUP_DEVICE));
    /// ```
    pub fn with_type(
        name: impl Into<SmolStr>,
        program_type: ProgramType,
        instructions: Instructions,
    ) -> ProgramSpec {
        let attach_type = ProgramSpec::only_attach_type(program_type);
        ProgramSpec {
            name: name.into(),
            program_type,
            attach_type,
            // Like libbpf's SEC_ATTACHABLE_OPT: a kernel without `expected_attach_type`
            // (before 4.17) loads the program without it.
            section_flags: if attach_type.is_some() {
                SectionFlags::EXP_ATTACH_OPT
            } else {
                SectionFlags::NONE
            },
            instructions,
            ..ProgramSpec::default()
        }
    }

    /// Returns the spec with expected attach type `attach_type` (`BPF_PROG_LOAD`'s
    /// `expected_attach_type`, and the attach type of a later cgroup or netns attach),
    /// required at load.
    #[must_use]
    pub fn attach_type(mut self, attach_type: AttachType) -> ProgramSpec {
        self.attach_type = Some(attach_type);
        self.section_flags = self.section_flags.difference(SectionFlags::EXP_ATTACH_OPT);
        self
    }

    /// Returns the spec with license `license` (`"GPL"` for GPL-only helpers).
    #[must_use]
    pub fn license(mut self, license: impl Into<SmolStr>) -> ProgramSpec {
        self.license = license.into();
        self
    }

    /// The expected attach type of every libbpf section name of `program_type`, when they
    /// all name the same one: `CgroupDevice`, `CgroupSysctl`, `SkLookup`, `FlowDissector`,
    /// ... `None` when the sections give none (`socket`, `kprobe`) or several
    /// (`cgroup_skb/ingress` and `egress`, `xdp` and `xdp/devmap`).
    pub fn only_attach_type(program_type: ProgramType) -> Option<AttachType> {
        let mut found = None;
        for def in section_defs()
            .iter()
            .filter(|d| d.program_type == program_type)
        {
            match (found, def.attach_type) {
                (_, None) => return None,
                (Some(f), Some(at)) if f != at => return None,
                (_, at) => found = at,
            }
        }
        found
    }

    /// A program named `name` with the type and attributes that the libbpf section name
    /// `section_name` implies (`"cgroup/dev"`); [`with_type`](ProgramSpec::with_type) takes
    /// the type itself.
    pub fn new(
        name: impl Into<SmolStr>,
        section_name: impl Into<SmolStr>,
        instructions: Instructions,
    ) -> ProgramSpec {
        let section_name = section_name.into();
        let info = SectionInfo::parse(&section_name);
        let target = info.attach_target.as_deref().map(spec_name);
        ProgramSpec::from_section(name.into(), section_name, &info, target, instructions)
    }

    /// [`ProgramSpec::new`] with the section name already parsed into `info`, and its
    /// attach target made a [`SmolStr`]: the programs of one section share both.
    pub(crate) fn from_section(
        name: SmolStr,
        section_name: SmolStr,
        info: &SectionInfo,
        attach_target: Option<SmolStr>,
        instructions: Instructions,
    ) -> ProgramSpec {
        ProgramSpec {
            name,
            flags: info.program_flags(),
            program_type: info.program_type,
            attach_type: info.attach_type,
            attach_target,
            section_flags: info.flags,
            autoload: info.autoload,
            section_name,
            license: SmolStr::default(),
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

/// The longest string a [`SmolStr`] keeps inline (23 bytes since smol_str 0.2; named
/// `SmolStr::INLINE_CAP` only from 0.3.7, which needs a newer Rust than ours).
const SMOL_INLINE: usize = 23;

/// `s` as a [`SmolStr`], kept inline when short enough. `SmolStr::new` copies a short
/// string into a buffer on the stack and reads it back in overlapping words, which stalls
/// on the store just made; `new_inline` writes it in place.
pub(crate) fn spec_name(s: &str) -> SmolStr {
    if s.len() <= SMOL_INLINE {
        SmolStr::new_inline(s)
    } else {
        SmolStr::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_attach_type_follows_the_section_table() {
        let only = ProgramSpec::only_attach_type;
        assert_eq!(
            only(ProgramType::CGROUP_DEVICE),
            Some(AttachType::CGROUP_DEVICE)
        );
        assert_eq!(only(ProgramType::SK_LOOKUP), Some(AttachType::SK_LOOKUP));
        assert_eq!(only(ProgramType::SOCKET_FILTER), None);
        assert_eq!(only(ProgramType::CGROUP_SKB), None);
        assert_eq!(only(ProgramType::XDP), None);
        assert_eq!(only(ProgramType::UNSPEC), None);
        let spec = ProgramSpec::with_type("f", ProgramType::CGROUP_SKB, Instructions::default())
            .attach_type(AttachType::CGROUP_INET_EGRESS)
            .license("GPL");
        assert_eq!(spec.attach_type, Some(AttachType::CGROUP_INET_EGRESS));
        assert_eq!(spec.license, "GPL");
        assert!(spec.autoload);
        assert!(spec.section_name.is_empty());
    }

    #[test]
    fn spec_names_of_any_length_keep_their_text() {
        for len in [0, 1, 22, 23, 24, 100] {
            let s = "x".repeat(len);
            assert_eq!(spec_name(&s), s.as_str());
            assert_eq!(spec_name(&s).is_heap_allocated(), len > SMOL_INLINE);
        }
    }
}
