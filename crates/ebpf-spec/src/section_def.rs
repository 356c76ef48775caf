//! The model of one line of libbpf's section table: how a pattern matches,
//! the flags it carries, and what a match gives. The table itself is
//! generated (`sections.rs`); matching a name is [`crate::SectionInfo`].

use std::fmt;

use ebpf_abi::{AttachType, ProgramType};

/// `BPF_F_SLEEPABLE`: the program may sleep.
#[doc(alias = "BPF_F_SLEEPABLE")]
pub const PROG_FLAG_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS`: the XDP program handles multi-buffer packets.
#[doc(alias = "BPF_F_XDP_HAS_FRAGS")]
pub const PROG_FLAG_XDP_HAS_FRAGS: u32 = 1 << 5;

/// How a [`SectionDef`] matches a section name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionPattern {
    /// The name must be exactly this.
    Exact(&'static str),
    /// The name is this stem, or this stem, `/` and an attach target (libbpf's `stem+`).
    StemOrTarget(&'static str),
    /// The name starts with this (which ends in `/`); the rest is the attach target.
    Prefix(&'static str),
}

impl SectionPattern {
    /// The literal text of the pattern (a matching name starts with it).
    pub(crate) fn text(&self) -> &'static str {
        match *self {
            SectionPattern::Exact(p)
            | SectionPattern::StemOrTarget(p)
            | SectionPattern::Prefix(p) => p,
        }
    }

    /// Matches `name` (without a leading `?`): `None` if it does not match, else the attach
    /// target (`Some(None)` when the name has none).
    pub fn matches<'n>(&self, name: &'n str) -> Option<Option<&'n str>> {
        match *self {
            SectionPattern::Exact(p) => (name == p).then_some(None),
            SectionPattern::StemOrTarget(stem) => {
                let rest = name.strip_prefix(stem)?;
                if rest.is_empty() {
                    Some(None)
                } else {
                    rest.strip_prefix('/').map(Some)
                }
            }
            SectionPattern::Prefix(p) => name.strip_prefix(p).map(Some),
        }
    }
}

impl fmt::Display for SectionPattern {
    /// The pattern as libbpf spells it (`kprobe+`, `socket`, `xdp/`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SectionPattern::Exact(p) | SectionPattern::Prefix(p) => f.write_str(p),
            SectionPattern::StemOrTarget(p) => write!(f, "{p}+"),
        }
    }
}

bitflags::bitflags! {
    /// The flags libbpf attaches to a section pattern (its `enum sec_def_flags`); combine
    /// with `|`.
    #[doc(alias = "sec_def_flags")]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SectionFlags: u32 {
        /// The expected attach type may be dropped on kernels that do not know it.
        #[doc(alias = "SEC_EXP_ATTACH_OPT")]
        const EXP_ATTACH_OPT = 1;
        /// Attached with `BPF_PROG_ATTACH` (informational).
        #[doc(alias = "SEC_ATTACHABLE")]
        const ATTACHABLE = 2;
        /// The attach target is a BTF id (fentry, lsm, iter, ...).
        #[doc(alias = "SEC_ATTACH_BTF")]
        const ATTACH_BTF = 4;
        /// The program is sleepable (`BPF_F_SLEEPABLE`).
        #[doc(alias = "SEC_SLEEPABLE")]
        const SLEEPABLE = 8;
        /// The XDP program supports fragments (`BPF_F_XDP_HAS_FRAGS`).
        #[doc(alias = "SEC_XDP_FRAGS")]
        const XDP_FRAGS = 16;
        /// A USDT probe.
        #[doc(alias = "SEC_USDT")]
        const USDT = 32;
    }
}

impl SectionFlags {
    /// No flag (the same as [`SectionFlags::empty`]).
    #[doc(alias = "SEC_NONE")]
    pub const NONE: SectionFlags = SectionFlags::empty();

    const NAMES: [(SectionFlags, &'static str); 6] = [
        (SectionFlags::EXP_ATTACH_OPT, "exp_attach_opt"),
        (SectionFlags::ATTACHABLE, "attachable"),
        (SectionFlags::ATTACH_BTF, "attach_btf"),
        (SectionFlags::SLEEPABLE, "sleepable"),
        (SectionFlags::XDP_FRAGS, "xdp_frags"),
        (SectionFlags::USDT, "usdt"),
    ];

    /// Whether [`SectionFlags::SLEEPABLE`] is set.
    pub const fn is_sleepable(self) -> bool {
        self.contains(SectionFlags::SLEEPABLE)
    }

    /// The `BPF_F_*` program load flags these section flags imply for `program_type`.
    pub fn program_flags(self, program_type: ProgramType) -> u32 {
        let mut flags = 0;
        if self.contains(SectionFlags::SLEEPABLE) {
            flags |= PROG_FLAG_SLEEPABLE;
        }
        if program_type == ProgramType::XDP && self.contains(SectionFlags::XDP_FRAGS) {
            flags |= PROG_FLAG_XDP_HAS_FRAGS;
        }
        flags
    }
}

impl fmt::Display for SectionFlags {
    /// Comma-separated flag names as in `sections.list`, or `-` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        let mut sep = "";
        for (flag, name) in SectionFlags::NAMES {
            if self.contains(flag) {
                write!(f, "{sep}{name}")?;
                sep = ",";
            }
        }
        Ok(())
    }
}

/// One line of libbpf's section table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SectionDef {
    /// How the name is matched.
    pub pattern: SectionPattern,
    /// The program type a match gives.
    pub program_type: ProgramType,
    /// The expected attach type a match gives, if any.
    pub attach_type: Option<AttachType>,
    /// libbpf's flags for the pattern.
    pub flags: SectionFlags,
}
